"""Card numbers are replaced before text goes anywhere, however they are
written; the numbers a patient legitimately sends stay as they are."""
from __future__ import annotations

import pytest

from billing.redaction import (
    holds_card_digits, holds_redacted_card, mask_fragment, mask_fragments_in, redact_card_numbers, redact_message,
)


@pytest.mark.parametrize("text, expected", [
    ("my card is 4242424242424242", "my card is [card ending 4242]"),
    ("4242 4242 4242 4242 exp 12/30", "[card ending 4242] exp 12/30"),
    ("5555-5555-5555-4444", "[card ending 4444]"),
    ("amex 3782 822463 10005 please", "amex [card ending 0005] please"),
    ("card 4000000000000002, and 4000000000009995", "card [card ending 0002], and [card ending 9995]"),
    ("account 40012345 dob 03 03 1985", "account 40012345 dob 03 03 1985"),
    ("pay $100 on 12/15", "pay $100 on 12/15"),
    ("4242424242424241", "4242424242424241"),          # fails the Luhn check
    ("phone 555 010 1001", "phone 555 010 1001"),
    ("", ""),
])
def test_card_numbers_are_replaced_and_nothing_else(text, expected):
    assert redact_card_numbers(text)[0] == expected


def test_the_count_and_the_marker_say_a_card_was_taken_out():
    text, count = redact_card_numbers("use 4242424242424242 and 5555555555554444")
    assert count == 2 and holds_redacted_card(text)
    assert "4242424242424242" not in text and "5555555555554444" not in text


# --- every way of writing one ------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("card 4242.4242.4242.4242 thanks", "card [card ending 4242] thanks"),
    ("4242/4242/4242/4242", "[card ending 4242]"),
    ("4242\\4242\\4242\\4242", "[card ending 4242]"),
    ("4242  4242   4242    4242", "[card ending 4242]"),
    ("my card\n4242\n4242\n4242\n4242\nok?", "my card\n[card ending 4242]\nok?"),
    ("4242\r\n4242\r\n4242\r\n4242", "[card ending 4242]"),
    ("4242\t4242\t4242\t4242", "[card ending 4242]"),
    ("4242\u00a04242\u00a04242\u00a04242", "[card ending 4242]"),          # non-breaking space
    ("4242\u202f4242\u20094242\u30004242", "[card ending 4242]"),          # narrow, thin, ideographic spaces
    ("4242\u200b4242\u200b4242\u200b4242", "[card ending 4242]"),          # zero-width space
    ("4242\u20134242\u20144242\u22124242", "[card ending 4242]"),          # en dash, em dash, minus sign
    ("4242\u20104242\u20114242\ufe634242", "[card ending 4242]"),          # hyphen, non-breaking hyphen, small hyphen-minus
    ("4242 - 4242 - 4242 - 4242", "[card ending 4242]"),
    ("4242 . 4242 / 4242 , 4242", "[card ending 4242]"),
    ("\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12\uff14\uff12", "[card ending 4242]"),  # fullwidth
    ("card:4242424242424242.", "card:[card ending 4242]."),
    ("(4242-4242-4242-4242)", "([card ending 4242])"),
    ("5555 5555 5555 4444 and 4000 0000 0000 0002", "[card ending 4444] and [card ending 0002]"),
])
def test_any_separators_between_the_digits(text, expected):
    assert redact_card_numbers(text)[0] == expected


