"""Disputes: a patient disputes a charge; it gets a reference, holds
collection outreach on the account while open, and is resolved by a
partner with an adjustment (a ledger entry with a reason) or upheld with
an explanation.  A service line has at most one open dispute, and what
its disputes adjust adds up to at most its charge.  Every step is
audited."""
from __future__ import annotations

from decimal import Decimal
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.accounts import lock_for_money
from billing.records import Refused, account_event, new_reference
from billing.models import Account, Dispute, Encounter, LedgerEntry, ServiceLine, utcnow
from billing.money import AmountRefused, money, positive_amount
from billing.vocabulary import DisputeStatus

REASONS = ("duplicate", "not_received", "amount_wrong", "insurance_should_pay", "quality_of_care")


class DisputeError(Refused):
    """reason: unknown_reason, unknown_service_line, already_open (``reference``: the open one), not_open,
    amount_not_positive, above_charge, above_balance (``limit``: the most that may be adjusted)"""

    def __init__(self, reason: str, reference: Optional[str] = None, limit: Optional[Decimal] = None):
        super().__init__(reason)
        self.reference, self.limit = reference, limit


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
    lock_for_money(session, account)
    if service_line_id is not None:
        already = open_dispute_of_line(session, service_line_id)
        if already is not None:
            raise DisputeError("already_open", reference=already.reference)
    dispute = Dispute(
        reference=new_reference(session, Dispute.reference, "D"), account=account, service_line_id=service_line_id, reason=reason,
        description=(description or "")[:1000], status=DisputeStatus.OPEN, opened_by=actor, channel=channel, conversation_id=conversation_id,
    )
    session.add(dispute)
    session.flush()
    _audit(session, dispute, actor, "dispute_opened", f"dispute {dispute.reference}: {reason}")
    return dispute


def open_dispute_of_line(session: Session, service_line_id: int) -> Optional[Dispute]:
    return session.execute(
        select(Dispute).where(Dispute.service_line_id == service_line_id, Dispute.status == DisputeStatus.OPEN).order_by(Dispute.id)
    ).scalars().first()


def adjusted_on_line(session: Session, service_line_id: int) -> Decimal:
    """What the line's disputes have already taken off its charge."""
    total = session.execute(
        select(func.sum(LedgerEntry.amount)).join(Dispute, Dispute.adjustment_entry_id == LedgerEntry.id)
        .where(Dispute.service_line_id == service_line_id)
    ).scalar_one()
    return money(0) if total is None else -total


def open_disputes(session: Session, account: Account) -> List[Dispute]:
    return list(session.execute(
        select(Dispute).where(Dispute.account_id == account.id, Dispute.status == DisputeStatus.OPEN).order_by(Dispute.id)
    ).scalars())


def resolve_by_adjustment(session: Session, dispute: Dispute, amount, *, actor: str, note: str) -> Dispute:
    lock_for_money(session, dispute.account, dispute)
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError("not_open")
    amount = money(amount)
    # a disputed charge is corrected up to what it billed, less what earlier
    # disputes of it took off (a paid one becomes a credit, offered back as a
    # refund); a dispute of the whole account up to what is owed
    if dispute.service_line is not None:
        limit = max(dispute.service_line.charge - adjusted_on_line(session, dispute.service_line_id), money(0))
    else:
        limit = ledger.balance(session, dispute.account)
    try:
        amount = positive_amount(amount, at_most=limit)
    except AmountRefused as refused:
        if refused.reason != "above_limit":
            raise DisputeError("amount_not_positive") from None
        raise DisputeError("above_charge" if dispute.service_line is not None else "above_balance", limit=limit) from None
    entry = ledger.post(
        session, dispute.account, kind="write_off", amount=-amount, reason_code=f"DISPUTE-{dispute.reason.upper()}",
        description=f"Dispute {dispute.reference} resolved: {note}"[:300], actor=actor, source=f"dispute:{dispute.id}",
    )
    before = {"status": dispute.status}
    dispute.status, dispute.resolved_by, dispute.resolved_at = DisputeStatus.ADJUSTED, actor, utcnow()
    dispute.resolution, dispute.adjustment_entry_id = note, entry.id
    session.flush()
    _audit(session, dispute, actor, "dispute_adjusted", note, before)
    return dispute


def uphold(session: Session, dispute: Dispute, *, actor: str, explanation: str) -> Dispute:
    lock_for_money(session, dispute.account, dispute)
    if dispute.status != DisputeStatus.OPEN:
        raise DisputeError("not_open")
    before = {"status": dispute.status}
    dispute.status, dispute.resolved_by, dispute.resolved_at, dispute.resolution = DisputeStatus.UPHELD, actor, utcnow(), explanation
    session.flush()
    _audit(session, dispute, actor, "dispute_upheld", explanation, before)
    return dispute
