"""Issue 12, item 4: verification failures count per patient, across
conversations and channels (DESIGN.md, Identity).  The attack, against the
real servers: three wrong dates of birth in each of four conversations
(REST and SMS), then the right answer from a fifth conversation.  Before,
each new conversation bought three fresh guesses; now the patient is
locked, the right answer is refused, and only a partner who has verified
the caller can lift the lock in the desk (audited)."""
from __future__ import annotations

import uuid

import pytest

from billing import db, identity
from tests.integration.helpers import call, joined, login

pytestmark = pytest.mark.integration

SMS_HOOK = "/webhooks/twilio_sms/webhook"
RIVERSIDE_NUMBER = "+15550100100"
WRONG_DATES = ["1/1/1990", "2/2/1991", "4/4/1984", "5/5/1975", "6/6/1966", "7/7/1977", "8/8/1988", "9/9/1999",
               "10/10/1970", "11/11/1971", "12/12/1972", "1/13/1973"]


def _sms(assistant, phone, body):
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC00000000000000000000000000000000",
              "From": phone, "To": RIVERSIDE_NUMBER, "Body": body, "NumMedia": "0"}
    status, twiml = assistant.twilio(SMS_HOOK, params)
    assert status == 200, twiml
    return [twiml.replace("&#x27;", "'").replace("&amp;", "&")]


def _guess_over_four_conversations(assistant, identifier):
    """Twelve wrong dates of birth for one patient: three in each of four
    conversations, two over REST and two by text from other numbers."""
    replies = []
    for n in range(4):
        if n % 2:
            me = assistant.new_sender()
            say = lambda text, me=me: assistant.say(me, text)  # noqa: E731
        else:
            phone = f"+1555018{uuid.uuid4().int % 10000:04d}"
            say = lambda text, phone=phone: _sms(assistant, phone, text)  # noqa: E731
        replies += say("what is my balance")
        for dob in WRONG_DATES[n * 3:n * 3 + 3]:
            replies += say(dob)
            replies += say(identifier)
    return replies


def _verify(assistant, dob, identifier):
    me = assistant.new_sender()
    replies = assistant.say(me, "what is my balance") + assistant.say(me, dob) + assistant.say(me, identifier)
    return me, joined(replies)


def _still_locked(assistant, patient_id):
    with db.session_scope(assistant.database) as session:
        return identity.patient_lock(session, patient_id) is not None


@pytest.fixture
def unlock_after(assistant):
    """Leave no demo patient locked for the tests that follow, even if one fails."""
    patients = []
    yield patients.append
    with db.session_scope(assistant.database) as session:
        for patient_id in patients:
            if identity.patient_lock(session, patient_id) is not None:
                identity.unlock(session, patient_id, actor="test-cleanup", note="test cleanup")


