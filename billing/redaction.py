"""Card numbers never travel on: a Luhn-valid run of 13 to 19 digits, with
or without spaces or dashes between groups, becomes ``[card ending NNNN]``.

Every channel calls ``redact_card_numbers`` before patient text reaches
Rasa; it is the one place the rule lives.
"""
from __future__ import annotations

import re

from billing.gateway import luhn_valid

# digit groups joined by single spaces or dashes
_RUN = re.compile(r"\d+(?:[ -]\d+)*")
MARKER = "[card ending {last4}]"
MARKER_PREFIX = "[card ending "


def _card_span(groups: list[tuple[int, int, str]]) -> tuple[int, int, str] | None:
    """The longest consecutive groups whose digits form a card number."""
    best = None
    for i in range(len(groups)):
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_valid(digits):
                if best is None or len(digits) > len(best[2]):
                    best = (groups[i][0], groups[j][1], digits)
    return best


def redact_card_numbers(text: str) -> tuple[str, int]:
    """(the text with card numbers replaced, how many were replaced)."""
    if not text:
        return text, 0
    out, count, pos = [], 0, 0
    for run in _RUN.finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start(), m.group()) for m in re.finditer(r"\d+", run.group())]
        while True:
            span = _card_span(groups)
            if span is None:
                break
            start, end, digits = span
            out.append(text[pos:start])
            out.append(MARKER.format(last4=digits[-4:]))
            pos = end
            count += 1
            groups = [g for g in groups if g[0] >= end]
    out.append(text[pos:])
    return "".join(out), count


def holds_redacted_card(text: str | None) -> bool:
    return bool(text) and MARKER_PREFIX in text
