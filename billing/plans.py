"""Payment plans: terms within the client's policy, the schedule of
installments (they sum exactly to the balance; the last one absorbs the
rounding), changes, and the monthly run that charges autopay, counts
missed installments and defaults a plan at the policy's limit."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, ledger
from billing.models import Account, Payment, PaymentMethod, PaymentPlan, PlanInstallment
from billing.money import money
from billing.policy import PlanPolicy, policy_of
from billing.records import account_event
from billing.refused import Refused
from billing.schedule import add_months, monthly_due_dates
from billing.vocabulary import InstallmentStatus, PlanStatus

CENT = Decimal("0.01")
# the plan lengths offered first, when the policy allows them
SUGGESTED_MONTHS = (3, 6, 12)


@dataclass(frozen=True)
class PlanTerms:
    months: int
    monthly: Decimal
    last: Decimal

    @property
    def total(self) -> Decimal:
        return self.monthly * (self.months - 1) + self.last

    def amounts(self) -> list[Decimal]:
        return [self.monthly] * (self.months - 1) + [self.last]


class PlanRefused(Refused):
    """Terms outside policy.  ``reason``: below_minimum_balance,
    too_few_months, too_many_months, monthly_too_low, pay_in_full,
    plan_exists, no_plan, nothing_owed.  ``nearest`` holds the allowed
    terms closest to what was asked."""

    def __init__(self, reason: str, nearest: Optional[list[PlanTerms]] = None):
        super().__init__(reason)
        self.nearest = nearest or []


def _split(balance: Decimal, months: int) -> PlanTerms:
    monthly = (balance / months).quantize(CENT, rounding=ROUND_HALF_UP)
    return PlanTerms(months, monthly, balance - monthly * (months - 1))


def _fits(policy: PlanPolicy, terms: PlanTerms) -> bool:
    return (
        policy.min_months <= terms.months <= policy.max_months
        and terms.monthly >= policy.min_monthly_payment
        and terms.last > 0
    )


def longest_months(policy: PlanPolicy, balance: Decimal) -> int:
    """The most months the policy allows for this balance."""
    by_minimum = int(balance // policy.min_monthly_payment)
    return min(policy.max_months, by_minimum)


def check_eligible(policy: PlanPolicy, balance: Decimal) -> None:
    if balance <= 0:
        raise PlanRefused("nothing_owed")
    if balance < policy.min_balance:
        raise PlanRefused("below_minimum_balance")
    if longest_months(policy, balance) < policy.min_months:
        raise PlanRefused("below_minimum_balance")


def is_eligible(policy: PlanPolicy, balance: Decimal) -> bool:
    """Whether the client's policy allows a plan for this balance (what check_eligible refuses otherwise)."""
    try:
        check_eligible(policy, balance)
    except PlanRefused:
        return False
    return True


def offers(policy: PlanPolicy, balance: Decimal) -> list[PlanTerms]:
    """The plans to suggest: the usual lengths that fit, and the longest."""
    check_eligible(policy, balance)
    longest = longest_months(policy, balance)
    months = sorted({m for m in SUGGESTED_MONTHS if policy.min_months <= m <= longest} | {longest})
    return [t for t in (_split(balance, m) for m in months) if _fits(policy, t)]


def terms_for_months(policy: PlanPolicy, balance: Decimal, months: int) -> PlanTerms:
    check_eligible(policy, balance)
    longest = longest_months(policy, balance)
    if months < policy.min_months:
        raise PlanRefused("too_few_months", [_split(balance, policy.min_months)])
    if months > longest:
        reason = "too_many_months" if months > policy.max_months else "monthly_too_low"
        raise PlanRefused(reason, [_split(balance, longest)])
    terms = _split(balance, months)
    if not _fits(policy, terms):
        raise PlanRefused("monthly_too_low", [_split(balance, longest)])
    return terms


def terms_for_monthly(policy: PlanPolicy, balance: Decimal, monthly) -> PlanTerms:
    """"I can do $50 a month": the months that takes, if the policy allows."""
    check_eligible(policy, balance)
    monthly = money(monthly)
    longest = longest_months(policy, balance)
    if monthly < policy.min_monthly_payment:
        raise PlanRefused("monthly_too_low", [_split(balance, longest)])
    if monthly >= balance:
        raise PlanRefused("pay_in_full")
    months = math.ceil(balance / monthly)
    if months > policy.max_months:
        raise PlanRefused("too_many_months", [_split(balance, longest)])
    if months < policy.min_months:
        raise PlanRefused("too_few_months", [_split(balance, policy.min_months)])
    return PlanTerms(months, monthly, balance - monthly * (months - 1))


# --- plans on an account ----------------------------------------------------

