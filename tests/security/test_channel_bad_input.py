"""Bad input on the patient channels (issue 12, items 4 and 8): no server
errors, replays answered once, messages capped, numbers rate-limited."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.test_channels_sms import sms, text_of
from tests.integration.test_channels_voice import _steps, call, new_call, said

pytestmark = pytest.mark.integration

def new_phone() -> str:
    return "+1555029" + str(uuid.uuid4().int)[:4]


def test_a_voice_request_with_silence_abc_is_answered_with_twiml(assistant):
    sid = new_call()
    call(assistant, sid)
    for silence in ("abc", "-1", "99999999999999999999", ""):
        status, twiml = call(assistant, sid, f"?turn=gather&silence={silence}")
        assert status == 200 and "<Response>" in twiml


def test_an_sms_with_num_media_lots_is_answered(assistant):
    status, twiml = sms(assistant, "", sender=new_phone(), NumMedia="lots")
    assert status == 200 and "<Response" in twiml
    status, twiml = sms(assistant, "hi", sender=new_phone(), NumMedia="lots")
    assert status == 200 and text_of(twiml)


def test_a_replayed_voice_turn_is_answered_once(assistant):
    sid = new_call()
    call(assistant, sid)
    call(assistant, sid, "?turn=gather&silence=0", SpeechResult="what's my balance", Confidence="0.9")
    url = f"?turn=gather&silence=0&step={_steps[sid]}"  # the URL the last answer gave Twilio
    first = call(assistant, sid, url, Digits="01011900")  # a wrong date of birth
    # Twilio sends the same request again (same CallSid, same step): the same answer, not a second attempt
    again = call(assistant, sid, url, Digits="01011900")
    assert again[0] == 200 and said(again[1]) == said(first[1])
    tracker = assistant.api("GET", f"/conversations/voice:{sid}/tracker")
    heard = [e for e in tracker["events"] if e["event"] == "user" and e.get("text") == "01011900"]
    assert len(heard) == 1


def test_a_long_message_is_capped_on_sms_and_voice(assistant):
    status, twiml = sms(assistant, "help me with my bill " * 5000, sender=new_phone())
    assert status == 200 and "first 4,000 characters" in text_of(twiml)
    sid = new_call()
    call(assistant, sid)
    status, twiml = call(assistant, sid, "?turn=gather&silence=0", SpeechResult="my balance please " * 5000)
    assert status == 200 and said(twiml)


def test_one_number_flooding_sms_is_rate_limited_but_stop_still_works(assistant):
    phone = new_phone()
    answered = [bool(text_of(sms(assistant, "hi", sender=phone)[1])) for _ in range(26)]
    assert answered[:15] == [True] * 15 and not all(answered)
    assert "Riverside Health" in text_of(sms(assistant, "STOP", sender=phone)[1])


def test_the_web_chat_channel_refuses_malformed_bodies(assistant):
    import urllib.error
    import urllib.request

    def post(payload: bytes):
        request = urllib.request.Request(f"{assistant.base}/webhooks/webchat/webhook", data=payload,
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    sender = uuid.uuid4().hex[:16]
    assert post(json.dumps({"sender": sender, "client": "riverside", "message": 42}).encode()) == 400
    assert post(json.dumps({"sender": sender, "client": {"x": 1}, "message": "hi"}).encode()) == 400
    assert post(json.dumps([1, 2]).encode()) == 400
    assert post(json.dumps({"sender": sender, "client": "riverside", "message": "x" * 40001}).encode()) == 200
    assert post(json.dumps({"sender": sender, "client": "riverside", "message": "hi"}).encode()) == 200
