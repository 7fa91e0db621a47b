"""Write-offs: small balances at or under the client's threshold, and a
partner's write-off within the client's limit (above it, a supervisor
must approve).  The agent limit bounds what one partner writes off on one
account in one day, in total: four requests at the limit are one limit.
Each is a ledger entry with a reason code and an actor, and an audit
event."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import clock, ledger
from billing.accounts import approver_lacks, lock_for_money, take_request
from billing.models import Account, Client, LedgerEntry, WriteOffRequest
from billing.money import AmountRefused, money, positive_amount
from billing.policy import policy_of
from billing.records import Refused, account_event, decide
from billing.vocabulary import RequestStatus


class WriteOffRefused(Refused):
    """reason: not_positive, above_balance, needs_supervisor, not_requested,
    not_approver; ``limit`` the agent's daily limit on the account and
    ``remaining`` what is left of it today (needs_supervisor)"""

    def __init__(self, reason: str, limit: Optional[Decimal] = None, remaining: Optional[Decimal] = None):
        super().__init__(reason)
        self.limit, self.remaining = limit, remaining


# who approves a write-off above the agent limit (or an admin)
APPROVER_ROLE = "supervisor"


def _within_balance(amount, balance: Decimal) -> Decimal:
    """money.positive_amount up to the balance, refused in a write-off's words."""
    try:
        return positive_amount(money(amount), at_most=max(balance, money(0)))
    except AmountRefused as refused:
        raise WriteOffRefused("above_balance" if refused.reason == "above_limit" else "not_positive") from None


def written_off_today(session: Session, account: Account, actor: str) -> Decimal:
    """What ``actor`` has written off on this account today on their own
    authority: their partner write-offs (no source; small balances and
    dispute adjustments have one), not those a supervisor approved (their
    actor names the approver too), reversals netted."""
    total = session.execute(
        select(func.sum(LedgerEntry.amount)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == "write_off", LedgerEntry.actor == actor,
            LedgerEntry.source.is_(None), LedgerEntry.effective_date == clock.today())
    ).scalar_one()
    return money(0) if total is None else -total


def _audit(session: Session, account: Account, actor: str, amount: Decimal, reason_code: str, reason: str, balance: Decimal) -> None:
    account_event(session, account, actor, "write_off", reason, {"balance": str(balance)},
                  {"balance": str(balance - amount), "reason_code": reason_code})


def small_balance_write_off(session: Session, actor: str = "job:small-balance") -> List[Tuple[str, Decimal]]:
    """Write off every balance above zero and at or under its client's
    small-balance threshold.  Safe to re-run: the entry's source names the
    account and its latest ledger entry, so the same balance is written
    off once."""
    done = []
    for account in session.execute(select(Account).order_by(Account.account_number)).scalars():
        balance = ledger.balance(session, account)
        limit = policy_of(session.get(Client, account.client_id)).small_balance_write_off_max
        if not Decimal("0") < balance <= limit:
            continue
        last = session.execute(select(func.max(LedgerEntry.id)).where(LedgerEntry.account_id == account.id)).scalar_one()
        ledger.post(
            session, account, kind="write_off", amount=-balance, reason_code="SMALL-BAL",
            description=f"Small balance written off (at or under {limit})", actor=actor,
            source=f"small-balance:{account.id}:{last}",
        )
        _audit(session, account, actor, balance, "SMALL-BAL", f"small balance at or under {limit}", balance)
        done.append((account.account_number, balance))
    return done


