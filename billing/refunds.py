"""Refunds of a credit balance: a patient asks (to the card the credit was
paid with, or by check), a supervisor approves (or the role the client's
policy names); the refund posts to the ledger once and, to a card, goes
back through the gateway under one idempotency key."""
from __future__ import annotations

from decimal import Decimal
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import insurance, ledger
from billing.accounts import approver_lacks, lock_for_money, take_request
from billing.gateway import GatewayError, PaymentGateway, default_gateway
from billing.models import Account, Payment, PaymentMethod, RefundRequest
from billing.money import AmountRefused, money, positive_amount
from billing.records import Refused, account_event, decide
from billing.vocabulary import PaymentStatus, RequestStatus

METHODS = ("card", "check")


class RefundError(Refused):
    """reason: no_credit, above_credit, not_positive, bad_method, no_card, already_requested, not_requested,
    gateway_unavailable, not_approver; ``credit``: the credit there is; ``role``: who may approve (not_approver)"""

    def __init__(self, reason: str, credit: Optional[Decimal] = None, role: Optional[str] = None):
        super().__init__(reason)
        self.credit, self.role = credit, role


def credit(session: Session, account: Account) -> Decimal:
    """What the account holds in the patient's favour (0 when they owe, and
    while the balance is with insurance for re-billing: what a payer pays
    then is not the patient's money until the re-bill is settled)."""
    if insurance.open_transfers(session, account):
        return money(0)
    balance = ledger.balance(session, account)
    return -balance if balance < 0 else money(0)


def original_card(session: Session, account: Account) -> Optional[PaymentMethod]:
    """The card on file the credit was paid with: the latest posted card
    payment's card, matched by its last four digits."""
    paid = session.execute(
        select(Payment).where(Payment.account_id == account.id, Payment.status == PaymentStatus.POSTED, Payment.card_last4.isnot(None))
        .order_by(Payment.payment_date.desc(), Payment.id.desc())
    ).scalars().first()
    if paid is None:
        return None
    if paid.payment_method is not None:
        return paid.payment_method
    return session.execute(
        select(PaymentMethod).where(PaymentMethod.patient_id == account.patient_id, PaymentMethod.last4 == paid.card_last4)
    ).scalars().first()


def _audit(session: Session, request: RefundRequest, actor: str, action: str, reason: str, before=None) -> None:
    account_event(session, request.account, actor, action, reason, before,
                  {"refund_request": request.id, "status": request.status, "amount": str(request.amount)})


def pending(session: Session, account: Account) -> List[RefundRequest]:
    return list(session.execute(
        select(RefundRequest).where(RefundRequest.account_id == account.id, RefundRequest.status == RequestStatus.REQUESTED)
        .order_by(RefundRequest.id)).scalars())


def request_refund(session: Session, account: Account, amount, method: str, *, actor: str,
                   conversation_id: Optional[str] = None) -> RefundRequest:
    amount = money(amount)
    lock_for_money(session, account)
    available = credit(session, account)
    if method not in METHODS:
        raise RefundError("bad_method")
    try:
        positive_amount(amount)
    except AmountRefused:
        raise RefundError("not_positive") from None
    if available <= 0:
        raise RefundError("no_credit", available)
    if amount > available:
        raise RefundError("above_credit", available)
    if pending(session, account):
        raise RefundError("already_requested", available)
    card = original_card(session, account) if method == "card" else None
    if method == "card" and card is None:
        raise RefundError("no_card", available)
    request = RefundRequest(account=account, amount=amount, method=method, payment_method=card, status=RequestStatus.REQUESTED,
                            requested_by=actor, conversation_id=conversation_id)
    session.add(request)
    session.flush()
    _audit(session, request, actor, "refund_requested", f"refund of {amount} by {method} requested")
    return request


def approve(session: Session, request: RefundRequest, *, actor: str, note: str = "",
            gateway: Optional[PaymentGateway] = None) -> RefundRequest:
    """Pay the refund: once (the ledger entry's source and the gateway's
    key are the request), and never more than the credit left; by a
    supervisor unless the client's policy names another role."""
    role = approver_lacks(session, request.account, "refund", actor)
    if role:
        raise RefundError("not_approver", role=role)
    before = take_request(session, request, "requested", RefundError("not_requested"))
    available = credit(session, request.account)
    if request.amount > available:
        raise RefundError("above_credit", available)
    if request.method == "card":
        gateway = gateway or default_gateway()
        try:
            result = gateway.refund(session, request.payment_method.token, request.amount, f"refund:{request.id}")
        except GatewayError:
            # nothing posted; the request stays for another try
            raise RefundError("gateway_unavailable", available)
        if not result.approved:
            decide(request, RequestStatus.FAILED, actor, f"card refund declined ({result.decline_code})")
            _audit(session, request, actor, "refund_failed", request.decision_note, before)
            return request
        request.gateway_reference = result.reference
    entry = ledger.post(
        session, request.account, kind="refund", amount=request.amount, reason_code=f"REFUND-{request.method.upper()}",
        description=f"Refund of credit by {request.method}" + (f" to card ending {request.payment_method.last4}" if request.payment_method else ""),
        actor=actor, source=f"refund:{request.id}",
    )
    request.ledger_entry_id = entry.id
    decide(request, RequestStatus.REFUNDED, actor, note)
    session.flush()
    _audit(session, request, actor, "refund_paid", f"refund of {request.amount} by {request.method} approved", before)
    return request


def deny(session: Session, request: RefundRequest, *, actor: str, note: str) -> RefundRequest:
    before = take_request(session, request, "requested", RefundError("not_requested"))
    decide(request, RequestStatus.DENIED, actor, note)
    _audit(session, request, actor, "refund_denied", f"refund denied: {request.decision_note}", before)
    return request
