"""Handoffs: a conversation handed to a partner.

The bot opens one (with a summary written for the partner), partners
claim it from their department's queue and close it with a disposition.
What was said stays in the tracker store; this module holds the queue,
the wait a patient is told, and the partner hours a client keeps."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, staff
from billing.clients import ClientInfo
from billing.models import Handoff, utcnow
from billing.money import format_money
from billing.policy import DAYS
from billing.refused import Refused
from billing.vocabulary import HandoffStatus

DEPARTMENTS = staff.DEPARTMENTS  # the queues partners work (an agent may work some of them)
DEPARTMENT_NAMES = {
    "billing": "billing",
    "insurance": "insurance",
    "financial_counseling": "financial counseling",
    "disputes": "disputes",
}
REASONS = {
    "asked_for_person": "asked for a person",
    "repeated_fallback": "the assistant did not understand twice in a row",
    "verification_locked": "identity could not be verified (locked after the allowed attempts)",
    "voice_silence": "no answer heard on the call",
    "dispute": "disputes a charge",
    "outside_policy": "asked for something outside the client's policy",
}
DISPOSITIONS = ("paid", "plan_set_up", "dispute_opened", "information_given", "callback", "transferred", "unresolved")
OPEN = (HandoffStatus.WAITING, HandoffStatus.ACTIVE)

# what a patient may name when asking for a person ("someone in financial counseling")
_DEPARTMENT_OF_ENTITY = {
    "financial_counseling": "financial_counseling",
    "patient_relations": "disputes",
    "billing": "billing",
    "insurance": "insurance",
}
DEFAULT_WAIT_MINUTES = 3


class HandoffError(Refused):
    """reason: unknown, not_waiting, not_open, not_yours, bad_disposition"""


def department_for(topic: Optional[str] = None, named: Optional[str] = None) -> str:
    """The queue for a conversation: the department the patient named,
    else the queue of the conversation's topic (which the caller knows),
    else billing."""
    if named in _DEPARTMENT_OF_ENTITY:
        return _DEPARTMENT_OF_ENTITY[named]
    if topic in DEPARTMENTS:
        return topic
    return "billing"


# --- partner hours ---------------------------------------------------------

def partners_available(client: ClientInfo, now: Optional[dt.datetime] = None) -> bool:
    """Whether the client's partners are working now (their local time)."""
    hours = client.policy.partner_hours
    if hours is None:
        return True
    local = (now or clock.now_aware()).astimezone(ZoneInfo(client.timezone))
    span = hours.get(DAYS[local.weekday()])
    if span is None:
        return False
    return span[0] <= local.strftime("%H:%M") < span[1]


def _clock(hhmm: str) -> str:
    hour, minute = (int(x) for x in hhmm.split(":"))
    suffix = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    return f"{hour12}:{minute:02d} {suffix}" if minute else f"{hour12} {suffix}"


def hours_text(client: ClientInfo) -> str:
    """The hours in words: "Monday to Friday 8 AM to 8 PM, Saturday 9 AM to 1 PM"."""
    hours = client.policy.partner_hours
    if hours is None:
        return "every day, around the clock"
    names = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
    runs: List[tuple[str, str, tuple[str, str]]] = []
    for day in DAYS:
        span = hours.get(day)
        if span is None:
            continue
        if runs and runs[-1][2] == span and DAYS.index(runs[-1][1]) == DAYS.index(day) - 1:
            runs[-1] = (runs[-1][0], day, span)
        else:
            runs.append((day, day, span))
    parts = []
    for first, last, (start, end) in runs:
        days = names[first] if first == last else f"{names[first]} to {names[last]}"
        parts.append(f"{days} {_clock(start)} to {_clock(end)}")
    return ", ".join(parts)


# --- the summary a partner reads -------------------------------------------

@dataclass
class Facts:
    """What the bot knows when it hands off, gathered from the conversation."""

    reason: str
    channel: str
    phone: Optional[str] = None
    patient_name: Optional[str] = None
    verified_by: Optional[str] = None  # "date of birth and account number"
    account_number: Optional[str] = None
    balance: Optional[Decimal] = None
    plan: Optional[str] = None
    asked: List[str] = field(default_factory=list)  # the patient's words, latest last
    tried: List[str] = field(default_factory=list)  # what the bot did, in words


