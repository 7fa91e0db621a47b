"""The handoff action against the real billing core: the summary a
partner reads, the queue it lands in, ending a form, and the voice transfer."""
from __future__ import annotations

from billing import db, handoffs
from bot.actions.handoffs import ActionHandoff, department_for
from tests.actions.test_balance_actions import run, said, tracker

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
