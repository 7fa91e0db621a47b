"""Twilio voice through the running assistant: signed requests as Twilio
sends them, TwiML back."""
from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing import db, ledger
from billing.gateway import SandboxGateway
from billing.models import Account, Payment

pytestmark = pytest.mark.integration

HOOK = "/webhooks/twilio_voice/webhook"
RIVERSIDE = "+15550100100"


_steps: dict = {}


def call(assistant, call_sid, query="", **params):
    """One webhook request of a call.  A listening turn goes to the step the
    last answer's URLs named, as Twilio follows the URLs it is given."""
    form = {"CallSid": call_sid, "AccountSid": "AC00000000000000000000000000000000", "From": "+15550101001",
            "To": RIVERSIDE, "CallStatus": "in-progress", **params}
    if "turn=gather" in query and "step=" not in query and call_sid in _steps:
        query += f"&step={_steps[call_sid]}"
    status, twiml = assistant.twilio(HOOK + query, form)
    steps = re.findall(r"step=(\d+)", twiml)
    if steps:
        _steps[call_sid] = steps[-1]
    return status, twiml


def said(twiml):
    return " ".join(re.findall(r"<Say[^>]*>(.*?)</Say>", twiml, re.S)).replace("&#x27;", "'")


def new_call():
    return f"CA{uuid.uuid4().hex}"


def test_a_call_gets_the_notice_a_gather_and_maria_hears_her_balance_after_keypad_verification(assistant):
    sid = new_call()
    status, start = call(assistant, sid)
    assert status == 200 and "recorded" in said(start) and "Riverside Health" in said(start)
    gather = re.search(r"<Gather [^>]*>", start).group(0)
    assert 'input="speech dtmf"' in gather and 'actionOnEmptyResult="true"' in gather and "hints=" in gather
    assert 'speechModel="phone_call"' in gather and "timeout=" in gather
    asked = said(call(assistant, sid, "?turn=gather&silence=0", SpeechResult="what's my balance", Confidence="0.9")[1])
    assert "date of birth" in asked and "412" not in asked
    call(assistant, sid, "?turn=gather&silence=0", Digits="03031985")
    reply = call(assistant, sid, "?turn=gather&silence=0", Digits="40012345")[1]
    assert "$412.50" in said(reply) and "<Gather" in reply
    assert "4 0 0 1 2 3 4 5" in said(reply)  # account numbers are read digit by digit
    transfer = call(assistant, sid, "?turn=gather&silence=0", SpeechResult="can i talk to a real person")[1]
    assert re.search(r"<Enqueue [^>]*>riverside-billing</Enqueue>", transfer)
    # the transfer carries the summary: the caller hears what the partner is told
    assert "Maria Garcia, account 4 0 0 1 2 3 4 5 with a balance of $412.50" in said(transfer)


def test_silence_is_asked_about_twice_then_a_partner_takes_the_call(assistant):
    sid = new_call()
    call(assistant, sid)
    first = call(assistant, sid, "?turn=gather&silence=0")[1]
    assert "didn't hear" in said(first) and "silence=1" in first
    second = call(assistant, sid, "?turn=gather&silence=1")[1]
    assert "didn't hear" in said(second) and "silence=2" in second
    last = call(assistant, sid, "?turn=gather&silence=2")[1]
    assert "<Hangup" not in last and re.search(r"<Enqueue [^>]*>riverside-billing</Enqueue>", last)


def test_the_status_callback_ends_the_session(assistant):
    sid = new_call()
    call(assistant, sid)
    call(assistant, sid, "?turn=gather&silence=0", SpeechResult="what's my balance")
    call(assistant, sid, "?turn=gather&silence=0", Digits="03031985")
    assert "$412.50" in said(call(assistant, sid, "?turn=gather&silence=0", Digits="40012345")[1])
    assert call(assistant, sid, CallStatus="completed")[0] == 200
    again = said(call(assistant, sid, "?turn=gather&silence=0", SpeechResult="what's my balance")[1])
    assert "412" not in again and "date of birth" in again


def test_a_keypad_payment_posts_once_under_retried_callbacks(assistant):
    with db.session_scope(assistant.database) as session:
        token = SandboxGateway().tokenize(session, "4242424242424242", 12, 2030).token
        before = ledger.balance(session, session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one())
    sid = new_call()
    query = "?turn=pay&account=40067890&amount=50.00"
    params = {"Result": "success", "PaymentToken": token, "PaymentCardNumber": "xxxx-xxxx-xxxx-4242", "PaymentCardType": "visa"}
    first = said(call(assistant, sid, query, **params)[1])
    second = said(call(assistant, sid, query, **params)[1])
    assert "went through" in first and first == second
    with db.session_scope(assistant.database) as session:
        account = session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one()
        assert ledger.balance(session, account) == before - Decimal("50.00")
        assert session.execute(select(func.count()).select_from(Payment).where(
            Payment.account_id == account.id, Payment.method == "keypad")).scalar_one() == 1


def test_a_failed_keypad_capture_charges_nothing(assistant):
    reply = said(call(assistant, new_call(), "?turn=pay&account=40067890&amount=50.00", Result="too-many-failed-attempts")[1])
    assert "nothing was charged" in reply


def test_unsigned_and_forged_calls_get_403_and_an_unknown_number_a_polite_goodbye(assistant):
    params = {"CallSid": new_call(), "From": "+15550101001", "To": RIVERSIDE}
    assert assistant.twilio(HOOK, params, sign=False)[0] == 403
    assert assistant.twilio(HOOK, params, signature="Zm9yZ2Vk")[0] == 403
    status, reply = call(assistant, new_call(), To="+15550109999")
    assert status == 200 and "<Hangup" in reply and "isn't set up" in said(reply)
