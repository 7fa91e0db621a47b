"""Financial assistance screening: household income against the 2026 HHS
poverty guidelines and the client's thresholds (DESIGN.md)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, ledger
from billing.accounts import approver_lacks, lock_for_money, take_request
from billing.models import Account, AssistanceApplication, Client
from billing.money import money
from billing.records import Refused, account_event, decide, new_reference
from billing.policy import AssistancePolicy, policy_of
from billing.vocabulary import ApplicationStatus

# 2026 HHS poverty guidelines: (first person, each additional person)
GUIDELINES_2026 = {
    "default": (Decimal("15960"), Decimal("5680")),   # 48 contiguous states and DC
    "AK": (Decimal("19950"), Decimal("7100")),
    "HI": (Decimal("18360"), Decimal("6530")),
}


class ScreeningError(Refused):
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


# what an applicant sends; the same list for every client of the program
DOCUMENTS = (
    "proof of income for everyone in the household (last 3 pay stubs, or last year's tax return)",
    "a photo ID",
    "proof of address (a utility bill or lease)",
    "if anyone has no income, a short signed statement saying how the household gets by",
)


class ApplicationError(Refused):
    """reason: already_open, not_open, not_approver (``role``: who may approve)"""

    def __init__(self, reason: str, role: Optional[str] = None):
        super().__init__(reason)
        self.role = role


# 501(r) (DOMAIN.md): a patient may apply for at least the client's
# application period (240 days) from the account's first post-discharge
# statement.  "At least": a patient who asks after it has passed is still
# taken, and anyone who applies has at least this many days from the day
# they apply to send the documents (and outreach stays held meanwhile).
LATE_APPLICATION_GRACE_DAYS = 30


def window_ends(account: Account, application_period_days: int, today: dt.date) -> dt.date:
    """The last day of the application window: the client's period from the
    account's first statement (``statement_date``; today when the account
    has had none yet), or, later, the grace period from today."""
    start = account.statement_date or today
    return max(start + dt.timedelta(days=application_period_days), today + dt.timedelta(days=LATE_APPLICATION_GRACE_DAYS))


def _audit(session: Session, application: AssistanceApplication, actor: str, action: str, reason: str, before=None) -> None:
    account_event(session, application.account, actor, action, reason, before,
                  {"reference": application.reference, "status": application.status})


def open_applications(session: Session, account: Account) -> List[AssistanceApplication]:
    today = clock.today()
    return [a for a in session.execute(
        select(AssistanceApplication).where(AssistanceApplication.account_id == account.id, AssistanceApplication.status == ApplicationStatus.OPEN)
        .order_by(AssistanceApplication.id)).scalars() if a.window_ends >= today]


def apply(session: Session, account: Account, screening: Screening, *, actor: str, channel: Optional[str] = None,
          conversation_id: Optional[str] = None, today: Optional[dt.date] = None) -> AssistanceApplication:
    """Open an application from a screening: collection outreach is held
    while it is open, until the window ends (``window_ends``)."""
    lock_for_money(session, account)
    if open_applications(session, account):
        raise ApplicationError("already_open")
    policy = policy_of(session.get(Client, account.client_id)).financial_assistance
    application = AssistanceApplication(
        reference=new_reference(session, AssistanceApplication.reference, "FA"), account=account, household_size=screening.household_size,
        annual_income=screening.annual_income, fpl_percent=screening.fpl_percent, screening=screening.outcome,
        discount_percent=screening.discount_percent, status=ApplicationStatus.OPEN, opened_by=actor, channel=channel,
        conversation_id=conversation_id,
        window_ends=window_ends(account, policy.application_period_days, today or clock.today()),
    )
    session.add(application)
    session.flush()
    _audit(session, application, actor, "assistance_applied",
           f"application {application.reference}: household {screening.household_size}, {screening.fpl_percent}% of the guideline")
    return application


def approve(session: Session, application: AssistanceApplication, *, actor: str, note: str = "") -> AssistanceApplication:
    """Approve at the screened level: the assistance adjustment (the discount
    percent of what the patient owes now, all of it for free care) posts once;
    by a supervisor unless the client's policy names another role."""
    role = approver_lacks(session, application.account, "assistance", actor)
    if role:
        raise ApplicationError("not_approver", role=role)
    before = take_request(session, application, "open", ApplicationError("not_open"))
    balance = ledger.balance(session, application.account)
    percent = application.discount_percent if application.screening != "not_likely" else Decimal("0")
    amount = (balance * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if balance > 0 else Decimal("0")
    if amount > 0:
        entry = ledger.post(
            session, application.account, kind="discount", amount=-amount,
            reason_code="FA-FREE" if percent == 100 else f"FA-{percent.normalize()}PCT",
            description=f"Financial assistance {application.reference} ({percent.normalize()}%)", actor=actor,
            source=f"assistance:{application.id}",
        )
        application.adjustment_entry_id = entry.id
    decide(application, ApplicationStatus.APPROVED, actor, note)
    session.flush()
    _audit(session, application, actor, "assistance_approved", f"approved {application.reference}: {amount} adjusted", before)
    return application


def deny(session: Session, application: AssistanceApplication, *, actor: str, note: str) -> AssistanceApplication:
    before = take_request(session, application, "open", ApplicationError("not_open"))
    decide(application, ApplicationStatus.DENIED, actor, note)
    session.flush()
    _audit(session, application, actor, "assistance_denied", f"denied {application.reference}: {application.decision_note}", before)
    return application
