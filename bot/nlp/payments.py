"""Amounts as patients say them, read against the balance: parts of it
("half of it", "a third", "the rest", "what's left"), and vague ones
("a couple hundred", "a few hundred") that must be asked about, never
guessed."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Optional

# the whole balance, however said
FULL = re.compile(
    r"\b(full|whole|entire|everything|all of it|in full|pay (it )?off|the balance|total|the rest|rest of (it|my bill|the bill)|"
    r"what'?s left|whats left|what is left|remaining|remainder|what i owe|all i owe"
    # Spanish, accents optional
    r"|todo|toda la cuenta|el total|completo|completa|lo que debo|lo que queda|lo que falta|el resto|todo el saldo)\b", re.I)

_SHARES = (
    (re.compile(r"\b(half|1/2|la mitad|mitad)\b", re.I), Fraction(1, 2)),
    (re.compile(r"\b(a|one|1) ?third\b|\b1/3\b|\b(un|una) (tercio|tercera parte)\b", re.I), Fraction(1, 3)),
    (re.compile(r"\btwo ?thirds\b|\b2/3\b|\bdos tercios\b", re.I), Fraction(2, 3)),
    (re.compile(r"\b(a|one) ?quarter\b|\b1/4\b|\ba fourth\b|\bla cuarta parte\b|\bun cuarto\b", re.I), Fraction(1, 4)),
    (re.compile(r"\bthree ?quarters\b|\b3/4\b|\btres cuartos\b", re.I), Fraction(3, 4)),
)
PERCENT = re.compile(r"\b(\d{1,3})\s?(%|percent\b|por ?ciento\b)", re.I)
VAGUE = re.compile(r"\b(a )?(couple|few|several|some) (hundred|hunned|hundo|thousand|bucks|dollars)\b|\bsomething like\b|\bnot sure how much\b", re.I)


def share_of_balance(text: str) -> Optional[Fraction]:
    """The part of the balance named ("half of it" -> 1/2), or None."""
    for pattern, share in _SHARES:
        if pattern.search(text):
            return share
    percent = PERCENT.search(text)
    if percent and 0 < int(percent.group(1)) <= 100:
        return Fraction(int(percent.group(1)), 100)
    return None


def amount_of(share: Fraction, balance: Decimal) -> Decimal:
    return (balance * share.numerator / share.denominator).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_vague(text: str) -> bool:
    """An amount said loosely ("a couple hundred"): ask which."""
    return bool(VAGUE.search(text))
