"""Disputes: a patient disputes a charge; it gets a reference, holds
collection outreach on the account while open, and is resolved by a
partner with an adjustment (a ledger entry with a reason) or upheld with
an explanation.  Every step is audited."""
from __future__ import annotations

from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger
from billing.records import Refused, account_event, new_reference
from billing.models import Account, Dispute, Encounter, ServiceLine, utcnow
from billing.money import money

REASONS = ("duplicate", "not_received", "amount_wrong", "insurance_should_pay", "quality_of_care")


class DisputeError(Refused):
    """reason: unknown_reason, unknown_service_line, not_open, amount_not_positive, above_charge, above_balance"""


def _audit(session: Session, dispute: Dispute, actor: str, action: str, reason: str, before=None) -> None:
    account_event(session, dispute.account, actor, action, reason, before, {"reference": dispute.reference, "status": dispute.status})


def service_lines(session: Session, account: Account) -> List[ServiceLine]:
    """What a patient may dispute: the account's service lines by date of service."""
    return list(session.execute(
        select(ServiceLine).join(Encounter).where(Encounter.account_id == account.id)
        .order_by(Encounter.date_of_service, ServiceLine.id)
    ).scalars())


def open_dispute(session: Session, account: Account, reason: str, *, actor: str, service_line_id: Optional[int] = None,
                 description: str = "", channel: Optional[str] = None, conversation_id: Optional[str] = None) -> Dispute:
    if reason not in REASONS:
        raise DisputeError("unknown_reason")
    if service_line_id is not None and service_line_id not in {line.id for line in service_lines(session, account)}:
        raise DisputeError("unknown_service_line")
    dispute = Dispute(
        reference=new_reference(session, Dispute.reference, "D"), account=account, service_line_id=service_line_id, reason=reason,
        description=(description or "")[:1000], status="open", opened_by=actor, channel=channel, conversation_id=conversation_id,
    )
    session.add(dispute)
    session.flush()
    _audit(session, dispute, actor, "dispute_opened", f"dispute {dispute.reference}: {reason}")
    return dispute


def open_disputes(session: Session, account: Account) -> List[Dispute]:
    return list(session.execute(
        select(Dispute).where(Dispute.account_id == account.id, Dispute.status == "open").order_by(Dispute.id)
    ).scalars())


def resolve_by_adjustment(session: Session, dispute: Dispute, amount, *, actor: str, note: str) -> Dispute:
    if dispute.status != "open":
        raise DisputeError("not_open")
    amount = money(amount)
    if amount <= 0:
        raise DisputeError("amount_not_positive")
    # a disputed charge is corrected up to what it billed (a paid one becomes
    # a credit, offered back as a refund); a dispute of the whole account up
    # to what is owed
    limit = dispute.service_line.charge if dispute.service_line is not None else ledger.balance(session, dispute.account)
    if amount > limit:
        raise DisputeError("above_charge" if dispute.service_line is not None else "above_balance")
    entry = ledger.post(
        session, dispute.account, kind="write_off", amount=-amount, reason_code=f"DISPUTE-{dispute.reason.upper()}",
        description=f"Dispute {dispute.reference} resolved: {note}"[:300], actor=actor, source=f"dispute:{dispute.id}",
    )
    before = {"status": dispute.status}
    dispute.status, dispute.resolved_by, dispute.resolved_at = "adjusted", actor, utcnow()
    dispute.resolution, dispute.adjustment_entry_id = note, entry.id
    session.flush()
    _audit(session, dispute, actor, "dispute_adjusted", note, before)
    return dispute


def uphold(session: Session, dispute: Dispute, *, actor: str, explanation: str) -> Dispute:
    if dispute.status != "open":
        raise DisputeError("not_open")
    before = {"status": dispute.status}
    dispute.status, dispute.resolved_by, dispute.resolved_at, dispute.resolution = "upheld", actor, utcnow(), explanation
    session.flush()
    _audit(session, dispute, actor, "dispute_upheld", explanation, before)
    return dispute
