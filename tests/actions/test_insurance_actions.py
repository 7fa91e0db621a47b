"""New insurance: how the patient's words are read (payer, member ids,
policyholder, start date), and the actions against the real billing core."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from billing import db
from billing.models import InsurancePolicy
from bot.actions.insurance import ActionConfirmInsurance, ValidateInsuranceForm, start_update_insurance
from bot.nlp.insurance import read_member_ids, read_payer, read_start_date, read_subscriber
from bot.actions.confirm import ActionCancelPending, ActionConfirm
from tests.actions.helpers import run, said, slot_events, tracker

INSURANCE_DOMAIN = {
    "forms": {"insurance_form": {"required_slots": ["ins_payer", "ins_ids", "ins_subscriber", "ins_start"]}},
    "slots": {name: {"type": "text", "mappings": [{"type": "from_text"}]} for name in ("ins_payer", "ins_ids", "ins_subscriber", "ins_start")},
    "responses": {},
}
EMILY = {"identity": "verified", "patient_id": "p-emily-chen", "patient_first_name": "Emily", "client_id": "lakeside"}


@pytest.mark.parametrize("text, ids", [
    ("W123456789 group 7001", ("W123456789", "7001")),
    ("W 1 2 3 4 5 6 7 8 9 grp 7001", ("W123456789", "7001")),
    ("member id xgh 44512 and group number 7001", ("XGH44512", "7001")),
    ("ZX88812345 no group", ("ZX88812345", None)),
    ("w one two three four five six seven eight nine", ("W123456789", None)),
    ("BCX400299 G1001", ("BCX400299", "G1001")),
    ("H5521-0098 and the group is 55012", ("H5521-0098", "55012")),
    ("its on the back somewhere", None),
    ("abc", None),
])
def test_member_and_group_ids(text, ids):
    assert read_member_ids(text) == ids


@pytest.mark.parametrize("text, payer", [
    ("Aetna", "Aetna"), ("it's blue cross blue shield", "Blue Cross Blue Shield"), ("my new insurance is UnitedHealthcare", "UnitedHealthcare"),
    ("its now aetna", "Aetna"), ("blue cross blue shield of illinois", "Blue Cross Blue Shield of Illinois"), ("uhc", "UHC"),
    ("4242424242424242", None), ("", None), ("ID AET 7 7 1 2 0 9 group G500", None),
])
def test_payers(text, payer):
    assert read_payer(text) == payer


def test_policyholders_and_start_dates():
    assert read_subscriber("me", "Emily Chen") == "Emily Chen"
    assert read_subscriber("it's me", "Emily Chen") == "Emily Chen"
    assert read_subscriber("my husband tom chen", "Emily Chen") == "Tom Chen"
    assert read_subscriber("42", "Emily Chen") is None
    today = dt.date(2026, 11, 28)
    assert read_start_date("july 1 2026", today) == dt.date(2026, 7, 1)
    assert read_start_date("01/01/2027", today) == dt.date(2027, 1, 1)
    assert read_start_date("the start of 2026", today) == dt.date(2026, 1, 1)
    assert read_start_date("november 1st", today) == dt.date(2026, 11, 1)  # this November, not next
    assert read_start_date("january 1", today) == dt.date(2027, 1, 1)  # a plan starting soon
    assert read_start_date("2030-01-01", today) is None and read_start_date("soon", today) is None


def test_insurance_is_stored_only_after_yes(seeded_sqlite):
    slots = {**EMILY, "ins_payer": "Aetna", "ins_ids": "W123456789|7001", "ins_subscriber": "Emily Chen", "ins_start": "2026-07-01"}
    messages, events = run(ActionConfirmInsurance(), tracker(slots=slots))
    assert said(messages) == ["utter_confirm_insurance"] and messages[0]["member_id"] == "W123456789"
    pending = slot_events(events)["pending_confirmation"]
    asked = [{"event": "action", "name": "action_confirm_insurance"}]
    with db.session_scope() as session:
        assert session.execute(select(InsurancePolicy).where(InsurancePolicy.payer == "Aetna",
                                                             InsurancePolicy.patient_id == "p-emily-chen")).first() is None
    no, _ = run(ActionCancelPending(), tracker(slots={**EMILY, "pending_confirmation": pending}, intent="deny", text="no", events=asked))
    assert said(no) == ["utter_insurance_not_sent"]
    yes, _ = run(ActionConfirm(), tracker(slots={**EMILY, "pending_confirmation": pending}, intent="affirm", text="yes", events=asked))
    assert said(yes) == ["utter_insurance_reported", "utter_anything_else"]
    with db.session_scope() as session:
        policy = session.execute(select(InsurancePolicy).where(InsurancePolicy.payer == "Aetna",
                                                               InsurancePolicy.patient_id == "p-emily-chen")).scalar_one()
        assert (policy.status, policy.group_number, policy.effective_date) == ("pending_verification", "7001", dt.date(2026, 7, 1))


def test_a_payer_named_in_the_request_is_not_asked_again_and_one_answer_can_hold_payer_and_ids(seeded_sqlite):
    from rasa_sdk.executor import CollectingDispatcher

    trk = tracker(slots=EMILY, text="my insurance changed, its now aetna", intent="update_insurance")
    slots = slot_events(start_update_insurance(CollectingDispatcher(), None, _client("lakeside"), trk))
    assert slots["ins_payer"] == "Aetna" and slots["ins_ids"] is None
    both = tracker(slots={**EMILY, "requested_slot": "ins_payer", "ins_payer": "cigna member id CIG900100 group G2"})
    messages, events = run(ValidateInsuranceForm(), both, INSURANCE_DOMAIN)
    assert slot_events(events)["ins_payer"] == "Cigna" and slot_events(events)["ins_ids"] == "CIG900100|G2" and messages == []
    ids_as_payer = tracker(slots={**EMILY, "requested_slot": "ins_payer", "ins_payer": "ID AET 7 7 1 2 0 9 group G500"})
    messages, events = run(ValidateInsuranceForm(), ids_as_payer, INSURANCE_DOMAIN)
    assert said(messages) == ["utter_explain_ins_payer"] and slot_events(events)["ins_payer"] is None


def _client(client_id):
    from billing.clients import get_client

    with db.session_scope() as session:
        return get_client(session, client_id)
