"""The request found by its words (bot.nlp.requests), over the classifier's
intent: a plain ask for a person is handed off, a question about what the
assistant is stays a question about the bot."""
from __future__ import annotations

import pytest

from bot.nlp.requests import request_in


@pytest.mark.parametrize("text", [
    "just put me through to an actual human being who can fix my account please",
    "can i talk to a real person",
    "get me a live agent",
    "i need to speak with someone",
    "i dont want a bot i want a human being",
    "is there a real person i can talk to",
    "agent please",
])
def test_a_plain_ask_for_a_person_is_a_handoff(text):
    assert request_in(text, "inform") == "human_handoff"


@pytest.mark.parametrize("text", [
    "is this a real human being",
    "are you a real live person",
    "are you a live person or automated",
    "is this a live agent",
    "is a live agent reading this",
    "is there a human on the other end",
    "are you an actual person",
    "wait is this a real person",
    "real person or bot",
    "is this a human being or a computer",
    "who is this a person or a bot",
    "am i talking to a live person",
    "am i talking to a real person",
    "am i speaking to a person or a computer",
    "are you a person",
])
def test_a_question_about_what_the_assistant_is_is_not_a_handoff(text):
    assert request_in(text, "bot_challenge") is None


def test_hardship_is_assistance_first_but_a_plan_change_stays_a_plan_change():
    assert request_in("i lost my job and i cant afford this bill", "make_payment") == "financial_assistance"
    assert request_in("im on a plan but my hours got cut and i need the monthly amount lower", "change_payment_plan") is None
