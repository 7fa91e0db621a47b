"""What a verified patient may hear about their accounts, and what every
rule that moves an account's money within a limit takes first: the
account's lock, and who may approve."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import insurance, ledger
from billing.models import Account, Client, Payment, PaymentPlan, StaffUser
from billing.policy import policy_of, role_at_least
from billing.vocabulary import InstallmentStatus, PaymentStatus, PlanStatus


@dataclass(frozen=True)
class LastPayment:
    amount: Decimal
    date: dt.date
    card_brand: str | None
    card_last4: str | None


@dataclass(frozen=True)
class PlanSummary:
    status: str                 # active, completed, defaulted, cancelled
    monthly_amount: Decimal
    months: int
    paid_installments: int
    missed_payments: int
    next_due_date: dt.date | None
    next_amount: Decimal | None


@dataclass(frozen=True)
class AccountOverview:
    account_number: str
    balance: Decimal
    statement_date: dt.date | None
    due_date: dt.date | None
    last_payment: LastPayment | None
    plan: PlanSummary | None
    # (payer, amount) while the balance is with insurance for re-billing
    with_insurance: tuple | None = None

    @property
    def is_credit(self) -> bool:
        return self.balance < 0


def _with_insurance(session: Session, account: Account) -> tuple | None:
    moved = insurance.open_transfers(session, account)
    return (moved[-1].policy.payer, moved[-1].amount) if moved else None


def _last_payment(session: Session, account: Account) -> LastPayment | None:
    payment = session.execute(
        select(Payment)
        .where(Payment.account_id == account.id, Payment.status == PaymentStatus.POSTED)
        .order_by(Payment.payment_date.desc(), Payment.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if payment is None:
        return None
    return LastPayment(payment.amount, payment.payment_date, payment.card_brand, payment.card_last4)


def plan_status(plan: PaymentPlan) -> PlanSummary:
    due = [i for i in plan.installments if i.status in (InstallmentStatus.DUE, InstallmentStatus.MISSED)]
    upcoming = next((i for i in plan.installments if i.status == InstallmentStatus.DUE), None)
    return PlanSummary(
        status=plan.status,
        monthly_amount=plan.monthly_amount,
        months=plan.months,
        paid_installments=sum(1 for i in plan.installments if i.status == InstallmentStatus.PAID),
        missed_payments=plan.missed_payments,
        next_due_date=upcoming.due_date if upcoming else (due[0].due_date if due else None),
        next_amount=upcoming.amount if upcoming else None,
    )


def _current_plan(session: Session, account: Account) -> PaymentPlan | None:
    return session.execute(
        select(PaymentPlan)
        .where(PaymentPlan.account_id == account.id, PaymentPlan.status.in_((PlanStatus.ACTIVE, PlanStatus.DEFAULTED)))
        .order_by(PaymentPlan.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def patient_accounts(session: Session, patient_id: str, client_id: str) -> list[Account]:
    """The patient's accounts at this client only."""
    return list(session.execute(
        select(Account)
        .where(Account.patient_id == patient_id, Account.client_id == client_id)
        .order_by(Account.account_number)
    ).scalars())


def payable_account(session: Session, patient_id: str, client_id: str) -> Account | None:
    """The account a payment or plan is for: the one owing the most
    (or, when nothing is owed, the first)."""
    accounts = patient_accounts(session, patient_id, client_id)
    if not accounts:
        return None
    return max(accounts, key=lambda a: (ledger.balance(session, a), -int(a.id)))


def overview(session: Session, patient_id: str, client_id: str) -> list[AccountOverview]:
    """Each of the patient's accounts at this client, with its balance
    computed from the ledger."""
    result = []
    for account in patient_accounts(session, patient_id, client_id):
        plan = _current_plan(session, account)
        result.append(
            AccountOverview(
                account_number=account.account_number,
                balance=ledger.balance(session, account),
                statement_date=account.statement_date,
                due_date=account.due_date,
                last_payment=_last_payment(session, account),
                plan=plan_status(plan) if plan else None,
                with_insurance=_with_insurance(session, account),
            )
        )
    return result


# --- money limits: one account at a time ------------------------------------

def lock_for_money(session: Session, account: Account, *rows) -> Account:
    """Serialise the work that checks a money limit and then moves money on
    one account (write-offs within the agent's daily limit, dispute
    adjustments within the charge, one open dispute per line, refunds
    within the credit, approvals that must happen once): every such use
    case calls this first, in its own transaction.

    On PostgreSQL it is ``SELECT ... FOR UPDATE`` on the account row: a
    second transaction waits here until the first commits, then reads what
    it wrote (read committed).  On SQLite ``with_for_update()`` adds
    nothing: each transaction already holds the database's write lock from
    its start (billing/db.py, ``BEGIN IMMEDIATE``).

    ``rows`` (a request, a dispute, an application read before the lock)
    are read again after it, so a status another transaction has just
    changed is seen."""
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update()).scalar_one()
    for row in rows:
        session.refresh(row)
    return account


def take_request(session: Session, row, waiting: str, refused: Exception) -> dict:
    """The one way a partner's decision on a request starts (refunds,
    write-offs, assistance applications): lock the account, read the
    request again, and go on only while it is still ``waiting`` (else
    ``refused`` is raised: someone decided it first).  Returns its status
    before the decision, for the audit line."""
    lock_for_money(session, row.account, row)
    if row.status != waiting:
        raise refused
    return {"status": row.status}


def approver_lacks(session: Session, account: Account, kind: str, actor: str, least: Optional[str] = None) -> Optional[str]:
    """None when desk user ``actor`` may approve ``kind`` (refund,
    assistance) on this account; otherwise the role that may, from the
    client's policy (``approvals``; a supervisor by default), or
    ``least`` when the rule fixes it.  Someone who is not an active desk
    user (the bot, a job, a name that does not exist) approves nothing."""
    needed = least or policy_of(session.get(Client, account.client_id)).approvals[kind]
    user = session.execute(select(StaffUser).where(StaffUser.username == actor)).scalar_one_or_none()
    role = user.role if user is not None and user.active else None
    return None if role_at_least(role, needed) else needed
