"""Handoffs and routing against the real billing core: the summary a
partner reads, the queue it lands in, ending a form, the voice transfer;
fallback, other departments, opt-out, wrong number and callbacks."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from billing import db, handoffs
from bot.actions.handoffs import (
    ActionFallback, ActionHandoff, ActionOptOut, ActionOtherDepartment, ActionSubmitCallback, ActionWrongNumber, ValidateCallbackForm,
    department_for,
)
from tests.actions.helpers import run, said, slot_events, tracker

VERIFIED = {"identity": "verified", "patient_id": "p-maria-garcia", "patient_first_name": "Maria", "account_identifier": "40012345"}


def _earlier(intent, text):
    return [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}},
            {"event": "action", "name": "action_check_balance"}, {"event": "action", "name": "action_listen"}]


def test_a_verified_patient_is_queued_with_a_summary_and_the_bot_paused(seeded_sqlite):
    messages, events = run(ActionHandoff(), tracker(
        slots=VERIFIED, intent="human_handoff", text="can i talk to a real person", sender="sms:riverside:+15550101001",
        channel="twilio_sms", metadata={"phone": "+15550101001"}, events=_earlier("check_balance", "whats my balance")))
    assert said(messages) == ["utter_handoff_queued"]
    assert (messages[0]["department_name"], messages[0]["queue_position"]) == ("billing", 1)
    assert events[-1] == {"event": "pause", "timestamp": None}
    with db.session_scope() as session:
        handoff = handoffs.open_for(session, "sms:riverside:+15550101001")
        assert (handoff.channel, handoff.department, handoff.verified, handoff.patient_id) == ("twilio_sms", "billing", True, "p-maria-garcia")
        summary = handoff.summary
    assert "Maria Garcia, verified by date of birth and account number" in summary
    assert "Account 40012345, balance $412.50" in summary
    assert '"whats my balance"' in summary and "told the balance" in summary and "(555) 010-1001" in summary


def test_asking_during_the_payment_form_ends_the_form(seeded_sqlite):
    trk = tracker(slots={**VERIFIED, "requested_slot": "payment_amount"}, intent="human_handoff", text="agent please", sender="pay-conv")
    _, events = run(ActionHandoff(), trk)
    kinds = [(e["event"], e.get("name")) for e in events]
    assert ("active_loop", None) in kinds and ("slot", "requested_slot") in kinds and kinds[-1] == ("pause", None)


def test_insurance_questions_go_to_the_insurance_queue_and_a_second_ask_is_not_a_second_handoff(seeded_sqlite):
    trk = tracker(slots=VERIFIED, intent="human_handoff", text="person", sender="ins-conv",
                  events=_earlier("insurance_question", "why didnt insurance pay"))
    run(ActionHandoff(), trk)
    messages, _ = run(ActionHandoff(), trk)
    assert said(messages) == ["utter_handoff_already_waiting"]
    with db.session_scope() as session:
        assert [h.department for h in handoffs.listing(session) if h.conversation_id == "ins-conv"] == ["insurance"]


def test_on_a_call_the_channel_is_asked_to_transfer(seeded_sqlite):
    messages, events = run(ActionHandoff(), tracker(
        intent="human_handoff", text="representative", channel="twilio_voice", sender="voice:CA123",
        metadata={"handoff_reason": "voice_silence", "phone": "+15550109999"}))
    assert said(messages) == ["utter_handoff_voice"]
    voice = messages[0]["custom"]["voice"]
    assert voice["transfer"] == "billing" and isinstance(voice["handoff"], int)
    with db.session_scope() as session:
        handoff = handoffs.get(session, voice["handoff"])
        assert handoff.reason == "voice_silence" and "not verified" in handoff.summary


def test_department_from_the_conversation():
    # the topic's queue comes from the capability registry (bot.capabilities), the rest from billing.handoffs
    assert department_for(["check_balance", "insurance_question"]) == "insurance"
    assert department_for(["financial_assistance", "make_payment"]) == "billing"
    assert department_for(["greet"], named="financial_counseling") == "financial_counseling"
    assert department_for([]) == "billing"


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


def test_a_yes_to_the_person_offered_after_our_failure_hands_off_with_the_request(seeded_sqlite):
    # issue 15, item 9: bot/rasa_main.py offers a person after an action call failed twice
    from bot.actions.confirm import ActionConfirm

    pending = {"kind": "handoff", "asked_by": "action_check_balance", "id": "f1", "failed_action": "action_check_balance"}
    earlier = [{"event": "user", "text": "whats my balance", "parse_data": {"intent": {"name": "check_balance"}}},
               {"event": "action", "name": "action_check_balance"}, {"event": "slot", "name": "pending_confirmation", "value": pending},
               {"event": "action", "name": "action_listen"}]
    messages, events = run(ActionConfirm(), tracker(slots={**VERIFIED, "pending_confirmation": pending}, intent="affirm", text="yes",
                                                    events=earlier, sender="rest-failure"))
    assert said(messages)[0] in ("utter_handoff_queued", "utter_handoff_after_hours")
    with db.session_scope() as session:
        handoff = next(h for h in handoffs.listing(session) if h.conversation_id == "rest-failure")
        assert "whats my balance" in handoff.summary
        assert "failed on our side" in handoff.summary and "told the balance" not in handoff.summary


def test_a_correction_the_classifier_missed_still_answers_the_read_back(seeded_sqlite):
    import bot.actions.contact  # noqa: F401 (registers how a contact read-back is revised)
    from bot.actions.confirm import PENDING

    pending = {"kind": "contact", "asked_by": "action_confirm_contact", "id": "c1", "field": "phone", "value": "+15550102222"}
    earlier = [{"event": "user", "text": "555-010-2222"}, {"event": "action", "name": "action_confirm_contact"},
               {"event": "action", "name": "action_listen"}]
    messages, events = run(ActionFallback(), tracker(slots={**VERIFIED, PENDING: pending}, intent="nlu_fallback", text="no its 555-010-2223",
                                                     events=earlier))
    assert said(messages) == ["utter_confirm_contact_change"]
    assert slot_events(events)[PENDING]["value"].endswith("2223")


def test_a_card_number_in_a_message_not_understood_is_said_to_be_removed_not_asked_again(seeded_sqlite):
    """The connector took the number out ([card ending 4444]); whatever the
    rest of the message was, the patient hears why, and how to pay safely."""
    messages, events = run(ActionFallback(), tracker(intent="nlu_fallback", text="inform [card ending 4444]"))
    assert said(messages) == ["utter_card_number_not_taken"]
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "action_listen"
