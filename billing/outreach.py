"""Contact consent and holds: opt-outs are honoured at once and kept per
client, channel and address; a partner may hold an account's outreach
with a reason, and a supervisor may pause a client's campaign.  Each is
audited (billing.records) and read by the planner (billing.outreach_plan)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Account, ContactPreference, OutreachAttempt, OutreachHold, OutreachPause, utcnow
from billing.records import Refused, account_event
from billing.vocabulary import OutreachStatus


def set_opt_out(session: Session, *, client_id: str, channel: str, address: str, opted_out: bool, source: str) -> bool:
    """Record consent withdrawn (or given back).  Returns True when this
    changed the state, so the caller confirms an opt-out only once."""
    pref = session.execute(
        select(ContactPreference).where(
            ContactPreference.client_id == client_id,
            ContactPreference.channel == channel,
            ContactPreference.address == address,
        )
    ).scalar_one_or_none()
    if pref is None:
        session.add(
            ContactPreference(client_id=client_id, channel=channel, address=address, opted_out=opted_out, source=source)
        )
        session.flush()
        return opted_out
    if pref.opted_out == opted_out:
        return False
    pref.opted_out = opted_out
    pref.updated_at = utcnow()
    pref.source = source
    session.flush()
    return True


def is_opted_out(session: Session, *, client_id: str, channel: str, address: str) -> bool:
    prefs = session.execute(
        select(ContactPreference).where(
            ContactPreference.client_id == client_id,
            ContactPreference.address == address,
            ContactPreference.channel.in_((channel, "all")),
        )
    ).scalars()
    return any(p.opted_out for p in prefs)


def collection_holds(session: Session, account) -> list[str]:
    """Why collection outreach on an account is held (empty: it is not):
    an open dispute, an open financial assistance application, a balance
    moved back to insurance for re-billing."""
    from billing import assistance, disputes, insurance

    holds = [f"dispute {d.reference} open" for d in disputes.open_disputes(session, account)]
    holds += [f"assistance application {a.reference} open until {a.window_ends.isoformat()}"
              for a in assistance.open_applications(session, account)]
    holds += [f"balance with {t.policy.payer} for re-billing" for t in insurance.open_transfers(session, account)]
    holds += [f"partner's hold ({h.placed_by}): {h.reason}" for h in active_holds(session, account)]
    return holds


class HoldRefused(Refused):
    pass


def place_hold(session: Session, account: Account, reason: str, *, actor: str) -> OutreachHold:
    """A partner holds every campaign's contact with this account."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise HoldRefused("hold_needs_reason")
    if len(reason) > 300:
        raise HoldRefused("hold_reason_too_long")
    hold = OutreachHold(account_id=account.id, reason=reason, placed_by=actor, placed_at=utcnow())
    session.add(hold)
    session.flush()
    account_event(session, account, actor, "outreach_hold", reason, after={"hold": hold.id})
    return hold


def lift_hold(session: Session, hold: OutreachHold, *, actor: str, note: str = "") -> OutreachHold:
    if hold.lifted_at is not None:
        raise HoldRefused("hold_already_lifted")
    hold.lifted_at, hold.lifted_by = utcnow(), actor
    account_event(session, hold.account, actor, "outreach_hold_lifted", note or "hold lifted", before={"hold": hold.id})
    session.flush()
    return hold


def active_holds(session: Session, account: Account) -> list[OutreachHold]:
    return list(session.execute(select(OutreachHold).where(
        OutreachHold.account_id == account.id, OutreachHold.lifted_at.is_(None)).order_by(OutreachHold.id)).scalars())


def set_paused(session: Session, client_id: str, campaign: str, paused: bool, *, actor: str) -> bool:
    """Pause (or resume) a client's campaign; True when that changed it.
    The desk audits who did it (its own audit trail)."""
    row = session.execute(select(OutreachPause).where(
        OutreachPause.client_id == client_id, OutreachPause.campaign == campaign)).scalar_one_or_none()
    if row is None:
        session.add(OutreachPause(client_id=client_id, campaign=campaign, paused=paused, changed_by=actor, changed_at=utcnow()))
        session.flush()
        return paused
    if row.paused == paused:
        return False
    row.paused, row.changed_by, row.changed_at = paused, actor, utcnow()
    session.flush()
    return True


# --- replies: a text back within a reminder's window ---------------------------

# how long after a reminder a text back is a reply to it
REPLY_WINDOW = dt.timedelta(days=7)
# what the patient was sent and can answer to
_REPLIED_TO = (OutreachStatus.SENT, OutreachStatus.DELIVERED, OutreachStatus.ANSWERED, OutreachStatus.COMPLETED,
               OutreachStatus.NO_ANSWER, OutreachStatus.BUSY)


@dataclass(frozen=True)
class Reminder:
    """The reminder a patient's text answers: what the conversation knows
    of why we reached out (never an amount)."""
    attempt_id: int
    campaign: str
    channel: str
    language: str
    sent_at: dt.datetime

    def as_metadata(self) -> dict:
        return {"attempt": self.attempt_id, "campaign": self.campaign, "channel": self.channel,
                "sent_at": self.sent_at.isoformat() + "Z"}


def reminder_answered(session: Session, *, client_id: str, address: str, now: Optional[dt.datetime] = None) -> Optional[Reminder]:
    """The latest reminder this client sent or called ``address`` about in
    the last REPLY_WINDOW, if any."""
    now = now or utcnow()
    row = session.execute(
        select(OutreachAttempt).where(
            OutreachAttempt.client_id == client_id, OutreachAttempt.to == address, OutreachAttempt.status.in_(_REPLIED_TO),
            OutreachAttempt.sent_at.isnot(None), OutreachAttempt.sent_at >= now - REPLY_WINDOW, OutreachAttempt.sent_at <= now,
        ).order_by(OutreachAttempt.sent_at.desc(), OutreachAttempt.id.desc())
    ).scalars().first()
    if row is None:
        return None
    return Reminder(row.id, row.campaign, row.channel, row.language, row.sent_at)


# a reply that asks who we are or what the text was about: answered in general words
_THIS = r"(this|that|it|dis|these|u|you|ya)"
WHO_OR_WHAT = re.compile(
    r"^(who|whos|who's|wh?o)( (is|was|are|r|iz|s))?( (this|that|dis|u|you|it))?( (texting|texted|text|messaging|calling|called|sent( this)?|keeps texting))?( (me|this|that|it))?$"
    r"|^(what|wat|wut|whats|what's|wats)( (is|was|iz|s|are))?( " + _THIS + r")( (text|message|msg|about|for|regarding|call))*$"
    r"|^(what|wat|wut)$"
    r"|^(quien|quién)( (es|eres|son|habla|me escribe|me llama))?( (esto|este|usted|ustedes))?$"
    r"|^(que|qué)( (es|son))? (esto|este mensaje)$"
    r"|^(de )?(que|qué) se trata( esto)?$",
    re.IGNORECASE)


def reply_is_who_or_what(text: str) -> bool:
    """"Who is this?", "what is this about", "wat is this", "quién es"."""
    words = " ".join(re.sub(r"[^\w\s']", " ", (text or "").lower()).split())
    return len(words) <= 60 and bool(WHO_OR_WHAT.match(words))
