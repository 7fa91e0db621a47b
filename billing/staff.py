"""The program's staff in the desk: users and roles, password checks
with a lockout on repeated failures, sessions, and the audit log of
every desk action."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import DeskAuditEntry, LoginAttempt, StaffSession, StaffUser, utcnow

ROLES = ("agent", "supervisor", "admin")
DEMO_USERS = (
    ("alex", "Alex Rivera", "agent", "alex-demo-pass"),
    ("sam", "Sam Okafor", "supervisor", "sam-demo-pass"),
)
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 10
# five failures for one user name (or from one address) within 15 minutes
# refuse further tries until the window has passed
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


class StaffError(ValueError):
    """reason: bad_username, bad_role, weak_password, exists, production"""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TooManyAttempts(Exception):
    pass


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$%d$%d$%d$%s$%s" % (
        _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"], base64.b64encode(salt).decode(), base64.b64encode(digest).decode(),
    )


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, base64.b64decode(digest))


def production_mode() -> bool:
    return os.environ.get("SELFPAY_MODE", "").lower() == "production"


def add_user(session: Session, username: str, display_name: str, role: str, password: str, *, created_by: str) -> StaffUser:
    username = (username or "").strip().lower()
    if not username or not username.replace("-", "").replace(".", "").replace("_", "").isalnum() or len(username) > 64:
        raise StaffError("bad_username")
    if role not in ROLES:
        raise StaffError("bad_role")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError("weak_password")
    if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise StaffError("exists")
    user = StaffUser(username=username, display_name=(display_name or username).strip()[:200], role=role,
                     password_hash=hash_password(password), created_by=created_by)
    session.add(user)
    session.flush()
    record(session, created_by, "user.add", f"user:{username}", None, {"role": role, "display_name": user.display_name})
    return user


def add_demo_users(session: Session) -> int:
    """The demo desk users: only with the demo data, never in production."""
    if production_mode():
        raise StaffError("production")
    added = 0
    for username, name, role, password in DEMO_USERS:
        if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first() is None:
            add_user(session, username, name, role, password, created_by="seed:demo")
            added += 1
    return added


def _recent_failures(session: Session, username: str, remote: str, now: dt.datetime) -> int:
    since = now - FAILURE_WINDOW
    by_name = session.execute(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.username == username, LoginAttempt.at >= since,
                                                  LoginAttempt.succeeded.is_(False))
    ).scalar_one()
    by_remote = session.execute(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.remote == remote, LoginAttempt.at >= since,
                                                  LoginAttempt.succeeded.is_(False))
    ).scalar_one()
    return max(by_name, by_remote)


def authenticate(session: Session, username: str, password: str, remote: str, now: Optional[dt.datetime] = None) -> Optional[StaffUser]:
    """The user when the password matches; None when it does not;
    TooManyAttempts while failures in the window are at the limit."""
    now = now or utcnow()
    username = (username or "").strip().lower()[:64]
    remote = (remote or "unknown")[:64]
    if _recent_failures(session, username, remote, now) >= MAX_FAILURES:
        raise TooManyAttempts()
    user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    ok = user is not None and user.active and password_matches(password or "", user.password_hash)
    if user is None:
        # the same work either way, so timing does not tell which names exist
        password_matches(password or "", hash_password("not-a-user"))
    session.add(LoginAttempt(at=now, username=username, remote=remote, succeeded=ok))
    session.flush()
    return user if ok else None


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str
    session_id: int


def _token_hash(token: str) -> str:
    # keyed with DESK_SECRET: the table alone does not let anyone check a guessed token
    key = (os.environ.get("DESK_SECRET") or "local-dev-desk-secret").encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def start_session(session: Session, user: StaffUser, now: Optional[dt.datetime] = None) -> str:
    """A new session; returns the token (only its hash is kept)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                             created_at=now, expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
    session.flush()
    record(session, user.username, "session.start", f"user:{user.username}", None, None)
    return token


def signed_in(session: Session, token: Optional[str], now: Optional[dt.datetime] = None) -> Optional[SignedIn]:
    if not token:
        return None
    row = session.execute(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).scalar_one_or_none()
    now = now or utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now or not row.user.active:
        return None
    user = row.user
    return SignedIn(user.id, user.username, user.display_name, user.role, row.csrf_token, row.id)


def end_session(session: Session, token: str) -> None:
    row = session.execute(select(StaffSession).where(StaffSession.token_hash == _token_hash(token))).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        record(session, row.user.username, "session.end", f"user:{row.user.username}", None, None)


def record(session: Session, actor: str, action: str, target: str, before, after) -> DeskAuditEntry:
    """One line of the desk audit log."""
    entry = DeskAuditEntry(actor=actor, action=action, target=target[:200], before=before, after=after)
    session.add(entry)
    session.flush()
    return entry


def audit_log(session: Session, limit: int = 500, actor: Optional[str] = None) -> list[DeskAuditEntry]:
    query = select(DeskAuditEntry)
    if actor:
        query = query.where(DeskAuditEntry.actor == actor)
    return list(session.execute(query.order_by(DeskAuditEntry.id.desc()).limit(limit)).scalars())
