"""Write-offs: small balances at or under the client's threshold, and a
partner's write-off within the client's limit (above it, a supervisor
must approve).  Each is a ledger entry with a reason code and an actor,
and an audit event."""
from __future__ import annotations

from decimal import Decimal
from typing import List, Optional, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import Account, Client, LedgerEntry, WriteOffRequest
from billing.money import money
from billing.policy import policy_of
from billing.records import Refused, account_event, decide


class WriteOffRefused(Refused):
    """reason: not_positive, above_balance, needs_supervisor, not_requested"""

    def __init__(self, reason: str, limit: Optional[Decimal] = None):
        super().__init__(reason)
        self.limit = limit


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
    """A partner's write-off: up to the client's agent limit; above it only
    with a supervisor's approval (``approved_by``)."""
    amount = money(amount)
    balance = ledger.balance(session, account)
    if amount <= 0:
        raise WriteOffRefused("not_positive")
    if amount > balance:
        raise WriteOffRefused("above_balance")
    limit = policy_of(session.get(Client, account.client_id)).agent_write_off_limit
    if amount > limit and not approved_by:
        raise WriteOffRefused("needs_supervisor", limit)
    who = f"{actor} (approved by {approved_by})" if approved_by else actor
    entry = ledger.post(session, account, kind="write_off", amount=-amount, reason_code=reason_code, description=reason, actor=who)
    _audit(session, account, who, amount, reason_code, reason, balance)
    return entry


def request_write_off(session: Session, account: Account, amount, *, reason_code: str, reason: str, actor: str) -> WriteOffRequest:
    """A write-off above the agent limit goes to a supervisor: checked now
    (positive, within the balance), posted only on approval."""
    amount = money(amount)
    if amount <= 0:
        raise WriteOffRefused("not_positive")
    if amount > ledger.balance(session, account):
        raise WriteOffRefused("above_balance")
    request = WriteOffRequest(account=account, amount=amount, reason_code=reason_code, reason=reason, requested_by=actor)
    session.add(request)
    session.flush()
    account_event(session, account, actor, "write_off_requested", reason, None,
                  {"write_off_request": request.id, "amount": str(amount), "reason_code": reason_code})
    return request


def approve_request(session: Session, request: WriteOffRequest, *, actor: str, note: str = "") -> WriteOffRequest:
    """A supervisor approves: the write-off posts once, in the requester's name."""
    if request.status != "requested":
        raise WriteOffRefused("not_requested")
    entry = write_off(session, request.account, request.amount, reason_code=request.reason_code, reason=request.reason,
                      actor=request.requested_by, approved_by=actor)
    request.ledger_entry_id = entry.id
    decide(request, "approved", actor, note)
    session.flush()
    return request


def deny_request(session: Session, request: WriteOffRequest, *, actor: str, note: str) -> WriteOffRequest:
    if request.status != "requested":
        raise WriteOffRefused("not_requested")
    decide(request, "denied", actor, note)
    account_event(session, request.account, actor, "write_off_denied", (note or "denied")[:300], None,
                  {"write_off_request": request.id})
    return request
