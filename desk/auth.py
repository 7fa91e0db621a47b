"""Who is asking: a bearer token (the JSON API) or the session cookie
(the pages), the role each route needs, and CSRF protection for every
cookie-authenticated change."""
from __future__ import annotations

import functools
import hmac
from typing import Optional

from sanic.response import json, redirect

from billing import db, staff
from desk.app import run_sync

COOKIE = "desk_session"
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
            from desk.app import page as render

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


def sign_in(username: str, password: str, remote: str) -> tuple[Optional[str], Optional[staff.SignedIn], Optional[str]]:
    """(token, user, problem)."""
    with db.session_scope() as session:
        try:
            found = staff.authenticate(session, username, password, remote)
        except staff.TooManyAttempts:
            return None, None, "too_many"
        if found is None:
            return None, None, "wrong"
        token = staff.start_session(session, found)
        return token, staff.signed_in(session, token), None


def sign_out(token: str) -> None:
    with db.session_scope() as session:
        staff.end_session(session, token)
