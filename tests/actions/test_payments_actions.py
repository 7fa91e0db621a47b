"""Payment and plan actions against the seeded billing database: the
validators explain a refused answer, the confirmation step is the only
way money moves, and a yes that answers something else moves nothing."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing import clock, db, ledger, schedule
from billing.models import Account, Payment
from bot.actions.confirm import ActionCancelPending, ActionConfirm
from bot.actions.payments import ActionConfirmPayment, ActionPaymentDeclined, ActionStartPayment, ValidatePaymentForm, read_amount
from bot.actions.common import say_date
from tests.actions.helpers import run, said, slot_events, tracker

MARIA = {"identity": "verified", "patient_id": "p-maria-garcia", "patient_first_name": "Maria"}
LINDA = {"identity": "verified", "patient_id": "p-linda-nguyen", "patient_first_name": "Linda"}
PAYMENT_DOMAIN = {
    "forms": {"payment_form": {"required_slots": ["payment_amount", "payment_method"]}},
    "slots": {"payment_amount": {"type": "text", "mappings": [{"type": "from_text"}]},
              "payment_method": {"type": "text", "mappings": [{"type": "from_text"}]}},
    "responses": {},
}


def _balance(number):
    with db.session_scope() as session:
        return ledger.balance(session, session.execute(select(Account).where(Account.account_number == number)).scalar_one())


def _posted():
    with db.session_scope() as session:
        return session.execute(select(func.count()).select_from(Payment).where(Payment.status == "posted", Payment.actor == "bot")).scalar_one()


def _answer(pending, asked_by, text="yes", intent="affirm", slots=None):
    """A tracker where the bot's last action asked the question and the patient answered."""
    events = [{"event": "user", "text": "earlier"}, {"event": "action", "name": asked_by}, {"event": "action", "name": "action_listen"}]
    return tracker(slots={**(slots or MARIA), "pending_confirmation": pending}, text=text, intent=intent, events=events, fresh=[])


def test_amounts_are_read_from_entities_words_and_digits():
    trk = tracker(slots={**MARIA, "requested_slot": "payment_amount"}, text="fifty dollars", entities=[{"entity": "amount", "value": 50}])
    assert read_amount("fifty dollars", trk) == "50"
    plain = tracker(slots=MARIA, text="x")
    assert read_amount("the full amount", plain) == "full"
    assert read_amount("-50", plain) == "-50"
    assert read_amount("$1,850.00", plain) == "1850.00"


def test_the_amount_validator_explains_and_offers_the_balance(seeded_sqlite):
    form = ValidatePaymentForm()
    for text, response in [("-50", "utter_payment_amount_negative"), ("5000", "utter_payment_amount_above_balance"),
                           ("10.555", "utter_payment_amount_too_many_places"), ("0", "utter_payment_amount_zero")]:
        trk = tracker(slots={**MARIA, "requested_slot": "payment_amount", "payment_amount": text}, text=text, fresh=["payment_amount"])
        messages, events = run(form, trk, PAYMENT_DOMAIN)
        assert said(messages) == [response] and messages[0]["balance"] == "$412.50"
        assert slot_events(events)["payment_amount"] is None


def test_a_card_number_in_the_answer_is_refused_and_explained(seeded_sqlite):
    trk = tracker(slots={**MARIA, "requested_slot": "payment_method", "payment_amount": "100.00", "payment_method": "[card ending 4242]"},
                  text="[card ending 4242]", fresh=["payment_method"])
    messages, events = run(ValidatePaymentForm(), trk, PAYMENT_DOMAIN)
    assert "utter_card_number_not_taken" in said(messages)
    assert slot_events(events)["payment_method"] == "link"


def test_nothing_is_charged_until_yes_and_yes_charges_once(seeded_sqlite):
    trk = tracker(slots={**MARIA, "payment_amount": "100.00", "payment_method": "card:1"}, fresh=[])
    with db.session_scope() as session:
        maria = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()
        card_id = maria.patient.payment_methods[0].id
    trk.slots["payment_method"] = f"card:{card_id}"
    messages, events = run(ActionConfirmPayment(), trk)
    assert said(messages) == ["utter_confirm_payment"] and _posted() == 0
    pending = slot_events(events)["pending_confirmation"]
    messages, events = run(ActionConfirm(), _answer(pending, "action_confirm_payment"))
    assert said(messages)[0] == "utter_payment_posted" and _balance("40012345") == Decimal("312.50")
    # the same answer delivered again: the key is the same, nothing more moves
    run(ActionConfirm(), _answer(pending, "action_confirm_payment"))
    assert _posted() == 1 and _balance("40012345") == Decimal("312.50")


