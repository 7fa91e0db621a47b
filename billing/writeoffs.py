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
from billing.models import Account, AccountEvent, Client, LedgerEntry
from billing.money import money
from billing.policy import policy_of


class WriteOffRefused(ValueError):
    """reason: not_positive, above_balance, needs_supervisor"""

    def __init__(self, reason: str, limit: Optional[Decimal] = None):
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def _audit(session: Session, account: Account, actor: str, amount: Decimal, reason_code: str, reason: str, balance: Decimal) -> None:
    session.add(AccountEvent(
        actor=actor, client_id=account.client_id, patient_id=account.patient_id, account_id=account.id, action="write_off",
        reason=reason, before={"balance": str(balance)}, after={"balance": str(balance - amount), "reason_code": reason_code},
    ))


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
