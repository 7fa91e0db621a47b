"""Coverage and EOB questions over the REST channel, after verification."""
from __future__ import annotations

import pytest

from tests.integration.helpers import joined

pytestmark = pytest.mark.integration


def test_maria_hears_her_deductible_and_coinsurance(assistant):
    me = assistant.new_sender()
    first = joined(assistant.say(me, "why didn't my insurance pay the whole bill"))
    assert "confirm who you are" in first and "300.00" not in first
    assistant.say(me, "march 3 1985")
    reply = joined(assistant.say(me, "40012345"))
    assert "Blue Cross Blue Shield allowed $1,050.00 of the $1,900.00 billed and paid $637.50" in reply
    assert "You owe your $300.00 deductible and $112.50 coinsurance" in reply
    assert "$850.00 was written off" in reply


def test_emily_hears_why_her_claim_was_denied_and_what_she_can_do(assistant):
    me = assistant.new_sender()
    assistant.say(me, "what does my eob mean", client="lakeside")
    assistant.say(me, "february 14 1990", client="lakeside")
    reply = joined(assistant.say(me, "Emily Chen", client="lakeside"))
    assert "Humana did not pay this claim" in reply and "$980.00" in reply
    assert "after your coverage ended" in reply and "other insurance on that date" in reply


def test_a_code_asked_about_is_explained_and_an_unknown_one_is_not_invented(assistant):
    me = assistant.new_sender()
    assistant.say(me, "what does co-45 mean on my eob")
    assistant.say(me, "march 3 1985")
    assert "CO-45 means the charge is above the rate" in joined(assistant.say(me, "40012345"))
    me = assistant.new_sender()
    # Carlos's record says Spanish; he chose English (metadata.language), which the record does not overrule
    assistant.say(me, "what does co-299 mean on my eob", client="lakeside", metadata={"language": "en"})
    assistant.say(me, "september 18 1975", client="lakeside")
    reply = joined(assistant.say(me, "40089012", client="lakeside"))
    assert "CO-299 isn't a code I can explain" in reply and "allowed" in reply