def test_a_yes_to_another_question_moves_nothing(seeded_sqlite):
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "x1", "account_id": 1, "method_id": 1, "amount": "100.00"}
    messages, events = run(ActionConfirm(), _answer(pending, "utter_iamabot"))
    assert said(messages) == ["utter_anything_else"] and slot_events(events)["pending_confirmation"] is None
    assert _posted() == 0


def test_no_drops_the_pending_payment(seeded_sqlite):
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "x2", "account_id": 1, "method_id": 1, "amount": "100.00"}
    messages, events = run(ActionCancelPending(), _answer(pending, "action_confirm_payment", "no", "deny"))
    assert said(messages) == ["utter_payment_not_made"] and _posted() == 0


def test_linda_hears_why_her_payment_was_declined_and_is_offered_her_mastercard(seeded_sqlite):
    messages, events = run(ActionPaymentDeclined(), tracker(slots=LINDA, text="why was my payment declined", intent="payment_declined"))
    assert said(messages) == ["utter_declined_payment", "utter_decline_reason_insufficient_funds",
                              "utter_declined_was_plan_payment", "utter_offer_other_card"]
    assert messages[-1]["card"] == "Mastercard ending 4444"
    assert slot_events(events)["pending_confirmation"]["kind"] == "retry"


def test_a_credit_means_there_is_nothing_to_pay(seeded_sqlite):
    aisha = {"identity": "verified", "patient_id": "p-aisha-khan"}
    messages, events = run(ActionStartPayment(), tracker(slots=aisha, text="pay my bill", intent="make_payment"))
    assert said(messages) == ["utter_payment_nothing_owed_credit"] and messages[0]["credit"] == "$85.00"
    assert slot_events(events)["next_form"] == "none"


# --- the scheduling window is billing's (billing/schedule.py) -----------------------

def _maria_card():
    with db.session_scope() as session:
        maria = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()
        return maria.id, maria.patient.payment_methods[0].id


def _scheduled():
    with db.session_scope() as session:
        return session.execute(select(func.count()).select_from(Payment).where(Payment.status == "scheduled")).scalar_one()


def test_a_payment_date_billing_would_refuse_is_explained_not_offered(seeded_sqlite):
    _, card_id = _maria_card()
    far = clock.today() + dt.timedelta(days=120)
    trk = tracker(slots={**MARIA, "payment_amount": "50.00", "payment_method": f"card:{card_id}", "payment_date": far.isoformat()}, fresh=[])
    messages, events = run(ActionConfirmPayment(), trk)
    assert said(messages) == ["utter_payment_date_outside_window"]
    assert messages[0]["last_date"] == say_date(clock.today() + dt.timedelta(days=90))
    assert "pending_confirmation" not in slot_events(events)


def test_a_date_inside_the_window_is_offered_as_before(seeded_sqlite):
    _, card_id = _maria_card()
    soon = clock.today() + dt.timedelta(days=30)
    trk = tracker(slots={**MARIA, "payment_amount": "50.00", "payment_method": f"card:{card_id}", "payment_date": soon.isoformat()}, fresh=[])
    messages, events = run(ActionConfirmPayment(), trk)
    assert said(messages) == ["utter_confirm_scheduled_payment"]
    assert slot_events(events)["pending_confirmation"]["kind"] == "schedule"


def test_a_yes_to_a_schedule_billing_refuses_is_told_and_schedules_nothing(seeded_sqlite):
    account_id, card_id = _maria_card()
    far = clock.today() + dt.timedelta(days=120)
    pending = {"kind": "schedule", "asked_by": "action_confirm_payment", "id": "far1", "account_id": account_id, "method_id": card_id,
               "amount": "50.00", "date": far.isoformat()}
    messages, _ = run(ActionConfirm(), _answer(pending, "action_confirm_payment"))
    assert said(messages) == ["utter_payment_date_outside_window"] and _scheduled() == 0


def test_the_window_is_one_rule():
    today = dt.date(2026, 12, 1)
    assert schedule.payment_window(today) == (dt.date(2026, 12, 2), dt.date(2027, 3, 1))
    assert schedule.check_payment_date(dt.date(2027, 3, 1), today) == dt.date(2027, 3, 1)
    for day, reason in [(today, "date_not_in_future"), (dt.date(2027, 3, 2), "date_too_far")]:
        with pytest.raises(schedule.DateRefused) as refused:
            schedule.check_payment_date(day, today)
        assert refused.value.reason == reason


# --- issue 15: amounts as patients say them; yes with content, no with a correction

def _maria_cards():
    with db.session_scope() as session:
        maria = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()
        return maria.id, [c.id for c in maria.patient.payment_methods]


