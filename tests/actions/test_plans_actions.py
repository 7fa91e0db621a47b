"""Payment plans: offers from the client's policy and how plan requests
are read."""
from __future__ import annotations

from bot.actions.plans import ActionStartPlan, read_request
from tests.actions.helpers import run, said, slot_events, tracker

MARIA = {"identity": "verified", "patient_id": "p-maria-garcia", "patient_first_name": "Maria"}


def test_plan_offers_come_from_the_clients_policy(seeded_sqlite):
    james = {"identity": "verified", "patient_id": "p-james-carter"}
    messages, events = run(ActionStartPlan(), tracker(slots=james, text="payment plan please", intent="payment_plan"))
    assert said(messages) == ["utter_plan_offers"]
    assert messages[0]["offers"] == "3 months at $616.67, 6 months at $308.33 or 12 months at $154.17"
    assert slot_events(events)["next_form"] == "plan_form"


def test_plan_requests_are_read_as_months_or_a_monthly_amount():
    trk = tracker(slots=MARIA, text="x")
    assert read_request(trk, "6 months", 12) == "months:6"
    assert read_request(trk, "i can do $50 a month", 12) == "monthly:50"
    assert read_request(trk, "6", 12) == "months:6"
    assert read_request(trk, "75", 12) == "monthly:75"
    assert read_request(trk, "no idea", 12) is None
