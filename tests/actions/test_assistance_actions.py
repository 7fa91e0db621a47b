"""Financial assistance: how household size and income are read, and the
screening action against the real billing core."""
from __future__ import annotations

from decimal import Decimal

import pytest

from bot.actions.assistance import ActionScreenAssistance
from bot.nlp.assistance import read_household, read_income
from tests.actions.helpers import run, said, tracker

ROBERT = {"identity": "verified", "patient_id": "p-robert-johnson", "patient_first_name": "Robert"}


@pytest.mark.parametrize("text, size", [
    ("4", 4), ("four people", 4), ("just me", 1), ("there are 3 of us", 3), ("5 in my household", 5),
    ("me, my wife and our two kids", 4), ("my husband and me", 2), ("me and my son", 2), ("my mom, my daughter and me", 3),
    ("a lot", None), ("0", None), ("4 or 5", None),
])
def test_household_sizes(text, size):
    assert read_household(text) == size


@pytest.mark.parametrize("text, income", [
    ("38,000 a year", Decimal("38000.00")), ("$38000", Decimal("38000.00")), ("52k", Decimal("52000.00")),
    ("about 3,000 a month", Decimal("36000.00")), ("500 a week", Decimal("26000.00")), ("no income right now", Decimal("0")),
    ("not sure", None),
])
def test_incomes(text, income):
    assert read_income(text) == income


def test_robert_screening_says_free_care_and_asks_to_apply(seeded_sqlite):
    messages, events = run(ActionScreenAssistance(), tracker(slots={**ROBERT, "household_size": 4.0, "annual_income": "38000.00"}))
    assert said(messages) == ["utter_assistance_likely_free_care"]
    assert messages[0]["fpl_percent"] == 115 and messages[0]["balance"] == "$4,200.00"
    assert next(e["value"] for e in events if e.get("name") == "pending_confirmation")["kind"] == "assistance"
