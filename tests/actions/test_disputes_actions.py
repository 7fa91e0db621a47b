"""Disputes: how the charge and the reason are read, and the actions
against the real billing core."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from billing import db, disputes
from billing.models import Account, Dispute
from bot.actions.confirm import ActionConfirm
from bot.actions.disputes import ActionConfirmDispute
from bot.nlp.disputes import dispute_reason, pick_line
from tests.actions.helpers import run, said, tracker

DAVID = {"identity": "verified", "patient_id": "p-david-lee", "patient_first_name": "David"}


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


def test_a_dispute_is_read_back_and_opened_only_on_yes(seeded_sqlite):
    lines, ids = _david_lines()
    messages, events = run(ActionConfirmDispute(), tracker(slots={**DAVID, "dispute_line": str(ids[1]), "dispute_reason": "duplicate"}))
    assert said(messages) == ["utter_confirm_dispute"] and "Comprehensive metabolic panel, $115.00" in messages[0]["line"]
    pending = next(e["value"] for e in events if e.get("name") == "pending_confirmation")
    history = [{"event": "action", "name": "action_confirm_dispute"}, {"event": "bot", "text": "Shall I open it?"},
               {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionConfirm(), tracker(slots={**DAVID, "pending_confirmation": pending}, intent="affirm", text="yes", events=history))
    assert said(messages) == ["utter_dispute_opened", "utter_anything_else"] and messages[0]["reference"].startswith("D-")
    with db.session_scope() as session:
        dispute = session.execute(select(Dispute)).scalar_one()
        assert (dispute.reason, dispute.service_line_id, dispute.opened_by) == ("duplicate", ids[1], "patient:bot")


# one open dispute per charge, in conversation: a patient who disputes a charge that
# already has an open dispute is told that dispute's reference, and no second one opens
def test_a_second_dispute_of_a_charge_is_told_the_open_ones_reference(seeded_sqlite):
    _, ids = _david_lines()
    with db.session_scope() as session:
        david = session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one()
        first = disputes.open_dispute(session, david, "duplicate", actor="agent:alex", service_line_id=ids[1]).reference
    _, events = run(ActionConfirmDispute(), tracker(slots={**DAVID, "dispute_line": str(ids[1]), "dispute_reason": "amount_wrong"}))
    pending = next(e["value"] for e in events if e.get("name") == "pending_confirmation")
    history = [{"event": "action", "name": "action_confirm_dispute"}, {"event": "bot", "text": "Shall I open it?"},
               {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionConfirm(), tracker(slots={**DAVID, "pending_confirmation": pending}, intent="affirm", text="yes", events=history))
    assert said(messages) == ["utter_dispute_status"] and messages[0]["reference"] == first
    with db.session_scope() as session:
        assert [d.reference for d in session.execute(select(Dispute)).scalars()] == [first]
