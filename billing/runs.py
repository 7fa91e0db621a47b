"""The daily run and reconciliation: charge the scheduled payments and
autopay installments that are due, mark missed installments (plans
default at the client's limit), and settle payments a processor left
pending.  Safe to run more than once a day: every charge has a fixed key.
``selfpay payments run|reconcile`` calls these."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, payments, plans
from billing.gateway import GatewayError, PaymentGateway, default_gateway
from billing.models import Payment, PaymentLink, PaymentMethod, PaymentPlan, PlanInstallment
from billing.vocabulary import InstallmentStatus, PaymentStatus, PlanStatus

logger = logging.getLogger(__name__)


@dataclass
class RunReport:
    posted: list[str]
    declined: list[str]
    pending: list[str]
    missed: list[str]
    defaulted: list[str]

    def lines(self) -> list[str]:
        out = []
        for label, items in (("posted", self.posted), ("declined", self.declined), ("left pending", self.pending),
                             ("installments missed", self.missed), ("plans defaulted", self.defaulted)):
            out.append(f"{label}: {len(items)}" + (f" ({', '.join(items)})" if items else ""))
        return out

    def tally(self, payment: Payment, label: str) -> None:
        {"posted": self.posted, "declined": self.declined}.get(payment.status, self.pending).append(label)


def run_due(session: Session, today: Optional[dt.date] = None, gateway: Optional[PaymentGateway] = None, actor: str = "scheduler") -> RunReport:
    """Charge scheduled payments and autopay installments that are due;
    count missed installments and default plans past the policy's limit."""
    today = today or clock.today()
    gateway = gateway or default_gateway()
    report = RunReport([], [], [], [], [])
    due = session.execute(
        select(Payment).where(Payment.status == PaymentStatus.SCHEDULED, Payment.payment_date <= today).order_by(Payment.id)
    ).scalars().all()
    for payment in due:
        method = session.get(PaymentMethod, payment.payment_method_id)
        payment.status = PaymentStatus.PENDING
        payment.payment_date = today
        session.flush()
        payments.charge(session, payment, method.token, gateway)
        report.tally(payment, payment.confirmation_number or str(payment.id))
    _run_installments(session, today, gateway, actor, report)
    return report


def _run_installments(session: Session, today: dt.date, gateway: PaymentGateway, actor: str, report: RunReport) -> None:
    """Charge autopay installments due today or earlier; an installment not
    paid by its due date is missed."""
    due = session.execute(
        select(PlanInstallment).join(PaymentPlan)
        .where(PaymentPlan.status == PlanStatus.ACTIVE, PlanInstallment.status == InstallmentStatus.DUE, PlanInstallment.due_date <= today)
        .order_by(PlanInstallment.due_date, PlanInstallment.id)
    ).scalars().all()
    for inst in due:
        plan = inst.plan
        if plan.status != PlanStatus.ACTIVE:
            continue
        account = plan.account
        label = f"{account.account_number}#{inst.seq}"
        if plan.payment_method_id is not None:
            outcome = payments.pay_with_card_on_file(
                session, account, plan.payment_method_id, inst.amount, idempotency_key=f"installment:{inst.id}:autopay",
                actor=actor, channel="autopay", gateway=gateway, today=today,
            )
            payment = session.get(Payment, outcome.payment_id)
            report.tally(payment, label)
            if outcome.status in (PaymentStatus.POSTED, PaymentStatus.PENDING):
                if outcome.status == PaymentStatus.PENDING:
                    inst.payment_id = payment.id
                continue
            inst.payment_id = payment.id
        elif inst.due_date >= today:
            continue  # paid by link: the patient has until the end of the due date
        report.missed.append(label)
        if plans.miss_installment(session, inst, actor):
            report.defaulted.append(account.account_number)


def reconcile(session: Session, gateway: Optional[PaymentGateway] = None) -> RunReport:
    """Settle payments left pending by a processor that did not answer:
    ask the processor for the result under the payment's key; if it never
    received the charge, send it again under the same key."""
    gateway = gateway or default_gateway()
    report = RunReport([], [], [], [], [])
    pending = session.execute(select(Payment).where(Payment.status == PaymentStatus.PENDING).order_by(Payment.id)).scalars().all()
    for payment in pending:
        label = str(payment.id)
        try:
            result = gateway.lookup(session, payment.idempotency_key)
            if result is None:
                token = _token_for(session, payment)
                if token is None:
                    report.pending.append(label)
                    continue
                result = gateway.charge(session, token, payment.amount, payment.idempotency_key)
        except GatewayError as exc:
            logger.warning("payment %s still pending: %s", payment.id, exc)
            report.pending.append(label)
            continue
        payments.settle(session, payment, result)
        if payment.status == PaymentStatus.DECLINED and payment.method == "link":
            # the link that was closed while the answer was awaited opens again
            for link in session.execute(select(PaymentLink).where(PaymentLink.payment_id == payment.id)).scalars():
                link.used_at, link.payment_id = None, None
        report.tally(payment, payment.confirmation_number or label)
    return report


def _token_for(session: Session, payment: Payment) -> Optional[str]:
    if payment.payment_method_id:
        return session.get(PaymentMethod, payment.payment_method_id).token
    if payment.method in ("link", "keypad"):
        # a one-time card token's charge has the token at the end of its key
        return payment.idempotency_key.rsplit(":", 1)[-1]
    return None
