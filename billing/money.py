"""Money: Decimal with two places, never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional

from billing.refused import Refused

CENT = Decimal("0.01")


class InvalidAmount(Refused):
    """An amount that is not a whole number of cents."""


def money(value) -> Decimal:
    """Return ``value`` as a Decimal with two places.

    Accepts Decimal, int or a numeric string ("412.5", "-85.00").
    Floats are refused: they cannot carry cents exactly.  More than two
    decimal places is refused rather than silently rounded.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidAmount(f"amounts must be Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(",", "").lstrip("$")
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise InvalidAmount(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not an amount: {value!r}")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidAmount(f"more than two decimal places: {value!r}")
    return amount.quantize(CENT)


class AmountRefused(Refused):
    """An amount a rule does not take.  reason: not_a_number,
    too_many_places, negative, zero, above_limit (``limit``: the most allowed)."""

    def __init__(self, reason: str, limit: Optional[Decimal] = None):
        super().__init__(reason)
        self.limit = limit


def positive_amount(value, at_most: Optional[Decimal] = None) -> Decimal:
    """The one amount check for money that moves (payments, keypad
    payments, write-offs, dispute adjustments, refunds): a whole number of
    cents, more than zero, and at most ``at_most`` when there is a limit."""
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("$", "").strip()
    try:
        amount = Decimal(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else value
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise AmountRefused("not_a_number")
    except ArithmeticError:
        raise AmountRefused("not_a_number") from None
    if amount < 0:
        raise AmountRefused("negative")
    if amount == 0:
        raise AmountRefused("zero")
    try:
        amount = money(amount)
    except InvalidAmount:
        raise AmountRefused("too_many_places") from None
    if at_most is not None and amount > at_most:
        raise AmountRefused("above_limit", at_most)
    return amount


def to_cents(amount: Decimal) -> int:
    return int(money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def format_money(amount: Decimal) -> str:
    """'$1,234.50'; a negative amount keeps its sign: '-$85.00'."""
    amount = money(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