def _linda_cards():
    with db.session_scope() as session:
        linda = session.execute(select(Account).where(Account.account_number == "40034567")).scalar_one()
        return linda.id, {c.brand: c.id for c in linda.patient.payment_methods}


@pytest.mark.parametrize("text, amount", [("half of it", "206.25"), ("a third of it", "137.50"), ("the rest", "412.50"),
                                          ("whats left", "412.50"), ("50 on my visa", "50"), ("seventy five dollars and fifty cents", "75.5")])
def test_parts_of_the_balance_and_amounts_in_passing(seeded_sqlite, text, amount):
    trk = tracker(slots={**MARIA, "requested_slot": "payment_amount", "payment_amount": text}, text=text, fresh=["payment_amount"])
    messages, events = run(ValidatePaymentForm(), trk, PAYMENT_DOMAIN)
    assert Decimal(slot_events(events)["payment_amount"]) == Decimal(amount), messages


def test_a_couple_hundred_is_asked_about_not_guessed(seeded_sqlite):
    trk = tracker(slots={**MARIA, "requested_slot": "payment_amount", "payment_amount": "a couple hundred"}, text="a couple hundred",
                  fresh=["payment_amount"])
    messages, events = run(ValidatePaymentForm(), trk, PAYMENT_DOMAIN)
    assert said(messages) == ["utter_payment_amount_which"] and slot_events(events)["payment_amount"] is None


def test_an_amount_and_a_card_in_one_answer(seeded_sqlite):
    account_id, (visa,) = _maria_cards()
    trk = tracker(slots={**MARIA, "requested_slot": "payment_amount", "payment_amount": "50 on my visa"}, text="50 on my visa",
                  fresh=["payment_amount"])
    messages, events = run(ValidatePaymentForm(), trk, PAYMENT_DOMAIN)
    assert slot_events(events)["payment_method"] == f"card:{visa}"


def test_ok_go_ahead_with_my_visa_is_a_yes(seeded_sqlite):
    account_id, (visa,) = _maria_cards()
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "y1", "account_id": account_id, "method_id": visa, "amount": "100.00"}
    # the classifier heard a new payment request: the starter answers the question instead
    messages, events = run(ActionStartPayment(), _answer(pending, "action_confirm_payment", "ok go ahead with my visa", "make_payment"))
    assert said(messages)[0] == "utter_payment_posted" and _balance("40012345") == Decimal("312.50")


def test_wait_make_that_75_reads_back_again(seeded_sqlite):
    account_id, (visa,) = _maria_cards()
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "y2", "account_id": account_id, "method_id": visa, "amount": "50.00"}
    messages, events = run(ActionStartPayment(), _answer(pending, "action_confirm_payment", "wait make that 75 instead", "make_payment"))
    assert said(messages) == ["utter_confirm_payment"] and messages[0]["amount"] == "$75.00" and _posted() == 0
    again = slot_events(events)["pending_confirmation"]
    assert again["amount"] == "75.00" and again["asked_by"] == "action_start_payment"
    messages, events = run(ActionConfirm(), _answer(again, "action_start_payment"))
    assert said(messages)[0] == "utter_payment_posted" and _balance("40012345") == Decimal("337.50")


def test_no_60_corrects_instead_of_cancelling(seeded_sqlite):
    account_id, (visa,) = _maria_cards()
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "y3", "account_id": account_id, "method_id": visa, "amount": "40.00"}
    messages, events = run(ActionCancelPending(), _answer(pending, "action_confirm_payment", "no 60", "deny"))
    assert said(messages) == ["utter_confirm_payment"] and messages[0]["amount"] == "$60.00" and _posted() == 0


def test_sure_put_it_on_the_mastercard_pays_with_it(seeded_sqlite):
    account_id, cards = _linda_cards()
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "y4", "account_id": account_id, "method_id": cards["visa"],
               "amount": "100.00"}
    messages, events = run(ActionConfirm(), _answer(pending, "action_confirm_payment", "sure put it on the mastercard", "affirm", slots=LINDA))
    assert said(messages)[0] == "utter_payment_posted" and _balance("40034567") == Decimal("600.00")


def test_a_new_request_of_another_kind_at_the_read_back_is_not_a_yes(seeded_sqlite):
    from bot.actions.disputes import ActionStartDispute

    account_id, (visa,) = _maria_cards()
    pending = {"kind": "payment", "asked_by": "action_confirm_payment", "id": "y5", "account_id": account_id, "method_id": visa, "amount": "100.00"}
    run(ActionStartDispute(), _answer(pending, "action_confirm_payment", "ok i want to dispute a charge", "dispute_charge"))
    assert _posted() == 0
