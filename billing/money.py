"""Money: Decimal with two places, never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


class InvalidAmount(ValueError):
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


def to_cents(amount: Decimal) -> int:
    return int(money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def format_money(amount: Decimal) -> str:
    """'$1,234.50'; a negative amount keeps its sign: '-$85.00'."""
    amount = money(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"
