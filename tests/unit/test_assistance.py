"""Financial assistance screening against the 2026 guidelines."""
from __future__ import annotations

from decimal import Decimal

import pytest

from billing.assistance import ScreeningError, poverty_guideline, screen
from billing.policy import AssistancePolicy

RIVERSIDE = AssistancePolicy(free_care_max_fpl_percent=200, discount_max_fpl_percent=400, discount_percent=Decimal("60"),
                             application_period_days=240)


def test_the_2026_guidelines():
    assert poverty_guideline(1) == Decimal("15960")
    assert poverty_guideline(4) == Decimal("33000")
    assert poverty_guideline(4, "AK") == Decimal("41250") and poverty_guideline(2, "hi") == Decimal("24890")


def test_robert_household_of_four_on_38000_is_115_percent_and_likely_free_care():
    result = screen(RIVERSIDE, 4, "38000.00")
    assert result.fpl_percent == 115 and result.outcome == "free_care" and result.discount_percent == Decimal("100")


@pytest.mark.parametrize("income, outcome", [("66000", "free_care"), ("66001", "discount"), ("132000", "discount"), ("140000", "not_likely")])
def test_the_clients_lines_decide(income, outcome):
    assert screen(RIVERSIDE, 4, income).outcome == outcome


def test_bad_answers_are_refused():
    with pytest.raises(ScreeningError):
        screen(RIVERSIDE, 0, "1000")
    with pytest.raises(ScreeningError):
        screen(RIVERSIDE, 2, "-5")
