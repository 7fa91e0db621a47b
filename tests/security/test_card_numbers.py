"""Issue 12, item 5: card numbers in every form never reach Rasa, the
tracker, the desk transcript, the logs or the CSV export (DESIGN.md, "Card
data").  The attacks, against the real servers: a card number written with
dots, slashes, several spaces, line breaks, tabs, non-breaking and other
Unicode spaces, dashes of every kind, spoken as words or mixed; split over
consecutive messages; in a REST sender or metadata; typed by a partner in
the desk.  Each time the number is nowhere to be found, and the
conversation still works (an account number and a date of birth still
verify)."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import urllib.request
import uuid

import pytest

from billing.redaction import holds_card_digits
from tests.integration.helpers import call, joined, login

pytestmark = pytest.mark.integration

SMS_HOOK = "/webhooks/twilio_sms/webhook"
RIVERSIDE_NUMBER = "+15550100100"


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


# a number no other test uses, so the logs can be searched for it
CARD = _luhn_complete("471620315874630")
GROUPS = [CARD[i:i + 4] for i in range(0, 16, 4)]
LAST4 = CARD[-4:]
WORDS = "zero one two three four five six seven eight nine".split()
SPOKEN = " ".join(WORDS[int(d)] for d in CARD)

FORMS = {
    "dots": ".".join(GROUPS),
    "slashes": "/".join(GROUPS),
    "double spaces": "  ".join(GROUPS),
    "line breaks": "\n".join(GROUPS),
    "tabs": "\t".join(GROUPS),
    "non-breaking spaces": "\u00a0".join(GROUPS),
    "unicode spaces": f"{GROUPS[0]}\u2009{GROUPS[1]}\u202f{GROUPS[2]}\u3000{GROUPS[3]}",
    "zero-width spaces": "\u200b".join(GROUPS),
    "dashes": f"{GROUPS[0]}\u2013{GROUPS[1]}\u2014{GROUPS[2]}\u2212{GROUPS[3]}",
    "spoken": SPOKEN,
    "spoken with oh": SPOKEN.replace("zero", "oh"),
    "mixed words and digits": f"{GROUPS[0]} {' '.join(WORDS[int(d)] for d in GROUPS[1])} {GROUPS[2]} {GROUPS[3]}",
    "fullwidth digits": "".join(chr(0xFF10 + int(d)) for d in CARD),
}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", re.sub(r"\[(?:part of )?card ending \d{4}\]", "", text))


RANDOM_IDS = ("message_id", "model_id", "timestamp")


def _leaks(value) -> bool:
    """Whether any text in a JSON value holds the card number, in any form."""
    if isinstance(value, str):
        return holds_card_digits(value) or CARD in _digits(value) or any(form in value for form in FORMS.values())
    if isinstance(value, dict):
        # random ids (a Twilio MessageSid, Rasa's model id) can hold a Luhn-valid run by chance: not patient text
        return any(_leaks(k) or _leaks(v) for k, v in value.items() if k not in RANDOM_IDS)
    if isinstance(value, list):
        return any(_leaks(v) for v in value)
    return isinstance(value, int) and CARD in str(value)


def _events(assistant, sender_id: str):
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return [json.loads(r[0]) for r in conn.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,))]


def _patient_texts(assistant, sender_id: str):
    return [e.get("text") or "" for e in _events(assistant, sender_id) if e.get("event") == "user"]


def _assert_nowhere(assistant, tokens, sender_id: str):
    """Not in the tracker (any event, and not across the patient's turns
    read one after another), not in the desk's transcript."""
    events = _events(assistant, sender_id)
    assert events, sender_id
    assert not _leaks(events), [e for e in events if _leaks(e)]
    assert CARD not in _digits(" ".join(_patient_texts(assistant, sender_id)))
    status, conversation, _ = call(assistant, "GET", f"/api/conversations/{sender_id}", token=tokens["sam"])
    assert status == 200, conversation
    assert not _leaks(conversation), conversation
    assert CARD not in _digits(" ".join(line["text"] for line in conversation["transcript"] if line["from"] == "patient"))
    return conversation


@pytest.fixture(scope="module")
def tokens(assistant):
    return {"alex": login(assistant, "alex", "alex-demo-pass"), "sam": login(assistant, "sam", "sam-demo-pass")}


def _sms(assistant, phone, body):
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC00000000000000000000000000000000",
              "From": phone, "To": RIVERSIDE_NUMBER, "Body": body, "NumMedia": "0"}
    status, twiml = assistant.twilio(SMS_HOOK, params)
    assert status == 200, twiml
    return " ".join(re.findall(r"<Message>(.*?)</Message>", twiml, re.S)).replace("&#x27;", "'").replace("&amp;", "&")


def _new_phone():
    return f"+1555017{uuid.uuid4().int % 10000:04d}"


