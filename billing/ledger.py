"""The ledger: append-only entries; a balance is their sum, never stored."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import clock
from billing.models import LEDGER_KINDS, Account, LedgerEntry
from billing.money import money

# The sign each kind may carry, from the patient's side (+ owes more).
_SIGNS = {
    "charge": (1,),
    "insurance_payment": (-1, 1),      # +: a payer's reversal (takeback)
    "contractual_adjustment": (-1, 1),
    "discount": (-1,),
    "patient_payment": (-1,),
    "refund": (1,),
    "write_off": (-1, 1),              # +: reversal of a write-off
    "transfer": (-1, 1),
}


class LedgerError(ValueError):
    pass


def post(
    session: Session,
    account: Account,
    *,
    kind: str,
    amount,
    reason_code: str,
    description: str,
    actor: str,
    effective_date: dt.date | None = None,
    source: str | None = None,
) -> LedgerEntry:
    """Append one entry.  ``source`` names what produced it; posting the
    same source twice returns the first entry instead of a second one."""
    if kind not in LEDGER_KINDS:
        raise LedgerError(f"unknown ledger entry kind: {kind}")
    amount = money(amount)
    if amount == 0:
        raise LedgerError("a ledger entry must move money")
    sign = 1 if amount > 0 else -1
    if sign not in _SIGNS[kind]:
        raise LedgerError(f"a {kind} cannot be {'positive' if sign > 0 else 'negative'}")
    if not actor or not reason_code or not description:
        raise LedgerError("every ledger entry needs an actor, a reason code and a description")
    if source is not None:
        existing = session.execute(select(LedgerEntry).where(LedgerEntry.source == source)).scalar_one_or_none()
        if existing is not None:
            return existing
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        amount=amount,
        reason_code=reason_code,
        description=description,
        actor=actor,
        effective_date=effective_date or clock.today(),
        source=source,
    )
    session.add(entry)
    session.flush()
    return entry


def balance(session: Session, account: Account) -> Decimal:
    # summed in cents by the database; the Money type gives it back as Decimal
    total = session.execute(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id)).scalar_one()
    return money(0) if total is None else total


def entries(session: Session, account: Account) -> list[LedgerEntry]:
    return list(
        session.execute(
            select(LedgerEntry).where(LedgerEntry.account_id == account.id).order_by(LedgerEntry.effective_date, LedgerEntry.id)
        ).scalars()
    )
