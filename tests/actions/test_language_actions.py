"""The conversation's language (bot/actions/language.py): a Spanish first
message, the patient's choice, and the record once verified; against the
real billing core and the real detector (bot/nlp/language.py)."""
from __future__ import annotations

from bot.actions.identity import ValidateVerificationForm
from bot.actions.language import ActionSetLanguage
from bot.nlp.language import message_language
from tests.actions.helpers import run, slot_events, tracker


def said_by(text, slots=None, metadata=None):
    """A tracker whose latest message went through the NLU's language detector
    (the language slot starts as English, as the domain says)."""
    trk = tracker(slots={"language": "en", **(slots or {})}, text=text, metadata=metadata, fresh=[])
    trk.latest_message["language"] = message_language(text)
    return trk


def set_language(text, slots=None, metadata=None):
    return slot_events(run(ActionSetLanguage(), said_by(text, slots, metadata))[1])


def test_a_spanish_first_message_makes_the_conversation_spanish():
    assert set_language("hola, cuanto debo") == {"language": "es", "language_source": "detected"}
    assert set_language("hi, what's my balance") == {"language_source": "detected"}  # English already


def test_later_messages_do_not_move_a_detected_language():
    assert set_language("what's my balance", {"language": "es", "language_source": "detected"}) == {}
    assert set_language("40089012", {"language": "en"}) == {}  # says too little: still nothing set


def test_a_mixed_first_message_is_its_dominant_language():
    assert set_language("hi, quiero saber cuanto debo en mi cuenta")["language"] == "es"


def test_the_patients_choice_always_wins_and_then_stays():
    assert set_language("in english please", {"language": "es", "language_source": "record"}) == \
        {"language": "en", "language_source": "chosen"}
    assert set_language("español", {"language": "en", "language_source": "chosen"}) == {"language": "es"}
    assert set_language("cuanto debo", {"language": "en", "language_source": "chosen"}) == {}


def test_a_channel_that_asked_counts_as_the_choice():
    assert set_language("2", metadata={"language": "es"}) == {"language": "es", "language_source": "chosen"}
    assert set_language("hola", metadata={"language": "xx"}) == {"language": "es", "language_source": "detected"}


VERIFY_CARLOS = {"client_id": "lakeside", "date_of_birth": "september 18 1975", "account_identifier": "40089012",
                 "requested_slot": "account_identifier"}


def test_carlos_record_makes_the_conversation_spanish_from_the_verified_message_on(seeded_sqlite):
    messages, events = run(ValidateVerificationForm(), tracker(slots=VERIFY_CARLOS, fresh=["date_of_birth", "account_identifier"]))
    slots = slot_events(events)
    assert slots["identity"] == "verified" and slots["language"] == "es" and slots["language_source"] == "record"
    assert messages[0]["response"] == "utter_verified" and messages[0]["language"] == "es"


def test_the_record_does_not_overrule_a_choice(seeded_sqlite):
    chosen = {**VERIFY_CARLOS, "language": "en", "language_source": "chosen"}
    messages, events = run(ValidateVerificationForm(), tracker(slots=chosen, fresh=["date_of_birth", "account_identifier"]))
    slots = slot_events(events)
    assert slots["identity"] == "verified" and "language" not in slots
    assert "language" not in messages[0]


def test_maria_stays_english(seeded_sqlite):
    maria = {"date_of_birth": "march 3 1985", "account_identifier": "4001 2345", "requested_slot": "account_identifier"}
    _, events = run(ValidateVerificationForm(), tracker(slots=maria, fresh=["date_of_birth", "account_identifier"]))
    slots = slot_events(events)
    assert slots["identity"] == "verified" and slots.get("language", "en") == "en"


def test_a_language_we_do_not_speak_gets_both_languages_and_a_way_to_a_person(seeded_sqlite):
    from bot.actions.handoffs import ActionFallback

    trk = said_by("Bonjour, combien je dois pour ma facture ?")
    trk.latest_message["intent"] = {"name": "nlu_fallback", "confidence": 1.0}
    messages, events = run(ActionFallback(), trk)
    assert [m["response"] for m in messages] == ["utter_language_not_spoken"] and events == []
    assert messages[0]["client_phone"]  # the number to call is in the answer


def test_a_french_message_is_an_nlu_fallback_whatever_the_classifier_guessed():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlp.language import LanguageDetector

    message = Message(data={"text": "je voudrais parler avec quelqu'un s'il vous plaît",
                            "intent": {"name": "human_handoff", "confidence": 0.8}})
    LanguageDetector().process([message])
    assert message.get("intent")["name"] == "nlu_fallback" and message.get("language")["detected"] == "fr"
    spanish = Message(data={"text": "quiero pagar", "intent": {"name": "make_payment", "confidence": 0.6}})
    LanguageDetector().process([spanish])
    assert spanish.get("intent")["name"] == "make_payment" and spanish.get("language")["detected"] == "es"