def write_off(session: Session, account: Account, amount, *, reason_code: str, reason: str, actor: str,
              approved_by: Optional[str] = None) -> LedgerEntry:
    """A partner's write-off: up to what is left today of the client's
    agent limit for this partner on this account; above it only with a
    supervisor's approval (``approved_by``, a desk user name)."""
    lock_for_money(session, account)
    balance = ledger.balance(session, account)
    amount = _within_balance(amount, balance)
    if approved_by:
        if approver_lacks(session, account, "write_off", approved_by, least=APPROVER_ROLE):
            raise WriteOffRefused("not_approver")
    else:
        limit = policy_of(session.get(Client, account.client_id)).agent_write_off_limit
        remaining = max(limit - written_off_today(session, account, actor), money(0))
        if amount > remaining:
            raise WriteOffRefused("needs_supervisor", limit, remaining)
    who = f"{actor} (approved by {approved_by})" if approved_by else actor
    entry = ledger.post(session, account, kind="write_off", amount=-amount, reason_code=reason_code, description=reason, actor=who)
    _audit(session, account, who, amount, reason_code, reason, balance)
    return entry


class Routed(str, Enum):
    POSTED = "posted"                            # on the ledger now
    AWAITING_SUPERVISOR = "awaiting_supervisor"  # above the agent's limit: a request a supervisor decides


@dataclass(frozen=True)
class WriteOffOutcome:
    routed: Routed
    entry: Optional[LedgerEntry] = None
    request: Optional[WriteOffRequest] = None
    limit: Optional[Decimal] = None       # the agent's daily limit on the account (awaiting_supervisor)
    remaining: Optional[Decimal] = None   # what was left of it today


def write_off_or_request(session: Session, account: Account, amount, *, reason_code: str, reason: str, actor: str,
                         approved_by: Optional[str] = None) -> WriteOffOutcome:
    """A partner's write-off, routed: posted when within the agent's limit
    (or approved by a supervisor), else a request for a supervisor.
    Raises WriteOffRefused for anything else (not positive, above the
    balance, an approver who may not approve)."""
    try:
        entry = write_off(session, account, amount, reason_code=reason_code, reason=reason, actor=actor, approved_by=approved_by)
        return WriteOffOutcome(Routed.POSTED, entry=entry)
    except WriteOffRefused as refused:
        if refused.reason != "needs_supervisor":
            raise
        request = request_write_off(session, account, amount, reason_code=reason_code, reason=reason, actor=actor)
        return WriteOffOutcome(Routed.AWAITING_SUPERVISOR, request=request, limit=refused.limit, remaining=refused.remaining)


def request_write_off(session: Session, account: Account, amount, *, reason_code: str, reason: str, actor: str) -> WriteOffRequest:
    """A write-off above the agent limit goes to a supervisor: checked now
    (positive, within the balance), posted only on approval."""
    lock_for_money(session, account)
    amount = _within_balance(amount, ledger.balance(session, account))
    request = WriteOffRequest(account=account, amount=amount, reason_code=reason_code, reason=reason, requested_by=actor)
    session.add(request)
    session.flush()
    account_event(session, account, actor, "write_off_requested", reason, None,
                  {"write_off_request": request.id, "amount": str(amount), "reason_code": reason_code})
    return request


def approve_request(session: Session, request: WriteOffRequest, *, actor: str, note: str = "") -> WriteOffRequest:
    """A supervisor approves: the write-off posts once, in the requester's name."""
    if approver_lacks(session, request.account, "write_off", actor, least=APPROVER_ROLE):
        raise WriteOffRefused("not_approver")
    take_request(session, request, "requested", WriteOffRefused("not_requested"))
    entry = write_off(session, request.account, request.amount, reason_code=request.reason_code, reason=request.reason,
                      actor=request.requested_by, approved_by=actor)
    request.ledger_entry_id = entry.id
    decide(request, RequestStatus.APPROVED, actor, note)
    session.flush()
    return request


def deny_request(session: Session, request: WriteOffRequest, *, actor: str, note: str) -> WriteOffRequest:
    take_request(session, request, "requested", WriteOffRefused("not_requested"))
    decide(request, RequestStatus.DENIED, actor, note)
    account_event(session, request.account, actor, "write_off_denied", (note or "denied")[:300], None,
                  {"write_off_request": request.id})
    return request
