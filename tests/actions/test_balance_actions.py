"""Custom actions with rasa-sdk trackers and dispatchers against a seeded
billing database (the real billing core, nothing mocked)."""
from __future__ import annotations

import asyncio

import pytest

from billing import db, handoffs
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.balance import ActionCheckBalance
from bot.actions.identity import ActionAfterVerification, ActionHoldRequest, ValidateVerificationForm
from bot.actions.handoffs import ActionFallback, ActionOptOut, ActionOtherDepartment, ActionSubmitCallback, ActionWrongNumber, ValidateCallbackForm
from bot.actions.session import ActionSessionStart
from bot.nlp.identity import read_account_identifier

DOMAIN = {
    "forms": {"verification_form": {"required_slots": ["date_of_birth", "account_identifier"]}},
    "slots": {
        "date_of_birth": {"type": "text", "mappings": [{"type": "from_text"}]},
        "account_identifier": {"type": "text", "mappings": [{"type": "from_text"}]},
    },
    "responses": {},
}
BASE_SLOTS = {"client_id": "riverside", "identity": "unverified", "verify_attempts": 0}


def tracker(slots=None, text="hi", intent="inform", events=None, entities=None, metadata=None, channel="rest", sender="test-conv", fresh=None):
    """A tracker whose latest user message set the ``fresh`` slots (by
    default the requested slot), as Rasa's slot extraction would."""
    all_slots = dict(BASE_SLOTS)
    all_slots.update(slots or {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [], "metadata": metadata or {}}
    evts = list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel, "metadata": metadata or {}}]
    for name in fresh if fresh is not None else [all_slots.get("requested_slot")]:
        if name:
            evts.append({"event": "slot", "name": name, "value": all_slots.get(name)})
    return Tracker(sender, all_slots, latest, evts, False, None, {"name": "verification_form"}, "action_listen")


def run(action, trk, domain=DOMAIN):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, domain))
    return dispatcher.messages, events


def said(messages):
    return [m.get("response") for m in messages]


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_session_start_sets_the_client_from_the_channel_and_carries_nothing_over(seeded_sqlite):
    trk = tracker(slots={"client_id": None, "identity": "verified", "patient_id": "p-maria-garcia", "session_started_metadata": {"client": "lakeside"}})
    _, events = run(ActionSessionStart(), trk)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    slots = slot_events(events)
    assert slots["client_id"] == "lakeside" and slots["client_name"] == "Lakeside Medical Center"
    assert "identity" not in slots and "patient_id" not in slots


def test_a_lockout_outlives_the_session(seeded_sqlite):
    from billing import db, identity

    with db.session_scope() as session:
        identity.record_check(session, client_id="riverside", conversation_id="sms-maria", outcome="locked")
    _, events = run(ActionSessionStart(), tracker(sender="sms-maria"))
    assert slot_events(events)["identity"] == "locked"
    _, events = run(ActionSessionStart(), tracker(sender="another-conversation"))
    assert "identity" not in slot_events(events)


def test_the_form_verifies_maria_with_date_of_birth_and_account_number(seeded_sqlite):
    trk = tracker(slots={"date_of_birth": "march 3 1985", "account_identifier": "4001 2345", "requested_slot": "account_identifier"}, fresh=["date_of_birth", "account_identifier"])
    messages, events = run(ValidateVerificationForm(), trk)
    slots = slot_events(events)
    assert slots["identity"] == "verified" and slots["patient_id"] == "p-maria-garcia"
    assert slots["date_of_birth"] == "1985-03-03"
    assert said(messages) == ["utter_verified"]
    assert slots["requested_slot"] is None  # verified: the form ends


def test_a_wrong_answer_counts_an_attempt_and_asks_again_without_saying_which(seeded_sqlite):
    trk = tracker(slots={"date_of_birth": "1985-03-04", "account_identifier": "40012345", "requested_slot": "account_identifier"})
    messages, events = run(ValidateVerificationForm(), trk)
    slots = slot_events(events)
    assert slots["verify_attempts"] == 1 and slots["date_of_birth"] is None and slots["account_identifier"] is None
    assert "identity" not in slots
    assert messages[0]["response"] == "utter_verification_no_match" and messages[0]["attempts_left"] == 2


def test_the_third_failure_locks_verification_and_ends_the_form(seeded_sqlite):
    trk = tracker(slots={"date_of_birth": "1985-03-04", "account_identifier": "40012345", "verify_attempts": 2, "requested_slot": "account_identifier"})
    messages, events = run(ValidateVerificationForm(), trk)
    slots = slot_events(events)
    assert slots["identity"] == "locked" and slots["requested_slot"] is None
    assert "utter_verified" not in said(messages)


