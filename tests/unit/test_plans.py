"""Payment plans: terms from the client's policy, exact schedules,
changes, autopay, misses and default (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import db, ledger, plans, runs
from billing.clients import get_client
from billing.models import Account, AccountEvent
from billing.plans import PlanRefused, PlanTerms

JAMES, LINDA, MARIA, GRACE = "40023456", "40034567", "40012345", "40090123"


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def _policy(session, client="riverside"):
    return get_client(session, client).policy.payment_plan


def test_six_months_of_1850_is_308_33_with_the_last_308_35(seeded_url):
    with db.session_scope(seeded_url) as session:
        terms = plans.terms_for_months(_policy(session), Decimal("1850.00"), 6)
    assert terms == PlanTerms(6, Decimal("308.33"), Decimal("308.35"))
    assert terms.total == Decimal("1850.00")


def test_fifty_a_month_gives_the_months_it_takes(seeded_url):
    with db.session_scope(seeded_url) as session:
        policy = _policy(session)
    terms = plans.terms_for_monthly(policy, Decimal("412.50"), "50")
    assert (terms.months, terms.monthly, terms.last) == (9, Decimal("50.00"), Decimal("12.50"))


@pytest.mark.parametrize("ask, reason, nearest_months", [
    (("months", 24), "too_many_months", 12),
    (("months", 1), "too_few_months", 2),
    (("monthly", "20"), "monthly_too_low", 12),
    (("monthly", "100"), "too_many_months", 12),
])
def test_terms_outside_policy_are_refused_with_the_nearest_allowed(seeded_url, ask, reason, nearest_months):
    with db.session_scope(seeded_url) as session:
        policy = _policy(session)
    kind, value = ask
    with pytest.raises(PlanRefused) as caught:
        if kind == "months":
            plans.terms_for_months(policy, Decimal("1850.00"), value)
        else:
            plans.terms_for_monthly(policy, Decimal("1850.00"), value)
    assert caught.value.reason == reason
    assert caught.value.nearest[0].months == nearest_months


def test_a_balance_under_the_policy_minimum_gets_no_plan(seeded_url):
    with db.session_scope(seeded_url) as session:
        policy = _policy(session, "lakeside")
    with pytest.raises(PlanRefused) as caught:
        plans.offers(policy, Decimal("150.00"))
    assert caught.value.reason == "below_minimum_balance"


def test_offers_fit_the_policy(seeded_url):
    with db.session_scope(seeded_url) as session:
        offered = plans.offers(_policy(session), Decimal("1850.00"))
    assert [t.months for t in offered] == [3, 6, 12]
    assert all(t.total == Decimal("1850.00") for t in offered)


def test_james_sets_up_six_months_and_the_installments_sum_to_his_balance(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, JAMES)
        terms = plans.terms_for_months(_policy(session), ledger.balance(session, account), 6)
        plan = plans.create_plan(session, account, _policy(session), terms, actor="bot", today=dt.date(2026, 11, 28))
        amounts = [i.amount for i in plan.installments]
        assert amounts == [Decimal("308.33")] * 5 + [Decimal("308.35")]
        assert sum(amounts) == Decimal("1850.00")
        assert plan.installments[0].due_date == dt.date(2026, 12, 28)
        assert session.execute(select(AccountEvent).where(AccountEvent.action == "plan_created")).scalar_one().actor == "bot"
        with pytest.raises(PlanRefused) as caught:
            plans.create_plan(session, account, _policy(session), terms, actor="bot")
        assert caught.value.reason == "plan_exists"


def test_a_plan_paid_by_link_misses_an_unpaid_installment_and_defaults_at_the_limit(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, JAMES)
        terms = plans.terms_for_months(_policy(session), Decimal("1850.00"), 6)
        plans.create_plan(session, account, _policy(session), terms, actor="bot", start=dt.date(2026, 12, 1))
    with db.session_scope(seeded_url) as session:
        report = runs.run_due(session, today=dt.date(2027, 1, 2))
    assert [m for m in report.missed if m.startswith(JAMES)] == ["40023456#1", "40023456#2"]
    assert JAMES in report.defaulted  # riverside: two missed payments default a plan
    # Linda's December autopay on the visa that lacks funds is her second miss
    assert "40034567#7" in report.declined and LINDA in report.defaulted
    with db.session_scope(seeded_url) as session:
        assert plans.active_plan(session, _account(session, JAMES)) is None


def test_autopay_charges_the_installment_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        card = account.patient.payment_methods[0]
        terms = plans.terms_for_months(_policy(session), Decimal("412.50"), 3)
        plans.create_plan(session, account, _policy(session), terms, actor="bot", payment_method_id=card.id, start=dt.date(2026, 12, 10))
    for _ in range(2):
        with db.session_scope(seeded_url) as session:
            runs.run_due(session, today=dt.date(2026, 12, 10))
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        assert ledger.balance(session, account) == Decimal("275.00")
        plan = plans.active_plan(session, account)
        assert [i.status for i in plan.installments] == ["paid", "due", "due"]


def test_linda_changes_her_plan_to_the_15th_and_to_her_mastercard(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, LINDA)
        plans.change_day(session, account, 15, actor="bot", reason="patient asked")
        master = next(m for m in account.patient.payment_methods if m.last4 == "4444")
        plan = plans.change_card(session, account, master.id, actor="bot", reason="patient asked")
        assert plan.day_of_month == 15 and plan.payment_method_id == master.id
        assert all(i.due_date.day == 15 for i in plan.installments if i.status == "due")
        with pytest.raises(PlanRefused):
            plans.change_day(session, account, 31, actor="bot", reason="patient asked")


def test_changing_the_monthly_amount_reschedules_what_is_left(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, LINDA)
        terms = plans.terms_for_monthly(_policy(session), ledger.balance(session, account), "70")
        plan = plans.change_terms(session, account, _policy(session), terms, actor="bot", reason="patient asked", today=dt.date(2026, 11, 28))
        open_ = [i for i in plan.installments if i.status == "due"]
        assert sum(i.amount for i in open_) == Decimal("700.00") and len(open_) == 10
        assert plan.missed_payments == 0
        assert [i.status for i in plan.installments].count("paid") == 5
