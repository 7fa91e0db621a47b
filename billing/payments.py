"""Patient payments: a card on file, a one-time payment link, a payment
scheduled for a later day, the reprocessing of a declined payment, and
the reconciliation of payments the processor never answered for.

Money moves once per idempotency key.  A payment row is written first
(``pending``) under its unique key; the gateway is charged under the same
key; the result settles the row and posts the ledger entry whose source
is the payment, so neither a retried request, a concurrent one nor a
re-run of reconciliation can post twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import clock, ledger, plans, schedule
from billing.gateway import ChargeResult, GatewayError, PaymentGateway, default_gateway
from billing.models import Account, Payment, PaymentLink, PaymentMethod, utcnow
from billing import money as money_rules
from billing.money import money, positive_amount
from billing.records import account_event, token_hash
from billing.refused import Refused
from billing.vocabulary import PaymentStatus

logger = logging.getLogger(__name__)

LINK_LIFETIME = dt.timedelta(hours=24)
# card attempts a payment link allows: after this many declines it is refused
LINK_ATTEMPTS = 5


# --- what a patient may pay -------------------------------------------------

class AmountRefused(Refused):
    """An amount a patient may not pay; ``reason`` says why:
    not_a_number, zero, negative, too_many_places, above_balance, nothing_owed."""

    def __init__(self, reason: str, balance: Decimal):
        super().__init__(reason)
        self.balance = balance


def check_amount(value, balance: Decimal) -> Decimal:
    """The amount as money, or AmountRefused.  ``value`` may be a number,
    a string like "50", "$1,850.00", or "full" for the whole balance."""
    if balance <= 0:
        raise AmountRefused("nothing_owed", balance)
    text = str(value if value is not None else "").strip().lower()
    if text in ("full", "all", "balance", "the full amount", "everything"):
        return balance
    return _payable(text.replace("usd", ""), balance, at_most=balance)


def _payable(value, balance: Decimal, at_most: Optional[Decimal] = None) -> Decimal:
    """money.positive_amount, refused in a payment's words."""
    try:
        return positive_amount(value, at_most)
    except money_rules.AmountRefused as refused:
        raise AmountRefused("above_balance" if refused.reason == "above_limit" else refused.reason, balance) from None


# --- outcomes ---------------------------------------------------------------

@dataclass(frozen=True)
class PaymentOutcome:
    payment_id: int
    status: str                      # posted, declined, pending, scheduled, cancelled
    amount: Decimal
    confirmation_number: Optional[str]
    decline_code: Optional[str]
    card: str                        # "visa ending 4242"
    balance: Decimal                 # the account's balance after this payment
    payment_date: dt.date

    @property
    def credit(self) -> Decimal:
        """What the account holds in the patient's favour afterwards."""
        return -self.balance if self.balance < 0 else Decimal("0.00")


class PaymentRefused(Refused):
    """The request cannot become a charge (wrong account, a retry the
    decline does not allow, a link already used ...)."""


BRAND_NAMES = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}


def card_label(brand: Optional[str], last4: Optional[str]) -> str:
    """How a card is said: "Visa ending 4242"."""
    if not last4:
        return "card"
    return f"{BRAND_NAMES.get((brand or '').lower(), brand or 'card')} ending {last4}"


def _outcome(session: Session, payment: Payment) -> PaymentOutcome:
    return PaymentOutcome(
        payment_id=payment.id, status=payment.status, amount=payment.amount,
        confirmation_number=payment.confirmation_number, decline_code=payment.decline_code,
        card=card_label(payment.card_brand, payment.card_last4), balance=ledger.balance(session, payment.account),
        payment_date=payment.payment_date,
    )


def _by_key(session: Session, key: str) -> Optional[Payment]:
    return session.execute(select(Payment).where(Payment.idempotency_key == key)).scalar_one_or_none()


def _new_confirmation(session: Session) -> str:
    while True:
        number = "P" + secrets.token_hex(4).upper()
        if session.execute(select(Payment.id).where(Payment.confirmation_number == number)).first() is None:
            return number


def _record(session: Session, payment: Payment) -> Optional[Payment]:
    """Insert the payment under its key; if that key exists (a retry, or a
    concurrent request that got there first), return the existing one."""
    try:
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        existing = _by_key(session, payment.idempotency_key)
        if existing is None:
            raise
        return existing
    return None


