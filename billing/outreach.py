"""Contact consent: opt-outs are honoured at once and kept per client,
channel and address."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import ContactPreference, utcnow


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
    return holds
