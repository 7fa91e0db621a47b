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


def test_a_monthly_figure_is_read_as_patients_say_it():
    # issue 15: "like 20 a month" was not understood, so the counter-offer never came
    trk = tracker(slots=MARIA, text="x")
    assert read_request(trk, "i can only do like 20 a month", 12) == "monthly:20"
    assert read_request(trk, "15 a month", 12) == "monthly:15"
    assert read_request(trk, "i could afford maybe 100 a month", 12) == "monthly:100"
    assert read_request(trk, "30 per month", 24) == "monthly:30"
    assert read_request(trk, "like forty bucks monthly", 12) == "monthly:40"
    assert read_request(trk, "how about 40 a month then", 12) == "monthly:40"


def test_no_make_it_8_months_reads_the_plan_back_again(seeded_sqlite):
    from sqlalchemy import select

    from billing import db
    from billing.models import Account
    from bot.actions.confirm import ActionCancelPending

    with db.session_scope() as session:
        maria = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()
        account_id, card = maria.id, maria.patient.payment_methods[0].id
    pending = {"kind": "plan", "asked_by": "action_confirm_plan", "id": "p1", "account_id": account_id, "months": 6, "monthly": "68.75",
               "method_id": card, "start": "2026-12-28"}
    events = [{"event": "user", "text": "earlier"}, {"event": "action", "name": "action_confirm_plan"}, {"event": "action", "name": "action_listen"}]
    trk = tracker(slots={**MARIA, "pending_confirmation": pending}, text="no make it 8 months", intent="deny", events=events, fresh=[],
                  entities=[{"entity": "months", "value": 8}])
    messages, events = run(ActionCancelPending(), trk)
    assert said(messages) == ["utter_confirm_plan"] and messages[0]["terms"].startswith("8 monthly payments")
    assert slot_events(events)["pending_confirmation"]["months"] == 8


def test_hardship_in_a_plan_request_hears_about_assistance_first(seeded_sqlite):
    robert = {"identity": "verified", "patient_id": "p-robert-johnson", "patient_first_name": "Robert"}
    asked = [{"event": "user", "text": "im unemployed right now, can i do a payment plan", "parse_data": {"intent": {"name": "payment_plan"}}},
             {"event": "action", "name": "action_hold_request"}]
    messages, events = run(ActionStartPlan(), tracker(slots=robert, text="robert johnson", intent="inform", events=asked))
    assert said(messages) == ["utter_assistance_first"]
    assert slot_events(events)["pending_confirmation"]["kind"] == "assistance_offer"


def test_a_yes_to_the_counter_offer_sets_the_plan_up_once_the_method_is_chosen(seeded_sqlite):
    # issue 15: "20 a month" -> the closest plan -> yes -> autopay yes: the plan is set up, with its first payment date
    from bot.actions.plans import ActionConfirmPlan

    nearest = tracker(slots={**MARIA, "plan_nearest": "months:12"}, text="ok yes", intent="affirm")
    agreed = read_request(nearest, "ok yes", 12)
    assert agreed.startswith("months:12")
    from sqlalchemy import select

    from billing import db
    from billing.models import Account
    with db.session_scope() as session:
        card = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one().patient.payment_methods[0].id
    messages, events = run(ActionConfirmPlan(), tracker(slots={**MARIA, "plan_request": agreed, "plan_method": f"card:{card}"}, text="yes",
                                                        intent="affirm"))
    assert said(messages) == ["utter_plan_created", "utter_anything_else"]
    assert messages[0]["first_date"] and messages[0]["terms"].startswith("12 monthly payments")
