"""Disputes, assistance and credits: how the patient's words are read,
and the actions against the real billing core."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import db, disputes
from billing.models import Account, Dispute, RefundRequest
from bot.actions.confirm import ActionCancelPending, ActionConfirm
from bot.actions.assistance import ActionScreenAssistance
from bot.actions.credit import ActionCreditBalance
from bot.actions.disputes import ActionConfirmDispute
from bot.nlp.assistance import read_household, read_income
from bot.nlp.disputes import dispute_reason, pick_line
from tests.actions.test_balance_actions import run, said, tracker

DAVID = {"identity": "verified", "patient_id": "p-david-lee", "patient_first_name": "David"}
AISHA = {"identity": "verified", "patient_id": "p-aisha-khan", "patient_first_name": "Aisha"}
ROBERT = {"identity": "verified", "patient_id": "p-robert-johnson", "patient_first_name": "Robert"}


def _david_lines():
    with db.session_scope() as session:
        account = session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one()
        lines = disputes.service_lines(session, account)
        return lines, [line.id for line in lines]


def test_the_charge_a_patient_means(seeded_sqlite):
    with db.session_scope() as session:
        account = session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one()
        lines = disputes.service_lines(session, account)
        first, second = lines
        # the duplicate: identical lines resolve to the later one
        assert pick_line("the metabolic panel on october 28", lines) is second
        assert pick_line("i was charged twice for the metabolic panel", lines) is second
        assert pick_line("1", lines) is first and pick_line("2", lines) is second
        assert pick_line("i think i was billed twice for my lab work", lines) is second
        assert pick_line("3", lines) is None and pick_line("the x-ray", lines) is None and pick_line("", lines) is None


@pytest.mark.parametrize("text, reason", [
    ("its a duplicate", "duplicate"), ("I was billed twice", "duplicate"), ("1", "duplicate"),
    ("i never had that test", "not_received"), ("2", "not_received"), ("the amount is wrong", "amount_wrong"),
    ("my insurance should have paid it", "insurance_should_pay"), ("the care was poor quality", "quality_of_care"),
    ("5", "quality_of_care"), ("banana", None), ("9", None),
])
def test_dispute_reasons(text, reason):
    assert dispute_reason(text) == reason


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


def test_a_dispute_is_read_back_and_opened_only_on_yes(seeded_sqlite):
    lines, ids = _david_lines()
    messages, events = run(ActionConfirmDispute(), tracker(slots={**DAVID, "dispute_line": str(ids[1]), "dispute_reason": "duplicate"}))
    assert said(messages) == ["utter_confirm_dispute"] and "Comprehensive metabolic panel, $115.00" in messages[0]["line"]
    pending = next(e["value"] for e in events if e.get("name") == "pending_confirmation")
    history = [{"event": "action", "name": "action_confirm_dispute"}, {"event": "bot", "text": "Shall I open it?"},
               {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionConfirm(), tracker(slots={**DAVID, "pending_confirmation": pending}, intent="affirm", text="yes", events=history))
    assert said(messages) == ["utter_dispute_opened"] and messages[0]["reference"].startswith("D-")
    with db.session_scope() as session:
        dispute = session.execute(select(Dispute)).scalar_one()
        assert (dispute.reason, dispute.service_line_id, dispute.opened_by) == ("duplicate", ids[1], "patient:bot")


def test_aisha_is_offered_her_credit_back_and_a_no_keeps_it(seeded_sqlite):
    messages, events = run(ActionCreditBalance(), tracker(slots=AISHA, intent="credit_balance", text="can i get a refund"))
    assert said(messages) == ["utter_credit_offer_card"] and messages[0]["credit"] == "$85.00"
    assert messages[0]["card"] == "Mastercard ending 4444"
    pending = next(e["value"] for e in events if e.get("name") == "pending_confirmation")
    assert pending["method"] == "card"
    history = [{"event": "action", "name": "action_credit_balance"}, {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionCancelPending(), tracker(slots={**AISHA, "pending_confirmation": pending}, intent="deny", text="no", events=history))
    assert said(messages) == ["utter_refund_not_made"]
    with db.session_scope() as session:
        assert session.execute(select(RefundRequest)).first() is None


def test_a_check_is_offered_when_asked_for(seeded_sqlite):
    messages, events = run(ActionCreditBalance(), tracker(slots=AISHA, intent="credit_balance", text="can you mail me a check instead"))
    assert said(messages) == ["utter_credit_offer_check"]
    assert next(e["value"] for e in events if e.get("name") == "pending_confirmation")["method"] == "check"


def test_no_credit_no_offer(seeded_sqlite):
    messages, events = run(ActionCreditBalance(), tracker(slots=DAVID, intent="credit_balance", text="do i have a credit"))
    assert said(messages) == ["utter_no_credit"] and not events


def test_robert_screening_says_free_care_and_asks_to_apply(seeded_sqlite):
    messages, events = run(ActionScreenAssistance(), tracker(slots={**ROBERT, "household_size": 4.0, "annual_income": "38000.00"}))
    assert said(messages) == ["utter_assistance_likely_free_care"]
    assert messages[0]["fpl_percent"] == 115 and messages[0]["balance"] == "$4,200.00"
    assert next(e["value"] for e in events if e.get("name") == "pending_confirmation")["kind"] == "assistance"
