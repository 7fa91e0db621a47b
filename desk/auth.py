"""Who is asking: a bearer token (the JSON API) or the session cookie
(the pages), the role each route needs, CSRF protection for every
cookie-authenticated change and for the sign-in form, the sign-in
lockout (billing.staff), and who may read which transcript."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Optional

from sanic.response import json, redirect

from billing import clock, db, staff
from desk.web import page as render, run_sync
from selfpay import settings

COOKIE = "desk_session"
# the sign-in form's own CSRF token: a nonce in this cookie, its keyed hash in the form
LOGIN_COOKIE = "desk_login"
# how long a limited address waits for the answer to a wrong password
SLOW_ANSWER_SECONDS = 2.0
# who may do what: a route names the lowest role it needs
RANK = {"agent": 1, "supervisor": 2, "admin": 3}


def _token(request) -> tuple[Optional[str], bool]:
    """(token, from_cookie)."""
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    return request.cookies.get(COOKIE), True


def _lookup(token: Optional[str]) -> Optional[staff.SignedIn]:
    with db.session_scope() as session:
        return staff.signed_in(session, token)


def csrf_ok(request, user: staff.SignedIn) -> bool:
    sent = request.headers.get("x-csrf-token") or (request.form.get("csrf_token") if request.form else None) or ""
    return hmac.compare_digest(sent.encode(), user.csrf_token.encode())


async def current_user(request) -> tuple[Optional[staff.SignedIn], bool]:
    token, from_cookie = _token(request)
    return await run_sync(_lookup, token), from_cookie


def api(role: str = "agent"):
    """A JSON route: 401 without a valid session, 403 below ``role`` or,
    for a change made with the cookie, without the CSRF token."""

    def decorate(handler):
        @functools.wraps(handler)
        async def wrapper(request, *args, **kwargs):
            user, from_cookie = await current_user(request)
            if user is None:
                return json({"error": "sign in first: POST /api/login, then send Authorization: Bearer <token>"}, status=401)
            if RANK[user.role] < RANK[role]:
                return json({"error": f"this needs the {role} role"}, status=403)
            if from_cookie and request.method not in ("GET", "HEAD") and not csrf_ok(request, user):
                return json({"error": "missing or wrong CSRF token"}, status=403)
            request.ctx.user = user
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate


def page(role: str = "agent"):
    """A page: to the login page without a session; 403 page below ``role``;
    every POST must carry the session's CSRF token."""

    def decorate(handler):
        @functools.wraps(handler)
        async def wrapper(request, *args, **kwargs):
            user, _ = await current_user(request)
            if user is None:
                return redirect("/desk/login?next=" + request.path)
            if RANK[user.role] < RANK[role]:
                return render("desk_forbidden.html", status=403, user=user, needed=role)
            if request.method == "POST" and not csrf_ok(request, user):
                return render("desk_forbidden.html", status=403, user=user, needed=None,
                              problem="This form has expired or did not come from the desk. Go back, reload the page and try again.")
            request.ctx.user = user
            return await handler(request, *args, **kwargs)

        return wrapper

    return decorate


@dataclass(frozen=True)
class SignInResult:
    token: Optional[str] = None
    user: Optional[staff.SignedIn] = None
    problem: Optional[str] = None   # wrong, locked, slow_down (a wrong password from a limited address)
    retry_after: int = 0            # seconds, for locked and slow_down

    def words(self) -> str:
        if self.problem == "locked":
            minutes = max(1, math.ceil(self.retry_after / 60))
            return (f"This user name is locked after too many wrong passwords. Try again in {minutes} minutes, "
                    "or ask a supervisor.")
        if self.problem == "slow_down":
            return "Wrong user name or password. Too many failed sign-ins from your network: wait a minute before trying again."
        return "Wrong user name or password."

    @property
    def status(self) -> int:
        return 429 if self.problem in ("locked", "slow_down") else 401


def _sign_in(username: str, password: str, remote: str) -> SignInResult:
    with db.session_scope() as session:
        now = clock.utcnow()
        try:
            found = staff.authenticate(session, username, password, remote, now=now)
        except staff.TooManyAttempts as locked:
            return SignInResult(problem="locked", retry_after=max(1, math.ceil((locked.until - now).total_seconds())))
        if found is None:
            if staff.address_limited(session, remote, now):
                return SignInResult(problem="slow_down", retry_after=60)
            return SignInResult(problem="wrong")
        token = staff.start_session(session, found)
        return SignInResult(token=token, user=staff.signed_in(session, token))


async def sign_in(username: str, password: str, remote: str) -> SignInResult:
    """Check the password (billing.staff's lockout by user name); a wrong
    one from a limited address is answered slowly, a right one never is."""
    result = await run_sync(_sign_in, username, password, remote)
    if result.problem == "slow_down":
        await asyncio.sleep(SLOW_ANSWER_SECONDS)
    return result


# --- the sign-in form's CSRF token --------------------------------------------

def _login_key() -> bytes:
    return ("login-form:" + settings.get("DESK_SECRET")).encode()


def login_form_token(nonce: str) -> str:
    return hmac.new(_login_key(), nonce.encode(), hashlib.sha256).hexdigest()


def new_login_form() -> tuple[str, str]:
    """(the cookie's nonce, the form's token)."""
    nonce = secrets.token_urlsafe(24)
    return nonce, login_form_token(nonce)


def login_form_ok(request) -> bool:
    """The sign-in form came from our page in this browser: its token is
    the keyed hash of the nonce in this browser's sign-in cookie."""
    nonce = request.cookies.get(LOGIN_COOKIE) or ""
    sent = (request.form.get("csrf_token") if request.form else None) or ""
    return bool(nonce) and hmac.compare_digest(sent.encode(), login_form_token(nonce).encode())


# --- transcripts ----------------------------------------------------------------

def _may_read(user: staff.SignedIn, conversation_id: str) -> bool:
    with db.session_scope() as session:
        return staff.may_read_conversation(session, user, conversation_id)


async def may_read(user: staff.SignedIn, conversation_id: str) -> bool:
    """Agents read the transcripts they handle or that wait in their queues; supervisors all."""
    if user.role != "agent":
        return True
    return await run_sync(_may_read, user, conversation_id)


NOT_YOURS = ("You can read a conversation while it waits in your queue or once it is yours; "
             "a supervisor can read every conversation.")


def sign_out(token: str) -> None:
    with db.session_scope() as session:
        staff.end_session(session, token)