def summary_text(facts: Facts) -> str:
    """The summary partners read in the desk and hear in a call's whisper."""
    lines = []
    if facts.patient_name and facts.verified_by:
        lines.append(f"Patient: {facts.patient_name}, verified by {facts.verified_by}.")
    else:
        lines.append("Patient: not verified. Verify identity before discussing the account.")
    contact = f"Channel: {facts.channel}"
    if facts.phone:
        contact += f" from {facts.phone}"
    lines.append(contact + ".")
    if facts.account_number and facts.verified_by:
        account = f"Account {facts.account_number}"
        if facts.balance is not None:
            account += f", balance {format_money(facts.balance)}"
        if facts.plan:
            account += f", {facts.plan}"
        lines.append(account + ".")
    lines.append(f"Handed off because the patient {REASONS.get(facts.reason, facts.reason)}.")
    if facts.asked:
        lines.append("Asked: " + "; ".join(f'"{text}"' for text in facts.asked[-4:]) + ".")
    if facts.tried:
        lines.append("Assistant did: " + "; ".join(facts.tried[-4:]) + ".")
    return " ".join(lines)[:4000]


def patient_recap(facts: Facts) -> str:
    """The summary as the patient hears it on a warm transfer: what the
    partner is told, in the patient's own words, account details only
    once they are verified."""
    topics = [text for text in facts.asked[:-1]] or facts.asked
    asked = f'you asked about "{topics[-1]}"' if topics else "you asked for a person"
    if facts.patient_name and facts.verified_by and facts.account_number:
        balance = f" with a balance of {format_money(facts.balance)}" if facts.balance is not None else ""
        return f"you are {facts.patient_name}, account {facts.account_number}{balance}, and {asked}"
    return f"{asked}; they will confirm who you are first"


# --- the queue --------------------------------------------------------------

def open_handoff(
    session: Session,
    *,
    client: ClientInfo,
    conversation_id: str,
    channel: str,
    department: str,
    reason: str,
    summary: str,
    patient_id: Optional[str] = None,
    account_id: Optional[int] = None,
    verified: bool = False,
    now: Optional[dt.datetime] = None,
) -> tuple[Handoff, bool]:
    """Queue the conversation for a partner.  A conversation has at most
    one open handoff: asking again returns it (``created`` False)."""
    existing = open_for(session, conversation_id)
    if existing is not None:
        return existing, False
    if department not in DEPARTMENTS:
        department = "billing"
    handoff = Handoff(
        client_id=client.id, conversation_id=conversation_id, channel=channel, department=department,
        reason=reason if reason in REASONS else "asked_for_person", summary=summary, patient_id=patient_id,
        account_id=account_id, verified=verified, after_hours=not partners_available(client, now), status=HandoffStatus.WAITING,
        created_at=(now.astimezone(dt.timezone.utc).replace(tzinfo=None) if now else utcnow()),
    )
    session.add(handoff)
    session.flush()
    return handoff, True


def open_for(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN)).order_by(Handoff.id.desc())
    ).scalars().first()


def get(session: Session, handoff_id) -> Handoff:
    try:
        handoff = session.get(Handoff, int(handoff_id))
    except (TypeError, ValueError):
        handoff = None
    if handoff is None:
        raise HandoffError("unknown")
    return handoff


