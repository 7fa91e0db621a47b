"""Financial assistance screening: household income against the 2026 HHS
poverty guidelines and the client's thresholds (DESIGN.md)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from billing.money import money
from billing.policy import AssistancePolicy

# 2026 HHS poverty guidelines: (first person, each additional person)
GUIDELINES_2026 = {
    "default": (Decimal("15960"), Decimal("5680")),   # 48 contiguous states and DC
    "AK": (Decimal("19950"), Decimal("7100")),
    "HI": (Decimal("18360"), Decimal("6530")),
}


class ScreeningError(ValueError):
    pass


def poverty_guideline(household_size: int, state: str | None = None) -> Decimal:
    if household_size < 1:
        raise ScreeningError("a household has at least one person")
    first, each = GUIDELINES_2026.get((state or "").upper(), GUIDELINES_2026["default"])
    return first + each * (household_size - 1)


@dataclass(frozen=True)
class Screening:
    household_size: int
    annual_income: Decimal
    guideline: Decimal
    fpl_percent: int                # income as a percentage of the guideline, rounded
    outcome: str                    # free_care, discount, not_likely
    discount_percent: Decimal       # for a discount; 100 for free care; 0 otherwise


def screen(policy: AssistancePolicy, household_size: int, annual_income, state: str | None = None) -> Screening:
    """The likely outcome: free care at or below the client's free-care
    line, its discount up to the discount line, else not likely."""
    income = money(annual_income)
    if income < 0:
        raise ScreeningError("income cannot be negative")
    guideline = poverty_guideline(int(household_size), state)
    percent = int((income * 100 / guideline).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    # the lines are compared exactly; the rounded percent is only for saying it
    if income * 100 <= guideline * policy.free_care_max_fpl_percent:
        outcome, discount = "free_care", Decimal("100")
    elif income * 100 <= guideline * policy.discount_max_fpl_percent:
        outcome, discount = "discount", policy.discount_percent
    else:
        outcome, discount = "not_likely", Decimal("0")
    return Screening(int(household_size), income, guideline, percent, outcome, discount)
