from decimal import Decimal

import pytest

from billing.money import InvalidAmount, format_money, from_cents, money, to_cents


def test_amounts_keep_two_places():
    assert money("412.5") == Decimal("412.50")
    assert money(Decimal("0")) == Decimal("0.00")
    assert money("$1,250.00") == Decimal("1250.00")
    assert money("-85.00") == Decimal("-85.00")


@pytest.mark.parametrize("bad", ["12.345", "abc", "", "NaN", "Infinity"])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(InvalidAmount):
        money(bad)


def test_floats_are_refused_because_they_cannot_hold_cents():
    with pytest.raises(InvalidAmount):
        money(0.1)


def test_cents_round_trip():
    assert to_cents(Decimal("412.50")) == 41250
    assert from_cents(-8500) == Decimal("-85.00")


def test_money_is_shown_as_patients_read_it():
    assert format_money(Decimal("1850")) == "$1,850.00"
    assert format_money(Decimal("-85")) == "-$85.00"
