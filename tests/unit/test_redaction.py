"""Card numbers are replaced before text goes anywhere."""
from __future__ import annotations

import pytest

from billing.redaction import holds_redacted_card, redact_card_numbers


@pytest.mark.parametrize("text, expected", [
    ("my card is 4242424242424242", "my card is [card ending 4242]"),
    ("4242 4242 4242 4242 exp 12/30", "[card ending 4242] exp 12/30"),
    ("5555-5555-5555-4444", "[card ending 4444]"),
    ("amex 3782 822463 10005 please", "amex [card ending 0005] please"),
    ("card 4000000000000002, and 4000000000009995", "card [card ending 0002], and [card ending 9995]"),
    ("account 40012345 dob 03 03 1985", "account 40012345 dob 03 03 1985"),
    ("pay $100 on 12/15", "pay $100 on 12/15"),
    ("4242424242424241", "4242424242424241"),          # fails the Luhn check
    ("phone 555 010 1001", "phone 555 010 1001"),
    ("", ""),
])
def test_card_numbers_are_replaced_and_nothing_else(text, expected):
    assert redact_card_numbers(text)[0] == expected


def test_the_count_and_the_marker_say_a_card_was_taken_out():
    text, count = redact_card_numbers("use 4242424242424242 and 5555555555554444")
    assert count == 2 and holds_redacted_card(text)
    assert "4242424242424242" not in text and "5555555555554444" not in text
