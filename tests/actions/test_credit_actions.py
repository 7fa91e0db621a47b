"""Credits and refunds: the credit action against the real billing core."""
from __future__ import annotations

from sqlalchemy import select

from billing import db
from billing.models import RefundRequest
from bot.actions.confirm import ActionCancelPending
from bot.actions.credit import ActionCreditBalance
from tests.actions.helpers import run, said, tracker

DAVID = {"identity": "verified", "patient_id": "p-david-lee", "patient_first_name": "David"}
AISHA = {"identity": "verified", "patient_id": "p-aisha-khan", "patient_first_name": "Aisha"}


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
    assert said(messages) == ["utter_no_credit", "utter_anything_else"] and not events