def _audit(session: Session, payment: Payment, action: str, reason: str) -> None:
    account = payment.account
    account_event(session, account, payment.actor, action, reason, after={
        "payment_id": payment.id, "status": payment.status, "amount": str(payment.amount),
        "confirmation_number": payment.confirmation_number, "decline_code": payment.decline_code,
        "card": card_label(payment.card_brand, payment.card_last4), "channel": payment.channel,
        "conversation_id": payment.conversation_id, "payment_date": payment.payment_date.isoformat(),
        "balance": str(ledger.balance(session, account)),
    })


def settle(session: Session, payment: Payment, result: ChargeResult) -> None:
    """Write what the processor said; post the ledger once if approved."""
    payment.gateway_reference = result.reference
    payment.settled_at = utcnow()
    if not result.approved:
        payment.status = PaymentStatus.DECLINED
        payment.decline_code = result.decline_code
        session.flush()
        _audit(session, payment, "payment_declined", f"declined by the processor: {result.decline_code}")
        return
    payment.status = PaymentStatus.POSTED
    payment.decline_code = None
    payment.confirmation_number = payment.confirmation_number or _new_confirmation(session)
    session.flush()
    ledger.post(
        session, payment.account, kind="patient_payment", amount=-payment.amount, reason_code="PAT-PAY",
        description=f"Patient payment {payment.confirmation_number} ({card_label(payment.card_brand, payment.card_last4)})",
        actor=payment.actor, effective_date=payment.payment_date, source=f"payment:{payment.id}",
    )
    plans.apply_payment(session, payment)
    # the receipt: what the patient was told, kept with the conversation it came from
    _audit(session, payment, "payment_posted", f"payment {payment.confirmation_number} posted")


def charge(session: Session, payment: Payment, token: str, gateway: PaymentGateway) -> None:
    try:
        result = gateway.charge(session, token, payment.amount, payment.idempotency_key)
    except GatewayError as exc:
        payment.status = PaymentStatus.PENDING
        payment.note = f"processor did not answer: {exc}"[:300]
        session.flush()
        logger.warning("payment %s left pending: %s", payment.id, exc)
        return
    settle(session, payment, result)


def _method_of(session: Session, account: Account, method_id: int) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None or method.patient_id != account.patient_id:
        raise PaymentRefused("unknown_card")
    return method


def pay_with_card_on_file(
    session: Session,
    account: Account,
    method_id: int,
    amount,
    *,
    idempotency_key: str,
    actor: str,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    gateway: Optional[PaymentGateway] = None,
    retry_of: Optional[Payment] = None,
    today: Optional[dt.date] = None,
) -> PaymentOutcome:
    """Charge a card on file now.  The same key gives back the first
    outcome and charges nothing more."""
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _outcome(session, existing)
    amount = _payable(amount, ledger.balance(session, account))
    method = _method_of(session, account, method_id)
    payment = Payment(
        account=account, payment_method_id=method.id, amount=amount, status=PaymentStatus.PENDING, card_brand=method.brand,
        card_last4=method.last4, method="card", payment_date=today or clock.today(), idempotency_key=idempotency_key,
        actor=actor, channel=channel, conversation_id=conversation_id, retry_of_id=retry_of.id if retry_of else None,
    )
    earlier = _record(session, payment)
    if earlier is not None:
        return _outcome(session, earlier)
    charge(session, payment, method.token, gateway or default_gateway())
    return _outcome(session, payment)


def schedule_payment(
    session: Session,
    account: Account,
    method_id: int,
    amount,
    on: dt.date,
    *,
    idempotency_key: str,
    actor: str,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    today: Optional[dt.date] = None,
) -> PaymentOutcome:
    """A payment charged on a later day by ``run_due``; cancellable until then."""
    today = today or clock.today()
    try:
        schedule.check_payment_date(on, today)  # the one scheduling window
    except schedule.DateRefused as refused:
        raise PaymentRefused(refused.reason) from None
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _outcome(session, existing)
    method = _method_of(session, account, method_id)
    payment = Payment(
        account=account, payment_method_id=method.id, amount=money(amount), status=PaymentStatus.SCHEDULED, card_brand=method.brand,
        card_last4=method.last4, method="card", payment_date=on, idempotency_key=idempotency_key, actor=actor,
        channel=channel, conversation_id=conversation_id, confirmation_number=_new_confirmation(session),
    )
    earlier = _record(session, payment)
    if earlier is not None:
        return _outcome(session, earlier)
    _audit(session, payment, "payment_scheduled", f"payment scheduled for {on.isoformat()}")
    return _outcome(session, payment)


def scheduled_payments(session: Session, account: Account) -> list[Payment]:
    return list(session.execute(
        select(Payment).where(Payment.account_id == account.id, Payment.status == PaymentStatus.SCHEDULED).order_by(Payment.payment_date, Payment.id)
    ).scalars())


