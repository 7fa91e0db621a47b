"""Which variation of a response or script is said: the conversation's
language first, then the most specific (billing.scripts.choose), through
Rasa's own generator once bot.responses.install() has run; and
bot.validate's check that every response and script has its Spanish."""
from __future__ import annotations

import asyncio

import pytest

from billing.scripts import choose, script, scripts
from bot import responses, validate

GREET = responses.responses()["utter_greet"]


def test_the_language_comes_first_then_the_most_specific_condition():
    english = choose(GREET, {"client_id": "riverside", "language": "en"})["text"]
    spanish = choose(GREET, {"client_id": "riverside", "language": "es"})["text"]
    lakeside_english = choose(GREET, {"client_id": "lakeside", "language": "en"})["text"]
    lakeside_spanish = choose(GREET, {"client_id": "lakeside", "language": "es"})["text"]
    assert english.startswith("Hi, this is the automated billing assistant")
    assert spanish.startswith("Hola, le atiende el asistente automático")
    assert lakeside_english.startswith("Hello! You've reached")
    assert lakeside_spanish.startswith("¡Hola! Se ha comunicado")


def test_a_language_without_its_own_variation_hears_the_english_and_a_client_english_only_override_yields_to_spanish():
    variations = [{"text": "plain"}, {"text": "lakeside", "condition": [{"type": "slot", "name": "client_id", "value": "lakeside"}]},
                  {"text": "es", "condition": [{"type": "slot", "name": "language", "value": "es"}]}]
    assert choose(variations, {"client_id": "lakeside", "language": "es"})["text"] == "es"
    assert choose(variations, {"client_id": "lakeside", "language": "en"})["text"] == "lakeside"
    assert choose(variations[:2], {"client_id": "riverside", "language": "es"})["text"] == "plain"


def test_other_slot_conditions_keep_their_spanish():
    intro = responses.responses()["utter_verification_intro"]
    assert choose(intro, {"general_answered": True, "language": "es"})["text"].startswith("Si quiere ver")
    assert choose(intro, {"general_answered": None, "language": "es"})["text"].startswith("Con gusto")
    assert choose(intro, {"general_answered": True, "language": "en"})["text"].startswith("If you'd like")


class _Tracker:
    def __init__(self, slots):
        self.slots = slots

    def current_slot_values(self):
        return dict(self.slots)


def _generate(name, slots, **values):
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    responses.install()
    generator = TemplatedNaturalLanguageGenerator(responses.responses())
    return asyncio.run(generator.generate(name, _Tracker(slots), "rest", **values))["text"]


def test_rasa_says_the_lakeside_spanish_to_carlos_every_time():
    slots = {"client_id": "lakeside", "language": "es", "client_name": "Lakeside Medical Center"}
    said = {_generate("utter_greet", slots) for _ in range(20)}
    assert said == {"¡Hola! Se ha comunicado con el asistente automático de facturación de Lakeside Medical Center. "
                    "¿En qué le puedo ayudar hoy con su factura?"}


def test_an_action_may_name_the_language_of_one_message():
    slots = {"client_id": "riverside", "language": "en"}
    assert _generate("utter_verified", slots, patient_first_name="Carlos", language="es") == \
        "Gracias, Carlos. Su identidad está confirmada."
    assert _generate("utter_verified", slots, patient_first_name="Maria") == "Thank you, Maria. You're verified."


def test_scripts_follow_the_same_rule():
    class Client:
        id, name, phone_number = "lakeside", "Lakeside Medical Center", "+15550100200"

    assert script("utter_sms_help", Client(), language="es").startswith("Asistente de facturación de Lakeside Medical Center")
    assert script("utter_sms_help", Client()).startswith("Lakeside Medical Center billing assistant")
    assert script("utter_sms_help", Client(), language="fr").startswith("Lakeside Medical Center billing assistant")


def test_validate_fails_on_a_response_without_its_spanish():
    defined = {
        "utter_ok": [{"text": "ok"}, {"text": "vale", "condition": [{"type": "slot", "name": "language", "value": "es"}]}],
        "utter_hi": [{"text": "hi"}],
        "utter_client": [{"text": "hi"}, {"text": "hola", "condition": [{"type": "slot", "name": "language", "value": "es"}]},
                         {"text": "hello", "condition": [{"type": "slot", "name": "client_id", "value": "lakeside"}]}],
    }
    problems = validate.language_problems(defined, "response")
    assert problems == [
        "The response 'utter_client' has no Spanish variation for client_id=lakeside.",
        "The response 'utter_hi' has no Spanish variation.",
    ]


@pytest.mark.parametrize("kind, defined", [("response", responses.responses()), ("script", scripts())])
def test_every_response_and_script_has_its_spanish(kind, defined):
    assert validate.language_problems(defined, kind) == []
