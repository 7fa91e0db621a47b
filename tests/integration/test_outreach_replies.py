"""A text back within a week of a reminder is a reply to it: "who is
this?" is answered in general words (the client's name, your bill, what to
reply; never an amount), PAY and PLAN start that request (verification
first), and the conversation records which reminder it answers."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import uuid

import pytest
from sqlalchemy import select

from billing import clock, db
from billing.models import Account, OutreachAttempt
from tests.conftest import DEMO_NOW
from tests.integration.helpers import call

pytestmark = pytest.mark.integration

RIVERSIDE = "+15550100100"
SENT = clock.parse(DEMO_NOW).replace(tzinfo=None) - dt.timedelta(hours=2)


def reminded(assistant, phone: str, *, sent_at: dt.datetime = SENT, language: str = "en") -> int:
    """A past-due reminder texted to ``phone`` about James Carter's account."""
    with db.session_scope(assistant.database) as session:
        account = session.execute(select(Account).where(Account.account_number == "40023456")).scalar_one()
        row = OutreachAttempt(client_id="riverside", account_id=account.id, patient_id=account.patient_id, campaign="past_due",
                              step=f"test:{uuid.uuid4().hex[:8]}", channel="sms", to=phone, language=language, status="delivered",
                              provider_sid=f"SM{uuid.uuid4().hex}", tries=1, sent_at=sent_at)
        session.add(row)
        session.flush()
        return row.id


def new_phone() -> str:
    return f"+1555017{uuid.uuid4().int % 10000:04d}"


def text(assistant, phone: str, body: str) -> str:
    status, twiml = assistant.twilio("/webhooks/twilio_sms/webhook", {
        "MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC00000000000000000000000000000000", "From": phone, "To": RIVERSIDE,
        "Body": body, "NumMedia": "0"})
    assert status == 200
    return " ".join(re.findall(r"<Message>(.*?)</Message>", twiml, re.S)).replace("&#x27;", "'").replace("&amp;", "&")


def test_who_is_this_after_a_reminder_is_answered_in_general_words(assistant):
    phone = new_phone()
    reminded(assistant, phone)
    reply = text(assistant, phone, "who is this??")
    assert "Riverside Health" in reply and "your bill" in reply and "PAY" in reply and "STOP" in reply
    assert "$" not in reply and "James" not in reply  # nothing about the account before verification


def test_a_spanish_reminder_is_answered_in_spanish(assistant):
    phone = new_phone()
    reminded(assistant, phone, language="es")
    reply = text(assistant, phone, "quien es?")
    assert "Riverside Health" in reply and "factura" in reply and "PARAR" in reply


def test_pay_after_a_reminder_starts_a_payment_after_verification(assistant):
    phone = new_phone()
    attempt = reminded(assistant, phone)
    reply = text(assistant, phone, "PAY")
    assert "date of birth" in reply and "$" not in reply
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = [json.loads(r[0]) for r in conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (f"sms:riverside:{phone}",))]
    assert rows[-1]["parse_data"]["intent"]["name"] == "make_payment"
    assert rows[-1]["metadata"]["outreach"]["attempt"] == attempt and rows[-1]["metadata"]["outreach"]["campaign"] == "past_due"


def test_the_supervisor_counts_a_reminder_texted_back_as_replied(assistant):
    status, body, _ = call(assistant, "POST", "/api/login", {"username": "sam", "password": "sam-demo-pass"})
    token = body["token"]

    def replied():
        status, body, _ = call(assistant, "GET", "/api/outreach", token=token)
        assert status == 200, body
        return next(c["replied"] for c in body["campaigns"] if (c["client"], c["campaign"]) == ("riverside", "past_due"))

    before = replied()
    phone = new_phone()
    reminded(assistant, phone)
    assert replied() == before   # sent, not answered
    text(assistant, phone, "PLAN")
    text(assistant, phone, "3/3/1985")
    assert replied() == before + 1   # one reminder answered, however many messages


def test_a_text_with_no_reminder_or_after_the_window_is_an_ordinary_message(assistant):
    stranger, late = new_phone(), new_phone()
    reminded(assistant, late, sent_at=SENT - dt.timedelta(days=8))
    for phone in (stranger, late):
        reply = text(assistant, phone, "who is this")
        assert "We reached out about your bill" not in reply


def test_a_call_back_after_a_reminder_is_greeted_as_one_and_the_conversation_knows_the_reminder(assistant):
    from tests.integration.test_channels_voice import call, new_call, said

    phone, sid = new_phone(), new_call()
    attempt = reminded(assistant, phone)
    start = said(call(assistant, sid, From=phone)[1])
    assert "calling back" in start and "recorded" in start and "$" not in start
    asked = said(call(assistant, sid, "?turn=gather&silence=0", From=phone, SpeechResult="what's my balance", Confidence="0.9")[1])
    assert "date of birth" in asked
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = [json.loads(r[0]) for r in conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (f"voice:{sid}",))]
    assert rows[-1]["metadata"]["outreach"]["attempt"] == attempt


def test_a_call_from_a_number_we_never_reminded_is_greeted_as_usual(assistant):
    from tests.integration.test_channels_voice import call, new_call, said

    start = said(call(assistant, new_call(), From=new_phone())[1])
    assert "calling back" not in start and "recorded" in start