def cancel_scheduled(session: Session, account: Account, payment_id: int, *, actor: str, reason: str) -> PaymentOutcome:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.account_id != account.id:
        raise PaymentRefused("unknown_payment")
    if payment.status == PaymentStatus.CANCELLED:
        return _outcome(session, payment)
    if payment.status != PaymentStatus.SCHEDULED:
        raise PaymentRefused("not_scheduled")
    payment.status = PaymentStatus.CANCELLED
    session.flush()
    account_event(session, account, actor, "payment_cancelled", reason,
                  before={"payment_id": payment.id, "status": PaymentStatus.SCHEDULED},
                  after={"payment_id": payment.id, "status": PaymentStatus.CANCELLED})
    return _outcome(session, payment)


# --- declines ---------------------------------------------------------------

@dataclass(frozen=True)
class DeclineAdvice:
    code: str
    same_card_now: bool          # may the same card be tried again right away?
    other_card: bool             # should the patient use another card or a link?


_ADVICE = {
    "insufficient_funds": DeclineAdvice("insufficient_funds", same_card_now=False, other_card=True),
    "processing_error": DeclineAdvice("processing_error", same_card_now=True, other_card=False),
    "do_not_honor": DeclineAdvice("do_not_honor", same_card_now=False, other_card=True),
    "expired_card": DeclineAdvice("expired_card", same_card_now=False, other_card=True),
}


def decline_advice(code: Optional[str]) -> DeclineAdvice:
    return _ADVICE.get(code or "", DeclineAdvice(code or "unknown", same_card_now=False, other_card=True))


def latest_declined(session: Session, account: Account) -> Optional[Payment]:
    """The newest declined payment that no later payment has made good."""
    declined = session.execute(
        select(Payment).where(Payment.account_id == account.id, Payment.status == PaymentStatus.DECLINED).order_by(Payment.payment_date.desc(), Payment.id.desc())
    ).scalars()
    for payment in declined:
        if payment.retry_of_id is not None:
            continue  # a failed retry: the original is what the patient asks about
        made_good = session.execute(
            select(Payment.id).where(Payment.retry_of_id == payment.id, Payment.status == PaymentStatus.POSTED)
        ).first()
        if made_good is None:
            return payment
    return None


def last_attempt(session: Session, declined: Payment) -> Payment:
    """The newest retry of a declined payment, or the payment itself."""
    retry = session.execute(
        select(Payment).where(Payment.retry_of_id == declined.id).order_by(Payment.id.desc()).limit(1)
    ).scalar_one_or_none()
    return retry or declined


def retry_options(session: Session, declined: Payment) -> tuple[bool, list[PaymentMethod]]:
    """(may the same card be retried now, the other cards on file)."""
    latest = last_attempt(session, declined)
    advice = decline_advice(latest.decline_code)
    same_card_retries = session.execute(
        select(Payment.id).where(Payment.retry_of_id == declined.id, Payment.payment_method_id == declined.payment_method_id)
    ).all()
    # a processing error earns one immediate retry of the same card, no more
    same_card = advice.same_card_now and not same_card_retries and declined.payment_method_id is not None
    others = [m for m in declined.account.patient.payment_methods if m.id != declined.payment_method_id]
    return same_card, others


def retry_declined(
    session: Session,
    declined: Payment,
    method_id: int,
    *,
    idempotency_key: str,
    actor: str,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    gateway: Optional[PaymentGateway] = None,
) -> PaymentOutcome:
    """Pay a declined amount again, as its decline allows."""
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _outcome(session, existing)
    if declined.status != PaymentStatus.DECLINED:
        raise PaymentRefused("not_declined")
    same_card_ok, _others = retry_options(session, declined)
    if method_id == declined.payment_method_id and not same_card_ok:
        raise PaymentRefused("same_card_not_allowed")
    return pay_with_card_on_file(
        session, declined.account, method_id, declined.amount, idempotency_key=idempotency_key, actor=actor,
        channel=channel, conversation_id=conversation_id, gateway=gateway, retry_of=declined,
    )


# --- payment links ----------------------------------------------------------