@pytest.mark.parametrize("text, expected", [
    ("four two four two four two four two four two four two four two four two", "[card ending 4242]"),
    ("my card is Four Two Four Two four two four two four two four two four two four two please",
     "my card is [card ending 4242] please"),
    ("four-two-four-two-four-two-four-two-four-two-four-two-four-two-four-two", "[card ending 4242]"),
    ("four oh oh oh oh oh oh oh oh oh oh oh oh oh oh two", "[card ending 0002]"),
    ("four zero zero zero zero zero zero zero zero zero zero zero zero zero zero two", "[card ending 0002]"),
    ("4242 four two four two 4242 4242", "[card ending 4242]"),                 # words and digits mixed
    ("4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "[card ending 4242]"),
    ("forty two forty two forty two forty two forty two forty two forty two forty two", "[card ending 4242]"),
    ("fifty five fifty five fifty five fifty five fifty five fifty five forty four forty four", "[card ending 4444]"),
    ("double five double five double five double five double five double five double four double four",
     "[card ending 4444]"),
    ("cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos cuatro dos", "[card ending 4242]"),
    ("cuarenta y dos cuarenta y dos cuarenta y dos cuarenta y dos cuarenta y dos cuarenta y dos cuarenta y dos "
     "cuarenta y dos", "[card ending 4242]"),
    ("mi tarjeta es cinco cinco cinco cinco, cinco cinco cinco cinco, cinco cinco cinco cinco, cuatro cuatro cuatro cuatro",
     "mi tarjeta es [card ending 4444]"),
    ("Oh, 4242 4242 4242 4242", "Oh, [card ending 4242]"),
])
def test_digits_spoken_as_words(text, expected):
    assert redact_card_numbers(text)[0] == expected


@pytest.mark.parametrize("text", [
    "my account is 40012345",
    "40012345",
    "4001 2345",
    "40012345 03031985",                      # account and date of birth in one message
    "40023456 11/21/1979",
    "40023456, 11-21-1979",
    "40023456 1979.11.21",
    "03031985",
    "3/3/1985",
    "03.03.1985",
    "call me at 555 010 1001",
    "+1 (555) 010-1001",
    "+1.555.010.1001",
    "5550101001 40012345",
    "zip 30303-1234",
    "30303 40012345",
    "member id UHC3301982 group 40012345",
    "pay $1,234.56 on 12/15/2026",
    "1,234,567,890,123.45",
    "I want to pay for two months, one hundred dollars",
    "my account number is four zero zero one two three four five",
    "oh ok, 6 months then",
    "card ending 4242",
    "[card ending 4242]",
])
def test_numbers_that_are_not_cards_stay(text):
    assert redact_card_numbers(text) == (text, 0)


# --- a number split over messages ----------------------------------------------

def _conversation(*messages):
    """What each message becomes, carrying the trailing digits as a connector does."""
    carried, out, earlier = (), [], []
    for number, message in enumerate(messages, 1):
        result = redact_message(message, carried, origin=number)
        out.append(result.text)
        earlier.extend(result.earlier)
        carried = result.trailing
    return out, earlier


@pytest.mark.parametrize("messages, texts, earlier", [
    (("4242 4242", "4242 4242"), ["4242 4242", "[card ending 4242]"], ["42424242"]),
    (("my card is 4242 4242 4242", "4242 thanks"), ["my card is 4242 4242 4242", "[card ending 4242] thanks"],
     ["424242424242"]),
    (("424242424242", "4242"), ["424242424242", "[card ending 4242]"], ["424242424242"]),
    (("4242 4242", "4242", "4242"), ["4242 4242", "4242", "[card ending 4242]"], ["42424242", "4242"]),
    (("5555-5555-", "5555-4444"), ["5555-5555-", "[card ending 4444]"], ["55555555"]),
    (("four two four two four two four two", "four two four two four two four two"),
     ["four two four two four two four two", "[card ending 4242]"], ["42424242"]),
    (("3782 822463", "10005"), ["3782 822463", "[card ending 0005]"], ["3782822463"]),
])
def test_a_card_split_over_messages_is_caught_and_the_earlier_parts_are_named(messages, texts, earlier):
    assert _conversation(*messages) == (texts, earlier)


@pytest.mark.parametrize("messages", [
    ("40012345", "03031985"),                 # account, then date of birth
    ("40023456", "11211979"),                 # Luhn-valid together
    ("40023456", "11/21/1979"),
    ("3/3/1985", "40012345"),
    ("40034567", "40067890"),                 # two accounts of one household, Luhn-valid together
    ("40012345", "5550100200"),               # an account, then a phone number (Luhn-valid together)
    ("5550101003", "40067890"),
    ("30308", "40067890"),                    # a ZIP code, then an account
    ("4242 4242", "thanks, 4242 4242"),       # the later message does not start with the digits
    ("4242 4242 is it", "4242 4242"),         # the earlier one does not end with them
    ("4 0 0 2 3 4 5 6", "1 1 2 1 1 9 7 9"),   # an account read digit by digit, then the date of birth
    ("four zero zero two three four five six", "one one two one one nine seven nine"),
])
def test_numbers_sent_one_after_another_are_not_joined(messages):
    texts, earlier = _conversation(*messages)
    assert texts == list(messages) and earlier == []


def test_the_trailing_digits_carried_are_at_most_eighteen():
    result = redact_message("1234 5678 1234 5678 1234")
    assert sum(len(g.digits) for g in result.trailing) <= 18
    assert redact_message("thanks").trailing == ()
    assert redact_message("[card ending 4242]").trailing == ()


# --- masking what was stored ------------------------------------------------

def test_an_earlier_fragment_is_masked_wherever_it_was_stored():
    assert mask_fragment("4242 4242", "42424242", "4242") == "[part of card ending 4242]"
    assert mask_fragment("my card is 4242.4242 ok", "42424242", "4242") == "my card is [part of card ending 4242] ok"
    assert mask_fragment("account 40012345", "42424242", "4242") == "account 40012345"
    # an earlier marker is left alone
    assert mask_fragment("[card ending 4242] 4242", "4242", "1111") == "[card ending 4242] [part of card ending 1111]"
    event = {"event": "user", "text": "4242 4242", "parse_data": {"text": "4242 4242", "entities": [
        {"entity": "account_number", "value": "42424242", "start": 0, "end": 9}]}}
    masked = mask_fragments_in(event, ["42424242"], "4242")
    assert masked["text"] == masked["parse_data"]["text"] == "[part of card ending 4242]"
    assert masked["parse_data"]["entities"][0]["value"] == "[part of card ending 4242]"
    assert masked["parse_data"]["entities"][0]["start"] == 0
    assert mask_fragments_in({"event": "slot", "value": 42424242}, ["42424242"], "4242")["value"] == "[part of card ending 4242]"


def test_holds_card_digits_finds_any_form():
    assert holds_card_digits("4242.4242.4242.4242")
    assert holds_card_digits("four two four two four two four two four two four two four two four two")
    assert not holds_card_digits("40012345")


def _demo_numbers():
    """What the demo patients answer with: accounts, dates of birth as people
    write them, phone numbers, ZIP codes and member ids."""
    import yaml

    from tests.conftest import DEMO_FILE

    values = []
    for patient in yaml.safe_load(DEMO_FILE.read_text())["patients"]:
        y, m, d = patient["date_of_birth"].split("-")
        values += [m + d + y, f"{int(m)}/{int(d)}/{y}", f"{m}-{d}-{y}", f"{m}.{d}.{y}", f"{m}/{d}/{y[2:]}"]
        phone = patient.get("phone") or ""
        if phone:
            values += [phone, phone[2:], f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"]
        values += [str((patient.get("address") or {}).get("zip") or "")]
        values += [a["account_number"] for a in patient.get("accounts") or []]
        values += [i.get("member_id", "") for i in patient.get("insurance") or []]
    return [v for v in values if v]


def test_no_demo_answer_is_taken_for_a_card_alone_together_or_one_after_another():
    values = _demo_numbers()
    assert len(values) > 50
    for a in values:
        first = redact_message(a, origin=1)
        assert first.count == 0, a
        for b in values:
            assert redact_card_numbers(f"{a} {b}")[1] == 0, (a, b)
            second = redact_message(b, first.trailing, origin=2)
            assert (second.count, second.earlier) == (0, ()), (a, b)


def test_lines_read_back_are_joined_and_the_earlier_part_masked():
    from billing.redaction import redact_lines

    assert redact_lines([("4242 4242", 100.0), ("4242 4242", 110.0), ("thanks", 111.0)]) == [
        "[part of card ending 4242]", "[card ending 4242]", "thanks"]
    assert redact_lines([("4242 4242", 100.0), ("4242", 101.0), ("4242", 102.0)]) == [
        "[part of card ending 4242]", "[part of card ending 4242]", "[card ending 4242]"]
    # too far apart: two answers, not one number
    assert redact_lines([("4242 4242", 100.0), ("4242 4242", 400.0)]) == ["4242 4242", "4242 4242"]
    assert redact_lines([("40012345", 1.0), ("03031985", 2.0)]) == ["40012345", "03031985"]


# --- the connectors' buffer ---------------------------------------------------

def test_the_connector_carries_a_conversations_trailing_digits_for_a_short_while(monkeypatch):
    from connectors import text

    now = [1000.0]
    tails = text._Tails(ttl=120, clock=lambda: now[0])
    monkeypatch.setattr(text, "_tails", tails)
    assert text.card_safe("c1", "4242 4242").text == "4242 4242"
    assert text.card_safe("c2", "4242 4242").text == "4242 4242"        # another conversation: its own buffer
    result = text.card_safe("c1", "4242 4242")
    assert result.text == "[card ending 4242]" and result.earlier == ("42424242",) and result.last4 == "4242"
    now[0] += 121
    assert text.card_safe("c2", "4242 4242").text == "4242 4242"        # the earlier part expired
    assert text.patient_text("/4242 4242 4242 4242") == "[card ending 4242]"


def test_the_connector_keeps_no_whole_card_and_a_bounded_number_of_conversations():
    from connectors.text import _Tails

    tails = _Tails(limit=3)
    for n in range(10):
        tails.keep(f"c{n}", redact_message("4242 4242 4242").trailing)
    assert len(tails._items) == 3
    assert tails.take("c0")[0] == () and tails.take("c9")[0] != ()


def test_stored_events_are_masked_from_the_turn_that_held_the_earlier_part():
    from connectors.text import masked_events

    events = [
        {"event": "user", "text": "my old card 4242 4242", "parse_data": {"text": "my old card 4242 4242"}},
        {"event": "bot", "text": "ok"},
        {"event": "user", "text": "4242 4242", "parse_data": {"text": "4242 4242", "entities": [
            {"entity": "account_number", "value": "42424242"}]}},
        {"event": "slot", "name": "account_number", "value": "42424242"},
        {"event": "bot", "text": "I could not find account 42424242."},
    ]
    masked, changed = masked_events(events, ["42424242"], "4242")
    assert changed == 3
    assert masked[0] == events[0]                                       # older turns are left as they were
    assert masked[2]["text"] == "[part of card ending 4242]"
    assert masked[2]["parse_data"]["entities"][0]["value"] == "[part of card ending 4242]"
    assert masked[3]["value"] == "[part of card ending 4242]"
    assert masked[4]["text"] == "I could not find account [part of card ending 4242]."
    assert masked_events(events, ["55555555"], "4444") == (events, 0)


def test_an_in_memory_tracker_is_rewritten_too():
    import asyncio

    from rasa.core.lock_store import InMemoryLockStore
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from connectors.text import forget_earlier_parts

    class Agent:
        tracker_store = InMemoryTrackerStore(Domain.empty())
        lock_store = InMemoryLockStore()

    async def run():
        tracker = DialogueStateTracker.from_events("c1", [UserUttered("4242 4242", {"name": "inform"})])
        await Agent.tracker_store.save(tracker)
        assert await forget_earlier_parts(Agent, "c1", ["42424242"], "4242") == 1
        stored = await Agent.tracker_store.retrieve_full_tracker("c1")
        return stored.events[-1].text

    assert asyncio.run(run()) == "[part of card ending 4242]"


def test_a_message_delivered_again_is_not_joined_with_itself(monkeypatch):
    from connectors import text

    monkeypatch.setattr(text, "_tails", text._Tails())
    assert text.card_safe("voice:CA1", "4242 4242", key="CA1:3").text == "4242 4242"
    assert text.card_safe("voice:CA1", "4242 4242", key="CA1:3").text == "4242 4242"   # Twilio sent turn 3 again
    assert text.card_safe("voice:CA1", "4242 4242", key="CA1:4").text == "[card ending 4242]"
