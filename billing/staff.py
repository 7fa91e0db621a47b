"""The program's staff in the desk: users, roles and the queues they
work, password checks with a lockout on repeated failures, sessions,
who may read which transcript, and the audit log of every desk action.

Sign-in failures are counted two ways.  Per user name: after
``MAX_FAILURES`` wrong passwords within ``FAILURE_WINDOW`` that name is
locked for ``LOCK_DURATION``, whoever asks and from wherever (tries while
it is locked are not counted, so they do not lengthen it).  Per address:
after ``ADDRESS_FAILURES`` failures from one address it is *limited*: the
desk answers its wrong passwords slowly and with 429, but a right
password for a name that is not locked still signs in, so an attacker
behind a shared address (an office NAT) cannot lock out the people
behind it; what bounds guessing is the per-name lock."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.language import SPOKEN
from billing.refused import Refused
from billing.models import DeskAuditEntry, Handoff, LoginAttempt, StaffSession, StaffUser, utcnow
from billing.vocabulary import HandoffStatus
from selfpay import settings

ROLES = ("agent", "supervisor", "admin")
# the handoff queues (billing/handoffs.py); an agent works the ones named, or every one
DEPARTMENTS = ("billing", "insurance", "financial_counseling", "disputes")
# (user name, name, role, password, the languages they speak, best first)
DEMO_USERS = (
    ("alex", "Alex Rivera", "agent", "alex-demo-pass", ("en",)),
    ("sam", "Sam Okafor", "supervisor", "sam-demo-pass", ("en",)),
    ("sofia", "Sofía Morales", "agent", "sofia-demo-pass", ("es", "en")),
)
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 10
# five failures for one user name within 15 minutes lock that name for 15 minutes;
# twenty from one address within 15 minutes limit (slow) that address
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_DURATION = dt.timedelta(minutes=15)
ADDRESS_FAILURES = 20
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}


class StaffError(Refused):
    """reason: bad_username, bad_role, bad_department, bad_language, weak_password, exists, production, unknown"""


class TooManyAttempts(Exception):
    """The user name is locked until ``until``."""

    def __init__(self, until: dt.datetime):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


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
    return (settings.get("SELFPAY_MODE") or "").lower() == "production"


def read_languages(languages) -> tuple:
    """The languages a user speaks, in order, each one the assistant speaks
    ("es,en" or ["es", "en"]); none named is English."""
    if isinstance(languages, str):
        languages = languages.replace(",", " ").split()
    codes = []
    for code in (str(c).strip().lower() for c in (languages or ())):
        if code and code not in codes:
            codes.append(code)
    if any(code not in SPOKEN for code in codes):
        raise StaffError("bad_language")
    return tuple(codes) or ("en",)


def add_user(session: Session, username: str, display_name: str, role: str, password: str, *, created_by: str,
             departments=None, languages=None) -> StaffUser:
    """A desk user; ``departments`` are the queues an agent works (none: every queue),
    ``languages`` the languages they speak, the one they read best first (none: English)."""
    username = (username or "").strip().lower()
    if not username or not username.replace("-", "").replace(".", "").replace("_", "").isalnum() or len(username) > 64:
        raise StaffError("bad_username")
    if role not in ROLES:
        raise StaffError("bad_role")
    queues = sorted({str(d).strip() for d in (departments or ()) if str(d).strip()})
    if any(d not in DEPARTMENTS for d in queues):
        raise StaffError("bad_department")
    spoken = read_languages(languages)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise StaffError("weak_password")
    if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first():
        raise StaffError("exists")
    user = StaffUser(username=username, display_name=(display_name or username).strip()[:200], role=role,
                     departments=" ".join(queues) or None, languages=" ".join(spoken),
                     password_hash=hash_password(password), created_by=created_by)
    session.add(user)
    session.flush()
    record(session, created_by, "user.add", f"user:{username}", None,
           {"role": role, "display_name": user.display_name, "departments": queues or "all", "languages": list(spoken)})
    return user


def set_languages(session: Session, username: str, languages, *, actor: str) -> StaffUser:
    """Change the languages a user speaks (audited)."""
    user = session.execute(select(StaffUser).where(StaffUser.username == _name(username))).scalar_one_or_none()
    if user is None:
        raise StaffError("unknown")
    spoken = read_languages(languages)
    before = (user.languages or "en").split()
    user.languages = " ".join(spoken)
    session.flush()
    record(session, actor, "user.languages", f"user:{user.username}", {"languages": before}, {"languages": list(spoken)})
    return user


def add_demo_users(session: Session) -> int:
    """The demo desk users: only with the demo data, never in production."""
    if production_mode():
        raise StaffError("production")
    added = 0
    for username, name, role, password, spoken in DEMO_USERS:
        if session.execute(select(StaffUser.id).where(StaffUser.username == username)).first() is None:
            add_user(session, username, name, role, password, created_by="seed:demo", languages=spoken)
            added += 1
    return added


def _name(username: str) -> str:
    return (username or "").strip().lower()[:64]


def locked_until(session: Session, username: str, now: Optional[dt.datetime] = None) -> Optional[dt.datetime]:
    """When the lock on this user name ends, if it is locked now: five
    failures within the window (since its last success) lock it from the
    fifth on, for LOCK_DURATION."""
    now = now or utcnow()
    username = _name(username)
    last_ok = session.execute(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.succeeded.is_(True))).scalar_one()
    since = now - FAILURE_WINDOW - LOCK_DURATION
    if last_ok is not None and last_ok > since:
        since = last_ok
    failures = list(session.execute(select(LoginAttempt.at).where(
        LoginAttempt.username == username, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since,
        LoginAttempt.at <= now).order_by(LoginAttempt.at, LoginAttempt.id)).scalars())
    until = None
    for n in range(MAX_FAILURES - 1, len(failures)):
        if failures[n] - failures[n - MAX_FAILURES + 1] <= FAILURE_WINDOW:
            until = failures[n] + LOCK_DURATION
    return until if until is not None and until > now else None


def address_limited(session: Session, remote: str, now: Optional[dt.datetime] = None) -> bool:
    """Whether this address has had ADDRESS_FAILURES failures in the window
    (its wrong passwords are then answered slowly; a right one still works)."""
    now = now or utcnow()
    failures = session.execute(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.remote == (remote or "unknown")[:64], LoginAttempt.succeeded.is_(False),
        LoginAttempt.at > now - FAILURE_WINDOW, LoginAttempt.at <= now)).scalar_one()
    return failures >= ADDRESS_FAILURES


def authenticate(session: Session, username: str, password: str, remote: str, now: Optional[dt.datetime] = None) -> Optional[StaffUser]:
    """The user when the password matches; None when it does not;
    TooManyAttempts while the user name is locked (from any address).
    The address never refuses a right password (see address_limited)."""
    now = now or utcnow()
    username = _name(username)
    remote = (remote or "unknown")[:64]
    until = locked_until(session, username, now)
    if until is not None:
        raise TooManyAttempts(until)
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
    departments: tuple = ()  # the queues an agent works; () is every queue
    languages: tuple = ("en",)  # the languages they speak, the one they read best first

    @property
    def reads(self) -> str:
        """The language the desk writes summaries in for this user."""
        return self.languages[0] if self.languages else "en"


def _token_hash(token: str) -> str:
    # keyed with DESK_SECRET: the table alone does not let anyone check a guessed token
    key = settings.get("DESK_SECRET").encode()
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
    return SignedIn(user.id, user.username, user.display_name, user.role, row.csrf_token, row.id,
                    tuple((user.departments or "").split()), tuple((user.languages or "en").split()) or ("en",))


def serves(user: SignedIn, department: str) -> bool:
    """Whether a waiting handoff in ``department`` is in this user's queues."""
    return user.role != "agent" or not user.departments or department in user.departments


def speakers_on_shift(session: Session, language: str, department: str, now: Optional[dt.datetime] = None) -> List[str]:
    """The agents on shift now (signed in to the desk: a session not ended
    or expired) who speak ``language`` and work ``department``'s queue."""
    now = now or utcnow()
    rows = session.execute(select(StaffUser).join(StaffSession, StaffSession.user_id == StaffUser.id).where(
        StaffUser.active.is_(True), StaffUser.role == "agent", StaffSession.ended_at.is_(None),
        StaffSession.created_at <= now, StaffSession.expires_at > now)).scalars().unique().all()
    return sorted({u.username for u in rows if language in (u.languages or "en").split()
                   and (not u.departments or department in u.departments.split())})


def may_read_conversation(session: Session, user: SignedIn, conversation_id: str) -> bool:
    """Supervisors (and admins) read every transcript; an agent reads the
    conversations they handle (a handoff they claimed) and those waiting
    in their queues, nothing else."""
    if user.role != "agent":
        return True
    for handoff in session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)).scalars():
        if handoff.claimed_by == user.username:
            return True
        if handoff.status == HandoffStatus.WAITING and serves(user, handoff.department):
            return True
    return False


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