def test_a_question_instead_of_an_answer_costs_no_attempt_and_is_answered_after_verification(seeded_sqlite):
    trk = tracker(slots={"date_of_birth": "1985-03-03", "account_identifier": "whats my balance", "requested_slot": "account_identifier",
                         "pending_request": "update_insurance"}, text="whats my balance", intent="check_balance")
    messages, events = run(ValidateVerificationForm(), trk)
    slots = slot_events(events)
    assert said(messages) == ["utter_verification_intro"]
    assert slots["account_identifier"] is None and slots["pending_request"] == "check_balance" and "verify_attempts" not in slots
    # a name is an answer, whatever the classifier made of it
    named = tracker(slots={"date_of_birth": "1985-03-03", "account_identifier": "Maria Garcia", "requested_slot": "account_identifier"},
                    text="Maria Garcia", intent="check_balance")
    assert slot_events(run(ValidateVerificationForm(), named)[1])["identity"] == "verified"


def test_an_account_of_another_client_does_not_verify(seeded_sqlite):
    trk = tracker(slots={"client_id": "lakeside", "date_of_birth": "1985-03-03", "account_identifier": "40012345", "requested_slot": "account_identifier"})
    _, events = run(ValidateVerificationForm(), trk)
    assert slot_events(events)["verify_attempts"] == 1


@pytest.mark.parametrize("answer,response", [
    ("2030-01-01", "utter_date_of_birth_in_future"),
    ("march 3", "utter_date_of_birth_needs_year"),
    ("🙂🙂", "utter_explain_date_of_birth"),
    ("x" * 5000, "utter_explain_date_of_birth"),
])
def test_a_date_of_birth_that_cannot_be_one_is_explained_not_counted(seeded_sqlite, answer, response):
    trk = tracker(slots={"date_of_birth": answer, "requested_slot": "date_of_birth"})
    messages, events = run(ValidateVerificationForm(), trk)
    assert said(messages) == [response]
    assert slot_events(events)["date_of_birth"] is None and "verify_attempts" not in slot_events(events)


def test_an_identifier_that_is_neither_number_nor_name_is_explained(seeded_sqlite):
    trk = tracker(slots={"date_of_birth": "1985-03-03", "account_identifier": "??", "requested_slot": "account_identifier"})
    messages, _ = run(ValidateVerificationForm(), trk)
    assert said(messages) == ["utter_explain_account_identifier"]


@pytest.mark.parametrize("text,expected", [
    ("40012345", {"account_number": "40012345"}),
    ("4001-2345", {"account_number": "40012345"}),
    ("four zero zero one two three four five", {"account_number": "40012345"}),
    ("account 4001 2345 and i was born 3/3/85", {"account_number": "40012345"}),
    ("my name is Maria Garcia", {"full_name": "Maria Garcia"}),
    ("O'Brien-Smith, Kevin", {"full_name": "O'Brien-Smith Kevin"}),
    ("hello", None),
])
def test_account_identifiers(text, expected):
    assert read_account_identifier(text) == expected


def test_balance_is_never_told_before_verification(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(intent="check_balance"))
    assert all("balance" not in (m.get("response") or "") for m in messages)
    assert not any("412.50" in str(m) for m in messages)