def active_plan(session: Session, account: Account) -> Optional[PaymentPlan]:
    return session.execute(
        select(PaymentPlan).where(PaymentPlan.account_id == account.id, PaymentPlan.status == PlanStatus.ACTIVE).order_by(PaymentPlan.id.desc())
    ).scalars().first()


def first_due_date(today: dt.date, day_of_month: Optional[int] = None) -> dt.date:
    """The first installment: about a month out, on the chosen day (1-28)."""
    day = day_of_month or min(today.day, 28)
    return add_months(today, 1, day)


def _event(session: Session, account: Account, actor: str, action: str, reason: str, before=None, after=None) -> None:
    account_event(session, account, actor, action, reason, before, after)


def _terms_record(plan: PaymentPlan) -> dict:
    return {
        "plan_id": plan.id, "months": plan.months, "monthly_amount": str(plan.monthly_amount),
        "day_of_month": plan.day_of_month, "payment_method_id": plan.payment_method_id, "status": plan.status,
        "installments": [[i.due_date.isoformat(), str(i.amount), i.status] for i in plan.installments],
    }


def create_plan(
    session: Session,
    account: Account,
    policy: PlanPolicy,
    terms: PlanTerms,
    *,
    actor: str,
    payment_method_id: Optional[int] = None,
    start: Optional[dt.date] = None,
    today: Optional[dt.date] = None,
    reason: str = "payment plan set up at the patient's request",
) -> PaymentPlan:
    """A plan for the whole balance on the given terms (checked again here)."""
    balance = ledger.balance(session, account)
    if active_plan(session, account) is not None:
        raise PlanRefused("plan_exists")
    if terms.total != balance:
        raise PlanRefused("balance_changed")
    if not _fits(policy, terms):
        raise PlanRefused("monthly_too_low", [_split(balance, longest_months(policy, balance))])
    if payment_method_id is not None:
        method = session.get(PaymentMethod, payment_method_id)
        if method is None or method.patient_id != account.patient_id:
            raise PlanRefused("unknown_card")
    start = start or first_due_date(today or clock.today())
    plan = PaymentPlan(
        account_id=account.id, start_date=start, monthly_amount=terms.monthly, months=terms.months,
        day_of_month=start.day, status=PlanStatus.ACTIVE, missed_payments=0, payment_method_id=payment_method_id, created_by=actor,
    )
    session.add(plan)
    session.flush()
    for seq, (due, amount) in enumerate(zip(monthly_due_dates(start, start.day, terms.months), terms.amounts()), start=1):
        session.add(PlanInstallment(plan_id=plan.id, seq=seq, due_date=due, amount=amount, status=InstallmentStatus.DUE))
    session.flush()
    session.refresh(plan)
    _event(session, account, actor, "plan_created", reason, after=_terms_record(plan))
    return plan


def _open_installments(plan: PaymentPlan) -> list[PlanInstallment]:
    return [i for i in plan.installments if i.status in (InstallmentStatus.DUE, InstallmentStatus.MISSED)]


def change_terms(session: Session, account: Account, policy: PlanPolicy, terms: PlanTerms, *, actor: str, reason: str,
                 today: Optional[dt.date] = None) -> PaymentPlan:
    """New monthly amount or length for what is left: the open
    installments are replaced, paid ones stay as they were."""
    plan = active_plan(session, account)
    if plan is None:
        raise PlanRefused("no_plan")
    balance = ledger.balance(session, account)
    if terms.total != balance:
        raise PlanRefused("balance_changed")
    if not _fits(policy, terms):
        raise PlanRefused("monthly_too_low", [_split(balance, longest_months(policy, balance))])
    before = _terms_record(plan)
    today = today or clock.today()
    for inst in _open_installments(plan):
        inst.status = InstallmentStatus.REPLACED
    start = add_months(today, 0, plan.day_of_month)
    if start <= today:
        start = add_months(today, 1, plan.day_of_month)
    next_seq = max((i.seq for i in plan.installments), default=0) + 1
    for offset, (due, amount) in enumerate(zip(monthly_due_dates(start, plan.day_of_month, terms.months), terms.amounts())):
        session.add(PlanInstallment(plan_id=plan.id, seq=next_seq + offset, due_date=due, amount=amount, status=InstallmentStatus.DUE))
    plan.monthly_amount = terms.monthly
    plan.months = sum(1 for i in plan.installments if i.status == InstallmentStatus.PAID) + terms.months
    plan.missed_payments = 0
    session.flush()
    session.refresh(plan)
    _event(session, account, actor, "plan_terms_changed", reason, before=before, after=_terms_record(plan))
    return plan


