"""Payment gateway interface and the sandbox gateway behind it.

A gateway turns a card into a token; our database keeps only the token,
brand, last four digits and expiry.  The sandbox is the default and
behaves like a processor's test mode: the test cards of DESIGN.md
approve or decline with fixed codes.  The sandbox keeps its own vault
(token -> how that test card behaves), never the card number.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Protocol

from sqlalchemy import Column, DateTime, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.models import Base, Money, utcnow
from billing.refused import Refused
from selfpay import settings

# Outcomes of the sandbox test cards (DESIGN.md, "Sandbox gateway").
SANDBOX_TEST_CARDS = {
    "4242424242424242": "approved",
    "5555555555554444": "approved",
    "4000000000000002": "do_not_honor",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}


class CardError(Refused):
    """The card details cannot be tokenised (bad number, bad expiry)."""


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class ChargeResult:
    """What the processor said about one charge."""

    approved: bool
    reference: str
    decline_code: Optional[str] = None


class GatewayError(RuntimeError):
    """The processor did not answer: the charge may or may not exist.
    The payment stays pending until reconciliation asks again."""


class GatewayTimeout(GatewayError):
    pass


class GatewayUnavailable(GatewayError):
    pass


class PaymentGateway(Protocol):
    name: str

    def tokenize(self, session: Session, card_number: str, exp_month: int, exp_year: int) -> CardToken: ...

    def charge(self, session: Session, token: str, amount: Decimal, idempotency_key: str) -> ChargeResult:
        """Charge a token once per idempotency key: the same key gives
        back the first result and never charges again."""
        ...

    def refund(self, session: Session, token: str, amount: Decimal, idempotency_key: str) -> ChargeResult:
        """Pay money back to a card: the same key never refunds twice."""

    def lookup(self, session: Session, idempotency_key: str) -> Optional[ChargeResult]:
        """The result of an earlier charge with this key, or None if the
        processor never received it."""
        ...

    def describe(self, session: Session, token: str) -> tuple[Optional[str], Optional[str]]:
        """(brand, last four digits) of a token, what a receipt may show."""
        ...


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if digits[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(digits[:4] or 0) <= 2720:
        return "mastercard"
    if digits[:2] in {"34", "37"}:
        return "amex"
    if digits.startswith("6011") or digits.startswith("65"):
        return "discover"
    return "card"


class SandboxCard(Base):
    """The sandbox processor's vault: how a tokenised test card behaves."""

    __tablename__ = "sandbox_vault"
    id = Column(Integer, primary_key=True)
    token = Column(String(128), nullable=False, unique=True)
    outcome = Column(String(32), nullable=False)
    last4 = Column(String(4), nullable=False)
    brand = Column(String(20))
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SandboxCharge(Base):
    """The sandbox processor's record of a charge, one per idempotency key."""

    __tablename__ = "sandbox_charges"
    id = Column(Integer, primary_key=True)
    idempotency_key = Column(String(120), nullable=False, unique=True)
    reference = Column(String(40), nullable=False, unique=True)
    token = Column(String(128), nullable=False)
    amount = Column(Money, nullable=False)
    outcome = Column(String(32), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SandboxGateway:
    """The default gateway.  ``mode`` makes it misbehave for tests and
    drills: ``slow`` answers after ``delay`` seconds, ``timeout`` records
    the charge but the answer never arrives, ``unavailable`` refuses the
    connection before anything is charged."""

    name = "sandbox"

    def __init__(self, mode: str = "normal", delay: float = 0.0):
        if mode not in ("normal", "slow", "timeout", "unavailable"):
            raise ValueError(f"unknown sandbox gateway mode: {mode}")
        self.mode = mode
        self.delay = delay

    def tokenize(self, session: Session, card_number: str, exp_month: int, exp_year: int) -> CardToken:
        digits = "".join(ch for ch in str(card_number) if ch.isdigit())
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            raise CardError("that card number is not valid")
        if not 1 <= int(exp_month) <= 12:
            raise CardError("the expiry month must be 1 to 12")
        token = "tok_sbx_" + secrets.token_hex(12)
        # any other valid number behaves like an approving card, as in a processor's test mode
        outcome = SANDBOX_TEST_CARDS.get(digits, "approved")
        session.add(SandboxCard(token=token, outcome=outcome, last4=digits[-4:], brand=card_brand(digits)))
        session.flush()
        return CardToken(token=token, brand=card_brand(digits), last4=digits[-4:], exp_month=int(exp_month), exp_year=int(exp_year))


    def charge(self, session: Session, token: str, amount: Decimal, idempotency_key: str) -> ChargeResult:
        if self.mode == "unavailable":
            raise GatewayUnavailable("the sandbox gateway is unavailable")
        if self.mode == "slow" and self.delay:
            time.sleep(self.delay)
        earlier = self.lookup(session, idempotency_key)
        if earlier is not None:
            return earlier
        card = session.execute(select(SandboxCard).where(SandboxCard.token == token)).scalar_one_or_none()
        outcome = card.outcome if card is not None else "invalid_token"
        record = SandboxCharge(
            idempotency_key=idempotency_key, reference="ch_sbx_" + secrets.token_hex(8), token=token,
            amount=amount, outcome=outcome,
        )
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            # the same key arrived at the same moment: the first one wins
            earlier = self.lookup(session, idempotency_key)
            if earlier is None:
                raise
            return earlier
        if self.mode == "timeout":
            raise GatewayTimeout("the sandbox gateway did not answer in time")
        return _result(record)

    def refund(self, session: Session, token: str, amount: Decimal, idempotency_key: str) -> ChargeResult:
        if self.mode == "unavailable":
            raise GatewayUnavailable("the sandbox gateway is unavailable")
        earlier = self.lookup(session, idempotency_key)
        if earlier is not None:
            return earlier
        card = session.execute(select(SandboxCard).where(SandboxCard.token == token)).scalar_one_or_none()
        # a refund goes back to any card the processor knows, whatever its charge behaviour
        record = SandboxCharge(idempotency_key=idempotency_key, reference="re_sbx_" + secrets.token_hex(8), token=token,
                               amount=-amount, outcome="approved" if card is not None else "invalid_token")
        session.add(record)
        session.flush()
        return _result(record)

    def lookup(self, session: Session, idempotency_key: str) -> Optional[ChargeResult]:
        if self.mode == "unavailable":
            raise GatewayUnavailable("the sandbox gateway is unavailable")
        record = session.execute(select(SandboxCharge).where(SandboxCharge.idempotency_key == idempotency_key)).scalar_one_or_none()
        return _result(record) if record is not None else None


    def describe(self, session: Session, token: str) -> tuple[Optional[str], Optional[str]]:
        card = session.execute(select(SandboxCard).where(SandboxCard.token == token)).scalar_one_or_none()
        return (card.brand, card.last4) if card is not None else (None, None)


def _result(record: SandboxCharge) -> ChargeResult:
    approved = record.outcome == "approved"
    return ChargeResult(approved=approved, reference=record.reference, decline_code=None if approved else record.outcome)


def default_gateway() -> PaymentGateway:
    """The sandbox, unless ``SANDBOX_GATEWAY_MODE`` asks it to misbehave."""
    return SandboxGateway(mode=settings.get("SANDBOX_GATEWAY_MODE"), delay=float(settings.get("SANDBOX_GATEWAY_DELAY")))
