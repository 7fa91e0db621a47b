"""The warm handoff end to end, with the real assistant, action server,
SQL tracker store and desk: a Lakeside patient over REST asks for a
person, agent alex claims and replies through the desk API, the bot stays
quiet while alex has the conversation, and closing gives it back.  Roles,
CSRF and the voice transfer with its whisper."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.integration.helpers import call, login


@pytest.fixture(scope="module")
def tokens(assistant):
    return {"alex": login(assistant, "alex", "alex-demo-pass"), "sam": login(assistant, "sam", "sam-demo-pass")}


def waiting_handoff(assistant, token, conversation_id):
    status, body, _ = call(assistant, "GET", "/api/handoffs?status=waiting", token=token)
    assert status == 200
    found = [h for h in body["handoffs"] if h["conversation_id"] == conversation_id]
    assert len(found) == 1, body
    return found[0]


def test_a_lakeside_patient_is_handed_to_alex_and_back(assistant, tokens):
    sender = assistant.new_sender()
    assert assistant.say(sender, "hi", client="lakeside")
    assert assistant.say(sender, "how much do i owe", client="lakeside")  # asks for the date of birth
    reply = " ".join(assistant.say(sender, "i want to talk to a real person", client="lakeside"))
    assert "partner" in reply and "Lakeside" in reply and "in line" in reply

    handoff = waiting_handoff(assistant, tokens["alex"], sender)
    assert handoff["client"] == "lakeside" and handoff["channel"] == "rest" and handoff["reason"] == "asked_for_person"
    assert "not verified" in handoff["summary"] and '"how much do i owe"' in handoff["summary"]

    status, conversation, _ = call(assistant, "GET", f"/api/conversations/{sender}", token=tokens["alex"])
    assert status == 200
    said = [(line["from"], line["text"]) for line in conversation["transcript"]]
    assert ("patient", "how much do i owe") in said and ("patient", "i want to talk to a real person") in said
    assert all(set(line) >= {"ts", "from", "text"} for line in conversation["transcript"])

    # sam cannot write before anyone claims; alex claims; a second claim by sam is refused
    status, _, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/messages", {"text": "hello"}, token=tokens["alex"])
    assert status == 409
    status, claimed, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=tokens["alex"])
    assert status == 200 and claimed["status"] == "active" and claimed["claimed_by"] == "alex"
    status, _, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=tokens["sam"])
    assert status == 409

    status, sent, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/messages",
                           {"message": "Hi, this is Alex from Lakeside billing. How can I help?"}, token=tokens["alex"])
    assert status == 200 and sent["from"] == "agent"
    # the bot does not answer while alex has the conversation
    assert assistant.say(sender, "i got a bill i dont understand", client="lakeside") == []

    _, conversation, _ = call(assistant, "GET", f"/api/conversations/{sender}", token=tokens["alex"])
    lines = conversation["transcript"]
    assert lines[-2]["from"] == "agent" and lines[-2]["agent"] == "alex" and "this is Alex" in lines[-2]["text"]
    assert lines[-1] == {**lines[-1], "from": "patient", "text": "i got a bill i dont understand"}
    assert conversation["paused"] is True

    status, closed, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/close", {"resume_bot": True}, token=tokens["alex"])
    # no disposition named: recorded as unresolved
    assert status == 200 and closed["status"] == "closed" and closed["resume_bot"] is True and closed["disposition"] == "unresolved"
    # the bot answers again
    assert assistant.say(sender, "are you a bot", client="lakeside")

    # the supervisor sees the conversation, its handoff and the KPIs; alex may not read the metrics
    status, listing, _ = call(assistant, "GET", "/api/conversations", token=tokens["sam"])
    row = next(r for r in listing["conversations"] if r["id"] == sender)
    assert row["handoff"] is True and row["client"] == "lakeside" and isinstance(row["flags"], list)
    status, metrics, _ = call(assistant, "GET", "/api/metrics", token=tokens["sam"])
    assert status == 200 and metrics["conversations"] >= 1 and metrics["handoffs"] >= 1
    assert metrics["containment_rate"] is not None and metrics["median_wait_to_claim_seconds"] is not None
    status, _, _ = call(assistant, "GET", "/api/metrics", token=tokens["alex"])
    assert status == 403
    status, audit, _ = call(assistant, "GET", "/api/audit", token=tokens["sam"])
    actions = [(e["actor"], e["action"], e["target"]) for e in audit["entries"]]
    assert ("alex", "handoff.claim", f"handoff:{handoff['id']}") in actions
    assert ("alex", "handoff.close", f"handoff:{handoff['id']}") in actions


def test_roles_and_sign_in_rules(assistant, tokens):
    assert call(assistant, "GET", "/api/handoffs?status=waiting")[0] == 401
    assert call(assistant, "GET", "/api/handoffs", token="not-a-token")[0] == 401
    assert call(assistant, "GET", "/api/conversations.csv", token=tokens["alex"])[0] == 403
    status, body, _ = call(assistant, "GET", "/api/conversations.csv", token=tokens["sam"])
    assert status == 200 and body.splitlines()[0].startswith("conversation,client,channel")
    assert call(assistant, "POST", "/api/login", {"username": "alex", "password": "wrong"})[0] == 401
    assert call(assistant, "GET", "/api/accounts/99999999", token=tokens["alex"])[0] == 404
    status, account, _ = call(assistant, "GET", "/api/accounts/40067890", token=tokens["alex"])
    assert status == 200 and account["patient"]["name"] == "David Lee" and isinstance(account["disputes"], list)
    # the balance is the sum of the ledger, as a decimal string
    assert account["balance"] == str(sum(Decimal(e["amount"]) for e in account["ledger"]))
    assert set(account) >= {"balance", "ledger", "payments", "payment_plan", "disputes", "assistance_applications", "insurance"}


def test_a_page_form_without_the_csrf_token_is_refused(assistant):
    # the sign-in form carries a token of its own (tests/security/test_desk_doors.py)
    _, login_page, headers = call(assistant, "GET", "/desk/login")
    login_form = {"username": "alex", "password": "alex-demo-pass",
                  "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)}
    status, _, headers = call(assistant, "POST", "/desk/login", form=login_form,
                              headers={"Cookie": headers["Set-Cookie"].split(";", 1)[0]})
    assert status == 302
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    status, page, _ = call(assistant, "GET", "/desk/", headers={"Cookie": cookie})
    assert status == 200 and "Queue" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # the same cookie, a form posted from elsewhere (no token): refused, nothing signed out
    status, _, _ = call(assistant, "POST", "/desk/logout", headers={"Cookie": cookie}, form={})
    assert status == 403
    assert call(assistant, "GET", "/desk/", headers={"Cookie": cookie})[0] == 200
    # a JSON change with the cookie needs the header too
    assert call(assistant, "POST", "/api/handoffs/1/claim", headers={"Cookie": cookie})[0] == 403
    status, _, _ = call(assistant, "POST", "/desk/logout", headers={"Cookie": cookie}, form={"csrf_token": token})
    assert status == 302
    assert call(assistant, "GET", "/desk/", headers={"Cookie": cookie})[0] == 302


def test_asking_for_a_person_on_a_call_transfers_with_the_summary(assistant, tokens):
    call_sid = "CA" + assistant.new_sender().replace("-", "")[:30].ljust(32, "0")
    params = {"CallSid": call_sid, "From": "+15550101001", "To": "+15550100100", "CallStatus": "in-progress",
              "SpeechResult": "i want to talk to a representative"}
    status, twiml = assistant.twilio("/webhooks/twilio_voice/webhook?turn=gather&silence=0", params)
    assert status == 200
    assert re.search(r"<Enqueue [^>]*>riverside-billing</Enqueue>", twiml) and "partner" in twiml
    assert "they will confirm who you are first" in twiml  # the summary, as the caller hears it
    handoff = waiting_handoff(assistant, tokens["alex"], f"voice:{call_sid}")
    assert handoff["channel"] == "twilio_voice" and "phone call from (555) 010-1001" in handoff["summary"]
    # the partner's dequeue call hears the summary of the caller Twilio connects (the longest waiting) first
    waiting = call(assistant, "GET", "/api/handoffs?status=waiting", token=tokens["alex"])[1]["handoffs"]
    first = next(h for h in waiting if h["client"] == "riverside" and h["channel"] == "twilio_voice" and h["department"] == "billing")
    status, partner = assistant.twilio("/webhooks/twilio_voice/webhook?turn=partner&client=riverside&department=billing",
                                       {"CallSid": "CApartner", "From": "+15550199999", "To": "+15550100100"})
    assert status == 200 and "Transfer from the Riverside Health billing assistant" in partner
    assert first["summary"].split(".")[0] in partner.replace("&quot;", '"') and "<Queue>riverside-billing</Queue>" in partner
    claimed = call(assistant, "GET", "/api/handoffs?status=active", token=tokens["alex"])[1]["handoffs"]
    assert any(h["id"] == first["id"] and h["claimed_by"] == "phone:+15550199999" for h in claimed)


def test_silence_on_a_call_goes_to_a_partner(assistant, tokens):
    call_sid = "CA" + assistant.new_sender().replace("-", "")[:30].ljust(32, "1")
    params = {"CallSid": call_sid, "From": "+15550101002", "To": "+15550100100", "CallStatus": "in-progress"}
    status, twiml = assistant.twilio("/webhooks/twilio_voice/webhook?turn=gather&silence=2", params)
    assert status == 200 and "<Enqueue" in twiml
    assert waiting_handoff(assistant, tokens["alex"], f"voice:{call_sid}")["reason"] == "voice_silence"


def test_a_partner_texts_back_on_the_patients_sms_conversation(assistant, tokens, twilio_api):
    from tests.integration.test_channels_sms import messages, new_phone, sms, text_of

    phone = new_phone()
    assert "partner" in text_of(sms(assistant, "can i talk to someone please", sender=phone)[1])
    handoff = waiting_handoff(assistant, tokens["alex"], f"sms:riverside:{phone}")
    assert handoff["channel"] == "twilio_sms"
    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=tokens["alex"])[0] == 200
    status, _, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/messages",
                        {"text": "Hi, Alex here. My card 4242 4242 4242 4242 is not for you"}, token=tokens["alex"])
    assert status == 200
    sent = [m for m in twilio_api.sent if m["To"] == [phone]]
    assert len(sent) == 1 and sent[0]["From"] == ["+15550100100"] and sent[0]["Body"][0].startswith("Hi, Alex here.")
    assert "4242 4242" not in sent[0]["Body"][0] and "[card ending 4242]" in sent[0]["Body"][0]
    # while alex has it, the bot does not answer the patient's texts
    assert messages(sms(assistant, "ok what do i owe", sender=phone)[1]) == []
    status, _, _ = call(assistant, "POST", f"/api/handoffs/{handoff['id']}/close",
                        {"disposition": "information_given", "resume_bot": True}, token=tokens["alex"])
    assert status == 200
    back = [m["Body"][0] for m in twilio_api.sent if m["To"] == [phone]]
    assert len(back) == 2 and "back with the Riverside Health assistant" in back[1]
    assert "date of birth" in text_of(sms(assistant, "whats my balance", sender=phone)[1])


def test_desk_refuses_bad_input_clearly(assistant, tokens):
    status, body, _ = call(assistant, "POST", "/api/accounts/40012345/write-off",
                           {"amount": "-50", "reason_code": "hardship", "reason": "test"}, token=tokens["alex"])
    assert status == 400 and "more than zero" in body["error"]
    status, body, _ = call(assistant, "POST", "/api/accounts/40012345/write-off",
                           {"amount": "fifty", "reason_code": "hardship", "reason": "test"}, token=tokens["alex"])
    assert status == 400 and "not an amount" in body["error"]
    # above Riverside's $250.00 agent limit: sent to a supervisor, nothing posted
    status, body, _ = call(assistant, "POST", "/api/accounts/40023456/write-off",
                           {"amount": "600.00", "reason_code": "hardship", "reason": "job loss"}, token=tokens["alex"])
    assert status == 202 and body["status"] == "awaiting_supervisor" and "$250.00" in body["message"]
    assert call(assistant, "GET", "/api/accounts/40023456", token=tokens["alex"])[1]["balance"] == "1850.00"
    assert any(w["id"] == body["request_id"] for w in call(assistant, "GET", "/api/work", token=tokens["alex"])[1]["write_off_requests"])
    assert call(assistant, "POST", f"/api/write-offs/{body['request_id']}/approve", {}, token=tokens["alex"])[0] == 403
    status, denied, _ = call(assistant, "POST", f"/api/write-offs/{body['request_id']}/deny", {"note": "offer a plan first"},
                             token=tokens["sam"])
    assert status == 200 and denied["status"] == "denied" and denied["balance"] == "1850.00"
    assert call(assistant, "POST", f"/api/write-offs/{body['request_id']}/approve", {}, token=tokens["sam"])[0] == 409
    assert call(assistant, "POST", "/api/handoffs/999999/claim", token=tokens["alex"])[0] == 404
    status, body, _ = call(assistant, "POST", "/api/handoffs/999999/close", {"disposition": "nonsense"}, token=tokens["alex"])
    assert status in (400, 404)
    status, body, _ = call(assistant, "GET", "/api/metrics?since=yesterday", token=tokens["sam"])
    assert status == 400 and "date" in body["error"]


def test_asking_for_a_person_during_a_payment_hands_off_with_the_account(assistant, tokens):
    sender = assistant.new_sender()
    assistant.say(sender, "i want to pay my bill")
    assistant.say(sender, "march 3 1985")
    assert "how much" in " ".join(assistant.say(sender, "40012345")).lower()
    assert "partner" in " ".join(assistant.say(sender, "actually can i talk to a real person"))
    handoff = waiting_handoff(assistant, tokens["alex"], sender)
    assert handoff["verified"] is True and handoff["account_number"] == "40012345"
    assert "Maria Garcia, verified by date of birth and account number" in handoff["summary"]
    assert "balance $412.50" in handoff["summary"] and "started a payment" in handoff["summary"]
    status, detail, _ = call(assistant, "GET", f"/api/handoffs/{handoff['id']}", token=tokens["alex"])
    assert status == 200 and any("payment link" in a for a in detail["assist"]["next_best_actions"])
    # nothing was charged, the form is over: an amount now is not a payment
    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=tokens["alex"])[0] == 200
    assert assistant.say(sender, "50") == []
    call(assistant, "POST", f"/api/handoffs/{handoff['id']}/close", {"disposition": "unresolved", "resume_bot": True}, token=tokens["alex"])
    status, account, _ = call(assistant, "GET", "/api/accounts/40012345", token=tokens["alex"])
    assert account["balance"] == "412.50"