def test_maria_hears_her_balance_and_due_date(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance"
    assert (messages[0]["balance"], messages[0]["due_date"], messages[0]["account_number"]) == ("$412.50", "December 10, 2026", "40012345")


def test_a_credit_is_said_as_a_credit(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-aisha-khan"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance_credit" and messages[0]["credit"] == "$85.00"


def test_plan_status_and_last_payment_are_told(seeded_sqlite):
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-linda-nguyen"}, intent="check_balance"))
    assert said(messages) == ["utter_balance", "utter_balance_last_payment", "utter_balance_plan_active", "utter_balance_plan_missed"]
    assert messages[2]["next_due_date"] == "December 1, 2026"


def test_several_accounts_are_listed(seeded_sqlite):
    from billing import db, ledger
    from billing.models import Account

    with db.session_scope() as session:
        account = Account(account_number="40012399", client_id="riverside", patient_id="p-maria-garcia")
        session.add(account)
        session.flush()
        ledger.post(session, account, kind="charge", amount="25.00", reason_code="SVC-36415", description="lab", actor="test")
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia"}, intent="check_balance"))
    assert messages[0]["response"] == "utter_balance_several" and messages[0]["count"] == 2
    assert [m["account_number"] for m in messages if m["response"] == "utter_balance"] == ["40012345", "40012399"]


def test_after_verification_the_held_request_is_answered(seeded_sqlite):
    _, events = run(ActionHoldRequest(), tracker(intent="check_balance"))
    assert slot_events(events) == {"pending_request": "check_balance"}
    messages, _ = run(ActionAfterVerification(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia", "pending_request": "check_balance"}))
    assert messages[0]["response"] == "utter_balance" and messages[0]["balance"] == "$412.50"


def test_after_a_lockout_the_patient_is_handed_to_a_partner_unverified(seeded_sqlite):
    messages, events = run(ActionAfterVerification(), tracker(slots={"identity": "locked", "pending_request": "check_balance"},
                                                              sender="locked-conv"))
    assert said(messages) == ["utter_verification_locked", "utter_handoff_queued"]
    assert events[-1]["event"] == "pause"
    with db.session_scope() as session:
        handoff = handoffs.open_for(session, "locked-conv")
        assert (handoff.reason, handoff.verified, handoff.patient_id) == ("verification_locked", False, None)
        assert "not verified" in handoff.summary


def test_fallback_asks_to_rephrase_then_hands_off(seeded_sqlite):
    earlier_turn = [
        {"event": "user", "text": "blah", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback"},
        {"event": "bot", "text": "Sorry"},
        {"event": "action", "name": "action_listen"},
    ]
    messages, events = run(ActionFallback(), tracker(intent="nlu_fallback"))
    assert said(messages) == ["utter_rephrase"] and events == []
    messages, events = run(ActionFallback(), tracker(intent="nlu_fallback", events=earlier_turn, sender="fallback-conv"))
    assert said(messages) == ["utter_handoff_queued"] and messages[0]["queue_position"] == 1
    assert events[-1]["event"] == "pause"
    with db.session_scope() as session:
        assert handoffs.open_for(session, "fallback-conv").reason == "repeated_fallback"
    answered = [{"event": "user", "text": "hi"}, {"event": "action", "name": "utter_greet"}]
    messages, _ = run(ActionFallback(), tracker(intent="nlu_fallback", events=earlier_turn + answered))
    assert said(messages) == ["utter_rephrase"]


def test_a_core_fallback_takes_the_message_back(seeded_sqlite):
    _, events = run(ActionFallback(), tracker(intent="inform"))
    assert [e["event"] for e in events] == ["rewind"]


def test_other_departments_get_the_clients_number(seeded_sqlite):
    entities = [{"entity": "department", "value": "medical_records"}]
    messages, _ = run(ActionOtherDepartment(), tracker(intent="other_department", entities=entities))
    assert messages[0]["department_phone"] == "(555) 010-0111"
    messages, _ = run(ActionOtherDepartment(), tracker(intent="other_department", slots={"client_id": "lakeside"}))
    assert messages[0]["response"] == "utter_other_department_list" and "(555) 010-0212" in messages[0]["department_list"]


def test_opt_out_is_recorded_and_confirmed_once(seeded_sqlite):
    from billing import db, outreach

    meta = {"phone": "+15550101001"}
    messages, _ = run(ActionOptOut(), tracker(intent="opt_out", metadata=meta, channel="twilio_sms"))
    assert said(messages) == ["utter_opt_out_confirmed"]
    messages, _ = run(ActionOptOut(), tracker(intent="opt_out", metadata=meta, channel="twilio_sms"))
    assert said(messages) == ["utter_opt_out_already"]
    with db.session_scope() as session:
        assert outreach.is_opted_out(session, client_id="riverside", channel="sms", address="+15550101001")
        assert not outreach.is_opted_out(session, client_id="lakeside", channel="sms", address="+15550101001")


def test_wrong_number_stops_contact_and_forgets_any_verification(seeded_sqlite):
    from billing import db, outreach

    messages, events = run(ActionWrongNumber(), tracker(intent="wrong_number", metadata={"phone": "+15550109999"}, slots={"identity": "verified", "patient_id": "p-maria-garcia"}))
    assert said(messages) == ["utter_wrong_number"]
    assert slot_events(events)["identity"] == "unverified" and slot_events(events)["patient_id"] is None
    with db.session_scope() as session:
        assert outreach.is_opted_out(session, client_id="riverside", channel="voice", address="+15550109999")


def test_callback_numbers_are_validated_and_the_request_recorded(seeded_sqlite):
    dispatcher = CollectingDispatcher()
    form = ValidateCallbackForm()
    assert form.validate_callback_phone("call me at 555 010 1001", dispatcher, tracker(), {}) == {"callback_phone": "+15550101001"}
    assert form.validate_callback_phone("tomorrow", dispatcher, tracker(), {}) == {"callback_phone": None}
    assert said(dispatcher.messages) == ["utter_explain_callback_phone"]
    messages, events = run(ActionSubmitCallback(), tracker(slots={"callback_phone": "+15550101001", "callback_time": "after 5pm"}))
    assert messages[0]["callback_phone_display"] == "(555) 010-1001" and messages[0]["callback_id"]
    assert slot_events(events) == {"callback_phone": None, "callback_time": None}
