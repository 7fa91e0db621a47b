"""Twilio's status callbacks for outreach attempts and the outbound call's
own turns, through the real servers: signed like every Twilio request;
delivered, undelivered, failed, no-answer and busy recorded per attempt;
21610 records an opt-out; an unknown attempt is ignored; a forged callback
gets 403.  An answering machine hears the limited-content voicemail; a
person hears the greeting, the recording notice and is asked for by first
name before anything else."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from billing import db, outreach
from billing.models import Account, OutreachAttempt

pytestmark = pytest.mark.integration

JAMES_PHONE, RIVERSIDE = "+15550101002", "+15550100100"


def attempt(assistant, channel: str, sid: str, status: str = "sent", step: str | None = None) -> int:
    with db.session_scope(assistant.database) as session:
        account = session.execute(select(Account).where(Account.account_number == "40023456")).scalar_one()
        row = OutreachAttempt(client_id="riverside", account_id=account.id, patient_id=account.patient_id, campaign="past_due",
                              step=step or f"test:{sid}", channel=channel, to=JAMES_PHONE, language="en", status=status,
                              provider_sid=sid, tries=1)
        session.add(row)
        session.flush()
        return row.id


def status_of(assistant, attempt_id: int) -> OutreachAttempt:
    with db.session_scope(assistant.database) as session:
        row = session.get(OutreachAttempt, attempt_id)
        session.expunge(row)
        return row


def test_a_text_delivered_is_recorded_and_a_late_sent_does_not_undo_it(assistant):
    attempt_id = attempt(assistant, "sms", "SMdelivered1")
    path = f"/webhooks/twilio_sms/status?attempt={attempt_id}"
    assert assistant.twilio(path, {"MessageSid": "SMdelivered1", "MessageStatus": "delivered", "To": JAMES_PHONE})[0] == 204
    assert assistant.twilio(path, {"MessageSid": "SMdelivered1", "MessageStatus": "sent", "To": JAMES_PHONE})[0] == 204
    assert status_of(assistant, attempt_id).status == "delivered"


@pytest.mark.parametrize("provider, ours", [("undelivered", "undelivered"), ("failed", "failed")])
def test_a_text_that_did_not_arrive_is_recorded(assistant, provider, ours):
    attempt_id = attempt(assistant, "sms", f"SM{provider}")
    assistant.twilio(f"/webhooks/twilio_sms/status?attempt={attempt_id}",
                     {"MessageSid": f"SM{provider}", "MessageStatus": provider, "ErrorCode": "30003"})
    row = status_of(assistant, attempt_id)
    assert (row.status, row.error_code) == (ours, "30003")


def test_error_21610_records_the_opt_out(assistant):
    attempt_id = attempt(assistant, "sms", "SMstopped")
    assistant.twilio(f"/webhooks/twilio_sms/status?attempt={attempt_id}",
                     {"MessageSid": "SMstopped", "MessageStatus": "undelivered", "ErrorCode": "21610"})
    assert status_of(assistant, attempt_id).status == "undelivered"
    with db.session_scope(assistant.database) as session:
        assert outreach.is_opted_out(session, client_id="riverside", channel="sms", address=JAMES_PHONE)
        outreach.set_opt_out(session, client_id="riverside", channel="sms", address=JAMES_PHONE, opted_out=False, source="test")


@pytest.mark.parametrize("provider", ["no-answer", "busy", "failed", "completed"])
def test_a_calls_outcome_is_recorded(assistant, provider):
    attempt_id = attempt(assistant, "voice", f"CA{provider}")
    assert assistant.twilio(f"/webhooks/twilio_voice/status?attempt={attempt_id}",
                            {"CallSid": f"CA{provider}", "CallStatus": provider})[0] == 204
    assert status_of(assistant, attempt_id).status == provider


def test_a_callback_for_an_unknown_attempt_is_ignored(assistant):
    assert assistant.twilio("/webhooks/twilio_sms/status?attempt=987654", {"MessageSid": "SMnobody", "MessageStatus": "delivered"})[0] == 204
    other = attempt(assistant, "voice", "CAmine")
    assistant.twilio(f"/webhooks/twilio_voice/status?attempt={other}", {"CallSid": "CAsomeoneelse", "CallStatus": "completed"})
    assert status_of(assistant, other).status == "sent"


def test_a_forged_callback_is_refused(assistant):
    attempt_id = attempt(assistant, "sms", "SMforged")
    status, _ = assistant.twilio(f"/webhooks/twilio_sms/status?attempt={attempt_id}",
                                 {"MessageSid": "SMforged", "MessageStatus": "delivered"}, signature="not-a-signature")
    assert status == 403
    assert assistant.twilio(f"/webhooks/twilio_voice/status?attempt={attempt_id}", {"CallSid": "x"}, sign=False)[0] == 403
    assert status_of(assistant, attempt_id).status == "sent"


def outbound(assistant, attempt_id: int, sid: str, turn: str = "outbound", **more):
    params = {"CallSid": sid, "From": RIVERSIDE, "To": JAMES_PHONE, "Direction": "outbound-api", "CallStatus": "in-progress", **more}
    status, twiml = assistant.twilio(f"/webhooks/twilio_voice/webhook?turn={turn}&attempt={attempt_id}", params)
    assert status == 200
    return twiml


def spoken(twiml: str) -> str:
    return " ".join(re.findall(r"<Say[^>]*>(.*?)</Say>", twiml, re.S))


def test_an_answering_machine_gets_the_limited_content_voicemail(assistant):
    attempt_id = attempt(assistant, "voice", "CAmachine")
    twiml = outbound(assistant, attempt_id, "CAmachine", AnsweredBy="machine_end_beep")
    words = spoken(twiml)
    assert "Riverside Health" in words and "(555) 010-0100" in words and "<Hangup" in twiml
    assert "$" not in words and "James" not in words and "balance" not in words.lower()
    assert status_of(assistant, attempt_id).answered_by == "machine_end_beep"


def test_a_person_hears_the_greeting_and_the_recording_notice_and_is_asked_for_by_first_name(assistant):
    attempt_id = attempt(assistant, "voice", "CAperson")
    twiml = outbound(assistant, attempt_id, "CAperson", AnsweredBy="human")
    words = spoken(twiml)
    assert "Riverside Health" in words and "recorded" in words and "James" in words
    assert "Carter" not in words and "$" not in words
    assert status_of(assistant, attempt_id).status == "answered"
    # the patient says it is them: on to the assistant, which verifies before anything about the account
    after = outbound(assistant, attempt_id, "CAperson", turn="outbound_answer", SpeechResult="yes this is James")
    assert "How can I help" in spoken(after) and "$" not in spoken(after)
    # someone else: only the client's name and number
    other = outbound(assistant, attempt_id, "CAperson", turn="outbound_answer", SpeechResult="no he's not here")
    assert "(555) 010-0100" in spoken(other) and "<Hangup" in other and "James" not in spoken(other)


def test_an_outbound_turn_for_someone_elses_attempt_says_nothing(assistant):
    attempt_id = attempt(assistant, "voice", "CAwrong")
    params = {"CallSid": "CAwrong", "From": RIVERSIDE, "To": "+15550101009", "Direction": "outbound-api",
              "CallStatus": "in-progress", "AnsweredBy": "human"}
    status, twiml = assistant.twilio(f"/webhooks/twilio_voice/webhook?turn=outbound&attempt={attempt_id}", params)
    assert status == 200 and spoken(twiml) == "" and "<Hangup" in twiml
