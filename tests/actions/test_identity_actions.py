"""Verification failures count per patient, across conversations and
channels (DESIGN.md, Identity; issue 12 item 4): the form and the action
after it, with fake trackers against the real billing core."""
from __future__ import annotations

from billing import db, handoffs, identity
from bot.actions.identity import ActionAfterVerification, ValidateVerificationForm
from tests.actions.test_balance_actions import run, said, slot_events, tracker

WRONG = ["1/1/1990", "2/2/1991", "4/4/1984", "5/5/1975", "6/6/1966", "7/7/1977", "8/8/1988", "9/9/1999",
         "10/10/1970", "11/11/1971", "12/12/1972", "1/13/1973"]


def answer(sender, dob, identifier="40012345", attempts=0, channel="rest"):
    trk = tracker(slots={"date_of_birth": dob, "account_identifier": identifier, "verify_attempts": attempts,
                         "requested_slot": "account_identifier"}, sender=sender, channel=channel,
                  fresh=["date_of_birth", "account_identifier"])
    messages, events = run(ValidateVerificationForm(), trk)
    return messages, slot_events(events)


def guess_over_four_conversations():
    """Twelve wrong dates of birth for Maria's account, three in each of
    four conversations on two channels."""
    outcomes = []
    for n in range(4):
        sender, channel = (f"attacker-{n}", "rest") if n % 2 else (f"sms:riverside:+1555000000{n}", "twilio_sms")
        for k in range(3):
            messages, slots = answer(sender, WRONG[n * 3 + k], attempts=k, channel=channel)
            outcomes.append((said(messages), slots.get("identity"), slots.get("verification_lock")))
    return outcomes


def test_twelve_guesses_over_four_conversations_do_not_verify_and_lock_the_patient(seeded_sqlite):
    outcomes = guess_over_four_conversations()
    # each conversation stops after the client's three attempts, as before ...
    assert outcomes[2] == ([], "locked", None) and outcomes[5] == ([], "locked", None)
    assert outcomes[0] == (["utter_verification_no_match"], None, None)
    # ... and the ninth failure against Maria locks her, whatever the conversation
    assert outcomes[8] == ([], "locked", "patient")
    assert all(o == ([], "locked", "patient") for o in outcomes[8:])
    # the right answer from a fifth conversation does not verify
    messages, slots = answer("fifth", "march 3 1985")
    assert slots["identity"] == "locked" and slots["verification_lock"] == "patient"
    assert "patient_id" not in slots and "utter_verified" not in said(messages)
    # nor by name
    _, slots = answer("sixth", "march 3 1985", identifier="Maria Garcia")
    assert slots["identity"] == "locked" and "patient_id" not in slots


def test_the_patient_lock_is_explained_and_a_partner_offered(seeded_sqlite):
    guess_over_four_conversations()
    _, slots = answer("fifth", "march 3 1985")
    trk = tracker(slots={"identity": "locked", "verification_lock": "patient", "pending_request": "check_balance"}, sender="fifth")
    messages, events = run(ActionAfterVerification(), trk)
    assert said(messages) == ["utter_verification_patient_locked", "utter_handoff_queued"]
    assert messages[0]["client_phone"]  # what to do: call the client, or talk to the partner now
    assert events[-1]["event"] == "pause"
    with db.session_scope() as session:
        handoff = handoffs.open_for(session, "fifth")
        # the partner verifies the caller another way: nothing is taken as verified
        assert (handoff.reason, handoff.verified, handoff.patient_id) == ("verification_locked", False, None)


def test_after_a_partner_unlocks_the_right_answer_verifies(seeded_sqlite):
    guess_over_four_conversations()
    with db.session_scope() as session:
        identity.unlock(session, "p-maria-garcia", actor="alex", note="verified by phone: date of birth and address")
    messages, slots = answer("after-unlock", "march 3 1985")
    assert slots["identity"] == "verified" and slots["patient_id"] == "p-maria-garcia"
    assert said(messages) == ["utter_verified"]


def test_a_failure_that_names_no_patient_only_counts_in_its_conversation(seeded_sqlite):
    # Maria's date of birth, with an account number that is no one's, in many conversations
    for n in range(4):
        for k in range(3):
            _, slots = answer(f"nobody-{n}", "march 3 1985", identifier="49999999", attempts=k)
            assert slots.get("verification_lock") is None
        assert slots["identity"] == "locked"
    _, slots = answer("maria", "march 3 1985")
    assert slots["identity"] == "verified"


def test_the_conversation_lock_keeps_its_own_words(seeded_sqlite):
    trk = tracker(slots={"identity": "locked", "pending_request": "check_balance"}, sender="conv-locked")
    messages, _ = run(ActionAfterVerification(), trk)
    assert said(messages)[0] == "utter_verification_locked"
