"""One open dispute per charge, in conversation: a patient who disputes a
charge that already has an open dispute is told that dispute's reference,
and no second one opens."""
from __future__ import annotations

from sqlalchemy import select

from billing import db, disputes
from billing.models import Account, Dispute
from bot.actions.confirm import ActionConfirm
from bot.actions.disputes import ActionConfirmDispute
from tests.actions.test_balance_actions import run, said, tracker
from tests.actions.test_disputes_actions import DAVID, _david_lines


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
