"""Payment gateway interface and the sandbox gateway behind it.

A gateway turns a card into a token; our database keeps only the token,
brand, last four digits and expiry.  The sandbox is the default and
behaves like a processor's test mode: the test cards of DESIGN.md
approve or decline with fixed codes.  The sandbox keeps its own vault
(token -> how that test card behaves), never the card number.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Column, DateTime, Integer, String
from sqlalchemy.orm import Session

from billing.models import Base, utcnow

# Outcomes of the sandbox test cards (DESIGN.md, "Sandbox gateway").
SANDBOX_TEST_CARDS = {
    "4242424242424242": "approved",
    "5555555555554444": "approved",
    "4000000000000002": "do_not_honor",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}


class CardError(ValueError):
    """The card details cannot be tokenised (bad number, bad expiry)."""


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class PaymentGateway(Protocol):
    name: str

    def tokenize(self, session: Session, card_number: str, exp_month: int, exp_year: int) -> CardToken: ...


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
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SandboxGateway:
    name = "sandbox"

    def tokenize(self, session: Session, card_number: str, exp_month: int, exp_year: int) -> CardToken:
        digits = "".join(ch for ch in str(card_number) if ch.isdigit())
        if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
            raise CardError("that card number is not valid")
        if not 1 <= int(exp_month) <= 12:
            raise CardError("the expiry month must be 1 to 12")
        token = "tok_sbx_" + secrets.token_hex(12)
        # any other valid number behaves like an approving card, as in a processor's test mode
        outcome = SANDBOX_TEST_CARDS.get(digits, "approved")
        session.add(SandboxCard(token=token, outcome=outcome, last4=digits[-4:]))
        session.flush()
        return CardToken(token=token, brand=card_brand(digits), last4=digits[-4:], exp_month=int(exp_month), exp_year=int(exp_year))


def default_gateway() -> PaymentGateway:
    return SandboxGateway()
