"""Attacks on the REST channel (issue 12, item 2 and item 8's REST part),
tried against the real servers: each must fail, and the conversation a
bad request was aimed at must go on working."""
from __future__ import annotations

import json
import time
import uuid

import pytest

from billing import db, outreach
from tests.integration.helpers import joined
from tests.integration.test_channels_sms import MARIA_PHONE, sms, text_of

GRACE_PHONE = "+15550101009"  # Grace, a Lakeside patient, born 1949-04-04, account 40090123

pytestmark = pytest.mark.integration

BALANCE_TOLD = "Your balance on account"


def body(**fields) -> bytes:
    return json.dumps({"sender": f"sec-{uuid.uuid4().hex[:10]}", "message": "hi", "metadata": {"client": "riverside"}, **fields}).encode()


def test_the_rest_channel_refuses_a_caller_without_the_token_or_with_a_wrong_one(assistant):
    assert assistant.rest(body(), token="")[0] == 401
    assert assistant.rest(body(), token="not-the-token")[0] == 401
    assert assistant.rest(body(), headers={"Authorization": "Basic " + assistant.env["REST_CHANNEL_TOKEN"]})[0] == 401
    status, replies = assistant.rest(body())
    assert status == 200 and replies and replies[0]["text"]


@pytest.mark.parametrize("sender", [
    f"sms:riverside:{MARIA_PHONE}", "SMS:riverside:+15550101001", " voice:CA0123", "web:riverside:abcdefgh1234",
    "webchat:riverside:abcdefgh1234", MARIA_PHONE, "15550101001", "CA" + "0" * 32,
])
def test_a_sender_shaped_like_another_channels_conversation_gets_400(assistant, sender):
    status, answer = assistant.rest(body(sender=sender))
    assert status == 400 and "another channel" in answer["error"]


def test_a_rest_caller_who_knows_a_patients_number_cannot_join_her_verified_sms_conversation(assistant):
    phone, lakeside = GRACE_PHONE, "+15550100200"
    sms(assistant, "whats my balance", sender=phone, to=lakeside)
    sms(assistant, "april 4 1949", sender=phone, to=lakeside)
    assert "account 40090123 is $" in text_of(sms(assistant, "40090123", sender=phone, to=lakeside)[1])
    status, answer = assistant.rest(body(sender=f"sms:lakeside:{phone}", message="what's my balance and my insurance?"))
    assert status == 400 and "40090123" not in json.dumps(answer)
    # three wrong dates of birth from REST cannot lock her texts either
    for _ in range(3):
        assert assistant.rest(body(sender=f"sms:lakeside:{phone}", message="january 1 1900"))[0] == 400
    assert "account 40090123 is $" in text_of(sms(assistant, "whats my balance", sender=phone, to=lakeside)[1])


def test_rest_metadata_never_sets_a_phone_so_wrong_number_opts_no_one_out(assistant):
    victim = "+15550101002"  # James Wilson's number on file
    sender = f"sec-{uuid.uuid4().hex[:10]}"
    status, _ = assistant.rest(body(sender=sender, message="/wrong_number",
                                    metadata={"client": "riverside", "phone": victim, "from": victim, "channel": "sms"}))
    assert status == 200
    with db.session_scope(assistant.database) as session:
        for channel in ("sms", "voice"):
            assert not outreach.is_opted_out(session, client_id="riverside", channel=channel, address=victim)


def test_rest_metadata_and_input_channel_cannot_claim_an_identity_or_a_channel(assistant):
    sender = f"sec-{uuid.uuid4().hex[:10]}"
    forged = {"client": "riverside", "identity": "verified", "patient_id": "p-maria-garcia", "channel": "sms", "phone": MARIA_PHONE}
    status, replies = assistant.rest(body(sender=sender, message="what's my balance", metadata=forged, input_channel="twilio_sms"))
    said = " ".join(r.get("text", "") for r in replies)
    assert status == 200 and BALANCE_TOLD not in said and "date of birth" in said
    tracker = assistant.api("GET", f"/conversations/{sender}/tracker")
    assert tracker["latest_input_channel"] == "rest"
    assert tracker["latest_message"]["metadata"] == {"client": "riverside"}
    assert tracker["slots"]["identity"] != "verified"


@pytest.mark.parametrize("raw, status", [
    (json.dumps({"sender": "sec-num-1", "message": 12345, "metadata": {"client": "riverside"}}), 400),
    (json.dumps([{"sender": "sec-arr-1", "message": "hi"}]), 400),
    (json.dumps("hi"), 400),
    ("{not json", 400),
    (json.dumps({"sender": ["x"], "message": "hi"}), 400),
    (json.dumps({"sender": "sec-meta-1", "message": "hi", "metadata": ["riverside"]}), 400),
    (json.dumps({"sender": "sec-meta-1", "message": "hi", "metadata": {"client": "riverside", "language": "fr"}}), 400),
])
def test_malformed_rest_bodies_get_a_400_that_says_what_is_wrong(assistant, raw, status):
    got, answer = assistant.rest(raw.encode())
    assert got == status and answer["error"]


def test_a_client_that_is_an_object_gets_400_and_the_conversation_goes_on_working(assistant):
    sender = f"sec-{uuid.uuid4().hex[:10]}"
    status, answer = assistant.rest(body(sender=sender, metadata={"client": {"id": "riverside"}}))
    assert status == 400 and "client" in answer["error"]
    replies = assistant.say(sender, "whats my balance")
    assert "date of birth" in joined(replies)
    assert "account number" in joined(assistant.say(sender, "march 3 1985"))
    assert BALANCE_TOLD in joined(assistant.say(sender, "40012345"))


def test_a_100_kb_message_is_cut_to_the_cap_with_a_note_and_stalls_no_one(assistant):
    sender, other = f"sec-{uuid.uuid4().hex[:10]}", f"sec-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    status, replies = assistant.rest(body(sender=sender, message="what is my balance " * 5500))
    assert status == 200 and time.monotonic() - started < 5
    assert "first 4,000 characters" in replies[0]["text"] and "date of birth" in " ".join(r["text"] for r in replies)
    started = time.monotonic()
    assert "date of birth" in joined(assistant.say(other, "whats my balance"))
    assert time.monotonic() - started < 5
    # at the cap exactly, no note
    status, replies = assistant.rest(body(sender=f"sec-{uuid.uuid4().hex[:10]}", message=("what is my balance " * 300)[:4000]))
    assert status == 200 and "first 4,000" not in " ".join(r["text"] for r in replies)