def test_twelve_guesses_over_four_senders_do_not_verify_and_lock_the_patient_until_a_partner_unlocks(assistant, unlock_after):
    unlock_after("p-maria-garcia")
    guesses = joined(_guess_over_four_conversations(assistant, "40012345"))
    assert "412.50" not in guesses and "You're verified" not in guesses
    assert _still_locked(assistant, "p-maria-garcia")

    # the right answer, from a fifth sender: refused, told of the lock and what to do, offered a person
    fifth, reply = _verify(assistant, "march 3 1985", "40012345")
    assert "too many attempts" in reply and "(555) 010-0100" in reply and "partner" in reply
    assert "412.50" not in reply and "Maria" not in reply and "You're verified" not in reply
    # by name, too
    _, by_name = _verify(assistant, "march 3 1985", "Maria Garcia")
    assert "412.50" not in by_name and "You're verified" not in by_name

    # a partner who has verified the caller lifts the lock in the desk
    token = login(assistant, "alex", "alex-demo-pass")
    status, handoffs, _ = call(assistant, "GET", "/api/handoffs?status=waiting", token=token)
    assert status == 200
    locked = [h for h in handoffs["handoffs"] if h["conversation_id"] == fifth]
    assert locked and locked[0]["reason"] == "verification_locked" and not locked[0]["verified"]
    status, account, _ = call(assistant, "GET", "/api/accounts/40012345", token=token)
    assert status == 200 and account["identity_lock"]["failures"] >= 9
    # a note is required: who lifted it and why is audited
    status, body, _ = call(assistant, "POST", "/api/accounts/40012345/identity-unlock", {"note": " "}, token=token)
    assert status == 400 and "verified the caller" in body["error"]
    assert call(assistant, "POST", "/api/accounts/40012345/identity-unlock", {}, token=None)[0] == 401
    note = "called back on the number on file; date of birth and address confirmed"
    status, body, _ = call(assistant, "POST", "/api/accounts/40012345/identity-unlock", {"note": note}, token=token)
    assert status == 200 and (body["status"], body["unlocked_by"], body["note"]) == ("unlocked", "alex", note)
    assert call(assistant, "GET", "/api/accounts/40012345", token=token)[1]["identity_lock"] is None
    assert call(assistant, "POST", "/api/accounts/40012345/identity-unlock", {"note": note}, token=token)[0] == 409

    supervisor = login(assistant, "sam", "sam-demo-pass")
    entries = call(assistant, "GET", "/api/audit", token=supervisor)[1]["entries"]
    unlocks = [e for e in entries if e["action"] == "identity.unlock" and e["target"] == "patient:p-maria-garcia"]
    assert unlocks and unlocks[0]["actor"] == "alex" and unlocks[0]["after"]["note"] == note and unlocks[0]["at"]

    # and then the right answer verifies
    _, reply = _verify(assistant, "march 3 1985", "4001 2345")
    assert "Your balance on account 40012345" in reply  # what other tests paid on it may have changed the amount


def test_a_partner_unlocks_by_patient_or_with_the_button_on_the_handoff(assistant, unlock_after):
    unlock_after("p-james-carter")
    _guess_over_four_conversations(assistant, "James Carter")
    caller, reply = _verify(assistant, "november 21 1979", "40023456")
    assert "too many attempts" in reply and "You're verified" not in reply

    token = login(assistant, "alex", "alex-demo-pass")
    assert call(assistant, "POST", "/api/patients/p-nobody/identity-unlock", {"note": "x"}, token=token)[0] == 404
    assert call(assistant, "POST", "/api/patients/p-james-carter/identity-unlock", {}, token=token)[0] == 400

    # the button on the locked conversation's handoff page, with the session's CSRF token
    status, body, _ = call(assistant, "POST", "/api/login", {"username": "alex", "password": "alex-demo-pass"})
    cookie = {"Cookie": f"desk_session={body['token']}"}
    handoff = next(h for h in call(assistant, "GET", "/api/handoffs?status=waiting", token=token)[1]["handoffs"]
                   if h["conversation_id"] == caller)
    status, page, _ = call(assistant, "GET", f"/desk/handoffs/{handoff['id']}", headers=cookie)
    assert status == 200 and 'action="/desk/identity-unlock"' in page
    form = {"csrf_token": body["csrf_token"], "account_number": "40023456", "back": f"/desk/handoffs/{handoff['id']}",
            "note": "verified on the phone: date of birth and address"}
    assert call(assistant, "POST", "/desk/identity-unlock", headers=cookie, form={**form, "csrf_token": "forged"})[0] == 403
    status, _, headers = call(assistant, "POST", "/desk/identity-unlock", headers=cookie, form=form)
    assert status in (302, 303) and "unlocked" in headers["Location"]
    assert not _still_locked(assistant, "p-james-carter")
    # nothing left to unlock, by patient
    assert call(assistant, "POST", "/api/patients/p-james-carter/identity-unlock", {"note": "again"}, token=token)[0] == 409

    _, reply = _verify(assistant, "november 21 1979", "James Carter")
    assert "You're verified" in reply
