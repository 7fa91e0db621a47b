"""Whole conversations over the REST channel with the real Rasa server,
action server, SQL tracker store and billing database."""
from __future__ import annotations

import sqlite3
import time

import pytest

from tests.integration.helpers import joined

pytestmark = pytest.mark.integration


def _age_conversation(assistant, sender, seconds):
    """Move a stored conversation back in time, as if the patient had been idle."""
    with sqlite3.connect(assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]) as conn:
        conn.execute(
            "UPDATE events SET timestamp = timestamp - ?, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - ?) WHERE sender_id = ?",
            (seconds, seconds, sender),
        )


def test_maria_hears_her_balance_only_after_verifying(assistant):
    me = assistant.new_sender()
    first = joined(assistant.say(me, "hi whats my balance"))
    assert "412.50" not in first and "date of birth" in first
    assert "412.50" not in joined(assistant.say(me, "march 3 1985"))
    reply = joined(assistant.say(me, "4001 2345"))
    assert "$412.50" in reply and "December 10, 2026" in reply


def test_verification_by_full_name_in_one_message(assistant):
    me = assistant.new_sender()
    assistant.say(me, "how much do i owe")
    reply = joined(assistant.say(me, "my name is Linda Nguyen and i was born july 22 1966"))
    assert "$700.00" in reply and "payment plan of $100.00 a month" in reply and "1 missed payment" in reply


def test_three_wrong_dates_of_birth_never_disclose_lock_and_hand_off(assistant):
    me = assistant.new_sender()
    replies = assistant.say(me, "what is my balance")
    for dob in ("1/1/1990", "2/2/1991", "4/4/1984"):
        replies += assistant.say(me, dob)
        replies += assistant.say(me, "40012345")
    # the lock is explained and a partner takes over (who can verify another way)
    assert "couldn't verify your identity" in replies[-2] and "connecting you with a partner" in replies[-1]
    # the bot is paused for the partner: nothing more comes from it, and nothing is disclosed
    again = assistant.say(me, "whats my balance")
    late = assistant.say(me, "march 3 1985")
    assert again == [] and late == []
    text = joined(replies + again + late)
    assert "412.50" not in text and "December 10" not in text and "Maria" not in text


def test_a_lockout_is_not_undone_by_waiting_for_a_new_session(assistant):
    me = assistant.new_sender()
    assistant.say(me, "what is my balance")
    for dob in ("1/1/1990", "2/2/1991", "4/4/1984"):
        assistant.say(me, dob)
        assistant.say(me, "40012345")
    _age_conversation(assistant, me, 31 * 60)
    reply = joined(assistant.say(me, "what is my balance"))
    assert "couldn't verify your identity" in reply and "date of birth" not in reply


def test_a_credit_balance_is_said_as_a_credit(assistant):
    me = assistant.new_sender()
    assistant.say(me, "balance please")
    assistant.say(me, "5/30/92")
    reply = joined(assistant.say(me, "Aisha Khan"))
    assert "credit of $85.00" in reply and "-$85" not in reply


def test_the_client_comes_from_the_channel_and_limits_the_search(assistant):
    me = assistant.new_sender()
    assert "Lakeside Medical Center" in joined(assistant.say(me, "hello", client="lakeside"))
    assistant.say(me, "check my balance", client="lakeside")
    assistant.say(me, "march 3 1985", client="lakeside")
    reply = joined(assistant.say(me, "40012345", client="lakeside"))   # Maria's account is riverside's
    assert "doesn't match" in reply and "412.50" not in reply


def test_verification_does_not_outlive_the_session(assistant):
    me = assistant.new_sender()
    assistant.say(me, "whats my balance")
    assistant.say(me, "03031985")
    assert "$412.50" in joined(assistant.say(me, "40012345"))
    _age_conversation(assistant, me, 31 * 60)
    reply = joined(assistant.say(me, "what is my balance"))
    assert "412.50" not in reply and "date of birth" in reply


def test_every_turn_is_in_the_sql_tracker_store(assistant):
    me = assistant.new_sender()
    assistant.say(me, "hello")
    assistant.say(me, "are you a bot")
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    for _ in range(20):
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT type_name, data FROM events WHERE sender_id = ?", (me,)).fetchall()
        if sum(1 for t, _ in rows if t == "bot") >= 2:
            break
        time.sleep(0.2)
    kinds = [t for t, _ in rows]
    assert kinds.count("user") == 2 and kinds.count("bot") >= 2
    assert any("automated assistant" in data for t, data in rows if t == "bot")


@pytest.mark.parametrize("text", ["", " ", "🙂🙂🙂", "¿Cuánto debo?", "hello " * 850, "blorp fnord zzz"])
def test_odd_messages_get_a_polite_reply(assistant, text):
    replies = assistant.say(assistant.new_sender(), text)
    assert replies and all(r.strip() for r in replies)
    assert "412.50" not in joined(replies)


def test_an_unknown_account_is_a_polite_no_match(assistant):
    me = assistant.new_sender()
    assistant.say(me, "balance")
    assistant.say(me, "march 3 1985")
    reply = joined(assistant.say(me, "99999999"))
    assert "doesn't match our records" in reply and "2 more tries" in reply


def test_small_talk_and_routing(assistant):
    me = assistant.new_sender()
    assert "automated assistant" in joined(assistant.say(me, "am i talking to a real person"))
    assert "(555) 010-0111" in joined(assistant.say(me, "i need my medical records"))
    credit = joined(assistant.say(me, "will this go on my credit report"))
    assert "(555) 010-0100" in credit and "will be reported" not in credit
    # a statement holds account detail: it waits for verification
    later = joined(assistant.say(me, "i need an itemized bill"))
    assert "date of birth" in later and "statements/" not in later
    assert "unsubscribed" in joined(assistant.say(me, "stop texting me"))


def test_a_question_while_verifying_costs_no_attempt_and_is_answered_once_verified(assistant):
    me = assistant.new_sender()
    assistant.say(me, "i need an itemized bill")
    assistant.say(me, "march 3 1985")
    asked = joined(assistant.say(me, "can i set up a payment plan"))
    assert "First I need to confirm who you are" in asked and "doesn't match" not in asked
    answered = joined(assistant.say(me, "40012345"))
    assert "You're verified" in answered and "interest-free plans" in answered