def change_day(session: Session, account: Account, day_of_month: int, *, actor: str, reason: str) -> PaymentPlan:
    plan = active_plan(session, account)
    if plan is None:
        raise PlanRefused("no_plan")
    if not 1 <= day_of_month <= 28:
        raise PlanRefused("day_out_of_range")
    before = _terms_record(plan)
    for inst in plan.installments:
        if inst.status == InstallmentStatus.DUE:
            inst.due_date = add_months(inst.due_date, 0, day_of_month)
    plan.day_of_month = day_of_month
    session.flush()
    _event(session, account, actor, "plan_day_changed", reason, before=before, after=_terms_record(plan))
    return plan


def change_card(session: Session, account: Account, payment_method_id: Optional[int], *, actor: str, reason: str) -> PaymentPlan:
    plan = active_plan(session, account)
    if plan is None:
        raise PlanRefused("no_plan")
    if payment_method_id is not None:
        method = session.get(PaymentMethod, payment_method_id)
        if method is None or method.patient_id != account.patient_id:
            raise PlanRefused("unknown_card")
    before = _terms_record(plan)
    plan.payment_method_id = payment_method_id
    session.flush()
    _event(session, account, actor, "plan_card_changed", reason, before=before, after=_terms_record(plan))
    return plan


# --- payments against a plan ------------------------------------------------

def apply_payment(session: Session, payment: Payment) -> Optional[PlanInstallment]:
    """A posted payment pays the plan's oldest open installment it covers:
    a missed one first (the plan catches up), else the next one due."""
    plan = active_plan(session, payment.account)
    if plan is None:
        return None
    already = next((i for i in plan.installments if i.payment_id == payment.id and i.status == InstallmentStatus.PAID), None)
    if already is not None:
        return already
    target = None
    if payment.idempotency_key.startswith("installment:"):  # an autopay charge names its installment
        inst_id = int(payment.idempotency_key.split(":")[1])
        target = next((i for i in plan.installments if i.id == inst_id and i.status != InstallmentStatus.PAID), None)
    if target is None and payment.retry_of_id is not None:
        target = next((i for i in plan.installments if i.payment_id == payment.retry_of_id and i.status != InstallmentStatus.PAID), None)
    if target is None:
        open_ = sorted(_open_installments(plan), key=lambda i: (i.status != InstallmentStatus.MISSED, i.due_date))
        target = next((i for i in open_ if payment.amount >= i.amount), None)
    if target is None:
        return None
    was_missed = target.status == InstallmentStatus.MISSED
    target.status = InstallmentStatus.PAID
    target.payment_id = payment.id
    if was_missed and plan.missed_payments:
        plan.missed_payments -= 1
    if not _open_installments(plan) or ledger.balance(session, payment.account) <= 0:
        plan.status = PlanStatus.COMPLETED
    session.flush()
    return target


def miss_installment(session: Session, inst: PlanInstallment, actor: str) -> bool:
    """An installment not paid by its due date is missed; at the client's
    limit of missed payments the plan defaults.  Returns whether it did."""
    plan, account = inst.plan, inst.plan.account
    inst.status = InstallmentStatus.MISSED
    plan.missed_payments += 1
    limit = policy_of(account.patient.client).payment_plan.max_missed_payments_before_default
    defaulted = plan.missed_payments >= limit
    if defaulted:
        before = _terms_record(plan)
        plan.status = PlanStatus.DEFAULTED
        _event(session, account, actor, "plan_defaulted", f"{plan.missed_payments} missed payments (policy limit {limit})",
               before=before, after=_terms_record(plan))
    session.flush()
    return defaulted


def installment_paid_by(session: Session, payment_id: int) -> Optional[PlanInstallment]:
    """Which plan installment this payment paid (or was charged for), if any."""
    return session.execute(select(PlanInstallment).where(PlanInstallment.payment_id == payment_id)).scalars().first()


# --- plan terms in words (inside the bot's responses) ----------------------------------

def terms_words(terms: PlanTerms, language: str = "en") -> str:
    """'6 monthly payments of $68.75' ('..., the last one $68.70'), in the
    conversation's language, from the approved scripts."""
    from billing.money import format_money
    from billing.scripts import script

    if terms.last != terms.monthly:
        return script("utter_plan_terms_last_differs", language=language, months=terms.months,
                      monthly=format_money(terms.monthly), last=format_money(terms.last))
    return script("utter_plan_terms", language=language, months=terms.months, monthly=format_money(terms.monthly))


def offers_words(offered: list, language: str = "en") -> str:
    """'3 months at $137.50, 6 months at $68.75 or 12 months at $34.38'."""
    from billing.language import alternatives
    from billing.money import format_money
    from billing.scripts import script

    listed = [script("utter_plan_offer_item", language=language, months=t.months, monthly=format_money(t.monthly)) for t in offered]
    return listed[0] if len(listed) == 1 else alternatives([", ".join(listed[:-1]), listed[-1]], language)