def listing(session: Session, status: Optional[str] = None, client_id: Optional[str] = None, limit: int = 200) -> List[Handoff]:
    query = select(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    if client_id:
        query = query.where(Handoff.client_id == client_id)
    return list(session.execute(query.order_by(Handoff.created_at, Handoff.id).limit(limit)).scalars())


def position(session: Session, handoff: Handoff) -> int:
    """1 for the next in its queue."""
    ahead = session.execute(
        select(Handoff.id).where(
            Handoff.client_id == handoff.client_id, Handoff.department == handoff.department,
            Handoff.status == HandoffStatus.WAITING, Handoff.id < handoff.id,
        )
    ).all()
    return len(ahead) + 1


def median_wait_minutes(session: Session, client_id: str, recent: int = 50) -> Optional[float]:
    """Median minutes from handoff to claim over the client's recent claims."""
    rows = session.execute(
        select(Handoff.created_at, Handoff.claimed_at).where(Handoff.client_id == client_id, Handoff.claimed_at.isnot(None))
        .order_by(Handoff.claimed_at.desc()).limit(recent)
    ).all()
    waits = [(claimed - created).total_seconds() / 60 for created, claimed in rows]
    return statistics.median(waits) if waits else None


def expected_wait_minutes(session: Session, handoff: Handoff) -> int:
    """What the patient is told: their place in line times the usual wait."""
    usual = median_wait_minutes(session, handoff.client_id)
    per_patient = max(1.0, usual) if usual is not None else DEFAULT_WAIT_MINUTES
    return max(1, round(per_patient * position(session, handoff)))


def _state(handoff: Handoff) -> dict:
    return {
        "status": handoff.status, "claimed_by": handoff.claimed_by, "disposition": handoff.disposition,
        "resume_bot": handoff.resume_bot,
    }


def claim(session: Session, handoff_id, actor: str, now: Optional[dt.datetime] = None) -> Handoff:
    """A partner takes a waiting handoff; claiming one's own again is a no-op."""
    handoff = get(session, handoff_id)
    if handoff.status == HandoffStatus.ACTIVE and handoff.claimed_by == actor:
        return handoff
    if handoff.status != HandoffStatus.WAITING:
        raise HandoffError("not_waiting")
    before = _state(handoff)
    handoff.status, handoff.claimed_by, handoff.claimed_at = HandoffStatus.ACTIVE, actor, now or utcnow()
    session.flush()
    staff.record(session, actor, "handoff.claim", f"handoff:{handoff.id}", before, _state(handoff))
    return handoff


def check_can_write(handoff: Handoff, actor: str, role: str) -> None:
    """Only the partner who claimed it (or a supervisor) writes to a patient."""
    if handoff.status != HandoffStatus.ACTIVE:
        raise HandoffError("not_open")
    if handoff.claimed_by != actor and role not in ("supervisor", "admin"):
        raise HandoffError("not_yours")


def close(
    session: Session, handoff_id, actor: str, role: str, *, disposition: str, note: str = "", resume_bot: bool = False,
    now: Optional[dt.datetime] = None,
) -> Handoff:
    handoff = get(session, handoff_id)
    if disposition not in DISPOSITIONS:
        raise HandoffError("bad_disposition")
    if handoff.status == HandoffStatus.CLOSED:
        raise HandoffError("not_open")
    if handoff.status == HandoffStatus.ACTIVE and handoff.claimed_by != actor and role not in ("supervisor", "admin"):
        raise HandoffError("not_yours")
    before = _state(handoff)
    handoff.status, handoff.closed_by, handoff.closed_at = HandoffStatus.CLOSED, actor, now or utcnow()
    handoff.disposition, handoff.note, handoff.resume_bot = disposition, (note or "").strip()[:2000] or None, bool(resume_bot)
    if handoff.claimed_at is None:
        handoff.claimed_by, handoff.claimed_at = actor, handoff.closed_at
    session.flush()
    staff.record(session, actor, "handoff.close", f"handoff:{handoff.id}", before, {**_state(handoff), "note": handoff.note})
    return handoff


def as_dict(handoff: Handoff, now: Optional[dt.datetime] = None) -> dict:
    now = now or utcnow()
    waited_until = handoff.claimed_at or (handoff.closed_at if handoff.status == HandoffStatus.CLOSED else now)
    return {
        "id": handoff.id,
        "client": handoff.client_id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "department": handoff.department,
        "reason": handoff.reason,
        "status": handoff.status,
        "summary": handoff.summary,
        "verified": handoff.verified,
        "after_hours": handoff.after_hours,
        "patient_id": handoff.patient_id,
        "account_number": handoff.account.account_number if handoff.account else None,
        "created_at": handoff.created_at.isoformat() + "Z",
        "wait_seconds": int((waited_until - handoff.created_at).total_seconds()),
        "claimed_by": handoff.claimed_by,
        "claimed_at": handoff.claimed_at.isoformat() + "Z" if handoff.claimed_at else None,
        "closed_at": handoff.closed_at.isoformat() + "Z" if handoff.closed_at else None,
        "disposition": handoff.disposition,
        "note": handoff.note,
        "resume_bot": handoff.resume_bot,
    }