def create_link(
    session: Session,
    account: Account,
    amount,
    *,
    actor: str,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> tuple[PaymentLink, str]:
    """A single-use page for ``amount``, valid 24 hours.  Returns the link
    and its token; only the token's hash is stored."""
    amount = _payable(amount, ledger.balance(session, account))
    now = now or utcnow()
    raw = secrets.token_urlsafe(24)
    link = PaymentLink(
        token_hash=token_hash(raw), account=account, amount=amount, created_at=now, expires_at=now + LINK_LIFETIME,
        created_by=actor, channel=channel, conversation_id=conversation_id,
    )
    session.add(link)
    session.flush()
    return link, raw


class LinkError(Refused):
    """unknown, expired, used, or attempts (LINK_ATTEMPTS cards declined on it)"""

    def __init__(self, reason: str, link: Optional[PaymentLink] = None):
        super().__init__(reason)
        self.link = link


def _link_key_prefix(raw_token: str) -> str:
    """What every charge key of one link starts with (the card token follows)."""
    return f"link:{token_hash(raw_token or '')[:16]}:"


def link_declines(session: Session, raw_token: str) -> int:
    """How many cards were declined on this link."""
    prefix = _link_key_prefix(raw_token)
    return session.execute(select(func.count(Payment.id)).where(
        Payment.idempotency_key.startswith(prefix, autoescape=True), Payment.method == "link",
        Payment.status == PaymentStatus.DECLINED)).scalar_one()


def open_link(session: Session, raw_token: str, now: Optional[dt.datetime] = None, *, lock: bool = False) -> PaymentLink:
    """The link, if it can still be paid; LinkError says why not.  ``lock``
    holds the link's row until the transaction ends, so concurrent submits
    of one link are answered one after the other."""
    query = select(PaymentLink).where(PaymentLink.token_hash == token_hash(raw_token or ""))
    link = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if link is None:
        raise LinkError("unknown")
    if link.used_at is not None:
        raise LinkError("used", link)
    if (now or utcnow()) >= link.expires_at:
        raise LinkError("expired", link)
    if link_declines(session, raw_token) >= LINK_ATTEMPTS:
        raise LinkError("attempts", link)
    return link


def pay_with_card_token(
    session: Session,
    account: Account,
    card_token: str,
    amount,
    *,
    idempotency_key: str,
    actor: str,
    method: str = "keypad",
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    gateway: Optional[PaymentGateway] = None,
    now: Optional[dt.datetime] = None,
) -> PaymentOutcome:
    """Charge a one-time card token (from the gateway's tokeniser or
    Twilio <Pay>) once per idempotency key; the key ends with the token so
    reconciliation can charge it again under the same key."""
    if not idempotency_key.endswith(f":{card_token}"):
        idempotency_key = f"{idempotency_key}:{card_token}"
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return _outcome(session, existing)
    # a keypad or payment-page amount: positive and in cents (the amount
    # was read back and confirmed, or fixed when the link was made)
    amount = _payable(amount, ledger.balance(session, account))
    gateway = gateway or default_gateway()
    brand, last4 = gateway.describe(session, card_token)
    payment = Payment(
        account=account, amount=amount, status=PaymentStatus.PENDING, card_brand=brand, card_last4=last4, method=method,
        payment_date=(now or utcnow()).date(), idempotency_key=idempotency_key, actor=actor, channel=channel,
        conversation_id=conversation_id,
    )
    earlier = _record(session, payment)
    if earlier is not None:
        return _outcome(session, earlier)
    charge(session, payment, card_token, gateway)
    return _outcome(session, payment)


def pay_link(
    session: Session,
    raw_token: str,
    card_token: str,
    *,
    gateway: Optional[PaymentGateway] = None,
    now: Optional[dt.datetime] = None,
) -> PaymentOutcome:
    """Pay a link with a one-time card token.  The link closes when a
    payment posts; after a decline the patient may try another card, up to
    LINK_ATTEMPTS cards, until it expires.  The same card token sent again
    gets the first answer; concurrent submits wait for the link's row
    lock, so one link is never charged twice."""
    key = _link_key_prefix(raw_token) + card_token
    existing = _by_key(session, key)
    if existing is not None:
        return _outcome(session, existing)
    try:
        link = open_link(session, raw_token, now, lock=True)
    except LinkError:
        # a submit of the same card that waited for the lock: its answer was given meanwhile
        existing = _by_key(session, key)
        if existing is not None:
            return _outcome(session, existing)
        raise
    outcome = pay_with_card_token(
        session, link.account, card_token, link.amount, idempotency_key=key, actor="patient:payment-link", method="link",
        channel=link.channel, conversation_id=link.conversation_id, gateway=gateway, now=now,
    )
    if outcome.status in (PaymentStatus.POSTED, PaymentStatus.PENDING):
        link.used_at = now or utcnow()
        link.payment_id = outcome.payment_id
        session.flush()
    return outcome