# --- every form, every channel ---------------------------------------------------

@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_card_number_in_any_form_never_reaches_the_tracker_or_the_desk_over_rest(assistant, tokens, form):
    me = assistant.new_sender()
    replies = assistant.say(me, f"please charge my card {FORMS[form]} thanks")
    assert replies and not _leaks(replies)
    assert any(f"[card ending {LAST4}]" in text for text in _patient_texts(assistant, me))
    _assert_nowhere(assistant, tokens, me)
    # the conversation goes on
    assert "date of birth" in joined(assistant.say(me, "whats my balance"))


@pytest.mark.parametrize("form", ["dots", "line breaks", "double spaces", "slashes", "spoken", "non-breaking spaces"])
def test_a_card_number_in_any_form_never_reaches_the_tracker_or_the_desk_by_text(assistant, tokens, form):
    phone = _new_phone()
    reply = _sms(assistant, phone, f"my card is {FORMS[form]}")
    assert reply and not _leaks(reply)
    _assert_nowhere(assistant, tokens, f"sms:riverside:{phone}")
    assert "date of birth" in _sms(assistant, phone, "whats my balance")


def test_a_card_number_never_reaches_the_tracker_from_the_web_chat(assistant, tokens):
    sender = uuid.uuid4().hex[:16]
    body = json.dumps({"sender": sender, "client": "riverside", "message": f"card {FORMS['dots']}"}).encode()
    request = urllib.request.Request(f"{assistant.base}/webhooks/webchat/webhook", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        replies = json.loads(answer.read())
    assert replies and not _leaks(replies)
    _assert_nowhere(assistant, tokens, f"web:riverside:{sender}")


def test_a_card_number_said_on_a_call_never_reaches_the_tracker(assistant, tokens):
    from tests.integration.test_channels_voice import call as voice, new_call, said

    sid = new_call()
    voice(assistant, sid)
    reply = said(voice(assistant, sid, "?turn=gather&silence=0", SpeechResult=f"my card is {SPOKEN}", Confidence="0.9")[1])
    assert reply and not _leaks(reply)
    _assert_nowhere(assistant, tokens, f"voice:{sid}")


# --- a number split over messages ---------------------------------------------------

@pytest.mark.parametrize("parts", [
    (f"{GROUPS[0]} {GROUPS[1]}", f"{GROUPS[2]} {GROUPS[3]}"),
    (f"my card is {GROUPS[0]} {GROUPS[1]} {GROUPS[2]}", GROUPS[3]),
    (GROUPS[0] + GROUPS[1] + GROUPS[2], GROUPS[3]),
    (f"{GROUPS[0]} {GROUPS[1]}", GROUPS[2], GROUPS[3]),
    (" ".join(WORDS[int(d)] for d in CARD[:8]), " ".join(WORDS[int(d)] for d in CARD[8:])),
], ids=["4+4 then 4+4", "12 then 4", "unbroken 12 then 4", "three messages", "spoken halves"])
def test_a_card_number_split_over_rest_messages_is_not_left_whole_anywhere(assistant, tokens, parts):
    me = assistant.new_sender()
    replies = [assistant.say(me, part) for part in parts]
    # the conversation goes on (two turns the bot does not follow bring a partner), and nothing says the number
    assert all(replies[:2]) and not _leaks(replies)
    texts = _patient_texts(assistant, me)
    assert texts[-1] == f"[card ending {LAST4}]"
    assert all(CARD[:8] not in _digits(t) for t in texts)           # the earlier part is masked where it was stored
    assert f"[part of card ending {LAST4}]" in texts[-2]
    _assert_nowhere(assistant, tokens, me)


def test_a_card_number_split_over_texts_is_not_left_whole_anywhere(assistant, tokens):
    phone = _new_phone()
    _sms(assistant, phone, f"card {GROUPS[0]}.{GROUPS[1]}")
    reply = _sms(assistant, phone, f"{GROUPS[2]}.{GROUPS[3]}")
    assert not _leaks(reply)
    texts = _patient_texts(assistant, f"sms:riverside:{phone}")
    assert texts[-1] == f"[card ending {LAST4}]" and f"[part of card ending {LAST4}]" in texts[-2]
    _assert_nowhere(assistant, tokens, f"sms:riverside:{phone}")


# --- what must stay ----------------------------------------------------------------

@pytest.mark.parametrize("dob, account", [("3/3/1985", "40012345"), ("03031985", "40012345"), ("03.03.1985", "4001 2345")])
def test_an_account_number_and_a_date_of_birth_still_verify(assistant, dob, account):
    me = assistant.new_sender()
    assert "date of birth" in joined(assistant.say(me, "whats my balance"))
    assistant.say(me, dob)
    reply = joined(assistant.say(me, account))
    assert re.search(r"balance on account 40012345 is \$[\d,]+\.\d\d", reply)  # other tests may have paid some of it
    texts = _patient_texts(assistant, me)
    assert dob in texts and account in texts


def test_a_phone_number_zip_code_and_amounts_stay_in_the_transcript(assistant):
    me = assistant.new_sender()
    for text in ["my phone is 555 010 1001", "zip 30303-1234", "can i pay $1,234.56 on 12/15/2026", "member id UHC3301982"]:
        assistant.say(me, text)
    assert _patient_texts(assistant, me)[-4:] == [
        "my phone is 555 010 1001", "zip 30303-1234", "can i pay $1,234.56 on 12/15/2026", "member id UHC3301982"]


# --- REST sender and metadata ------------------------------------------------------

@pytest.mark.parametrize("sender", [CARD, FORMS["dots"], "-".join(GROUPS), f"user-{CARD}", "_".join(GROUPS)])
def test_a_card_number_in_a_rest_sender_never_becomes_a_conversation(assistant, sender):
    status, body = assistant.rest(json.dumps({"sender": sender, "message": "hi", "metadata": {"client": "riverside"}}).encode())
    assert status == 400, body
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        senders = [r[0] for r in conn.execute("SELECT DISTINCT sender_id FROM events")]
    assert not [s for s in senders if CARD in _digits(s)]
    # and no REST conversation's id holds any card number; the ids Twilio mints (voice:CA<hex>, sms:<client>:<phone>)
    # can hold a Luhn-valid run of digits by chance, and a REST sender can never take their shape (400)
    assert not [s for s in senders if not s.startswith(("voice:", "sms:", "web:")) and holds_card_digits(s)]


def test_a_card_number_in_rest_metadata_never_reaches_the_tracker(assistant, tokens):
    me = assistant.new_sender()
    metadata = {"note": FORMS["dots"], "card": CARD, "nested": {"x": [FORMS["spoken"]]}, "language": "en"}
    status, replies = assistant.rest(json.dumps({"sender": me, "message": "hi", "metadata": {"client": "riverside", **metadata}}).encode())
    assert status in (200, 400), replies
    if status == 200:
        _assert_nowhere(assistant, tokens, me)


# --- the desk ------------------------------------------------------------------------

def _handoff_for(assistant, token, conversation_id):
    status, body, _ = call(assistant, "GET", "/api/handoffs?status=waiting", token=token)
    assert status == 200
    found = [h for h in body["handoffs"] if h["conversation_id"] == conversation_id]
    assert len(found) == 1, body
    return found[0]


@pytest.mark.parametrize("form", ["dots", "line breaks", "spoken", "dashes", "double spaces"])
def test_a_partner_typing_a_card_number_neither_sends_nor_stores_it(assistant, tokens, twilio_api, form):
    phone = _new_phone()
    assert "partner" in _sms(assistant, phone, "can i talk to someone please")
    handoff = _handoff_for(assistant, tokens["alex"], f"sms:riverside:{phone}")
    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=tokens["alex"])[0] == 200
    status, sent, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/messages",
                           {"text": f"Alex here. Is your card {FORMS[form]}?"}, token=tokens["alex"])
    assert status == 200 and not _leaks(sent) and f"[card ending {LAST4}]" in sent["text"]
    texts = [m["Body"][0] for m in twilio_api.sent if m["To"] == [phone]]
    assert texts and texts[-1].startswith("Alex here.") and not _leaks(texts)
    conversation = _assert_nowhere(assistant, tokens, f"sms:riverside:{phone}")
    assert any(line["from"] == "agent" and f"[card ending {LAST4}]" in line["text"] for line in conversation["transcript"])
    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/close",
                {"disposition": "information_given", "resume_bot": True}, token=tokens["alex"])[0] == 200


def test_the_csv_export_holds_no_card_number(assistant, tokens):
    import datetime as dt

    me = assistant.new_sender()
    assistant.say(me, f"card {FORMS['slashes']}")
    # Rasa stamps events with the machine's time, the desk's default window is the demo clock's week
    day = dt.datetime.fromtimestamp(_events(assistant, me)[-1]["timestamp"], dt.timezone.utc).date().isoformat()
    status, body, headers = call(assistant, "GET", f"/api/conversations.csv?since={day}&until={day}", token=tokens["sam"])
    assert status == 200 and "text/csv" in headers.get("Content-Type", "")
    rows = list(csv.reader(io.StringIO(body)))
    assert any(row and row[0] == me for row in rows)
    assert not _leaks(rows)


def test_the_logs_hold_no_card_number(assistant):
    """Run last in this module: whatever the attacks above sent, no log line holds it."""
    for log in (assistant.var / "log").glob("*.log"):
        text = log.read_text(errors="replace")
        assert CARD not in re.sub(r"[\s.\-/\u2013\u2014\u2212\u200b]", "", text), log.name
        assert not [name for name, form in FORMS.items() if form in text], log.name
