"""Rasa component: the language of each patient message, in the parse data.

It runs in the NLU pipeline, not in the connectors, because every channel
(REST, web chat, SMS, voice, the desk's chat) reaches Rasa through it, and
the connectors may not import bot/ (the import rules): one place sees
every message once.  The detector itself is billing.language (no Rasa),
which the SMS connector also uses for its keywords.

It adds ``language`` to the parse data: ``{"detected": <code or None>,
"chosen": <"en", "es" or None>, "mixed": bool}``.  The conversation's
language slot is decided from it by bot/actions/language.py.  A message
clearly in a language the assistant does not speak becomes an NLU
fallback, whatever the classifier guessed, so the fallback action can say
which languages it speaks (bot/actions/handoffs.py).  A message that only
chooses a language ("español por favor") is a greeting, answered in the
language chosen: it holds no request, and a fallback would undo the
choice with the rest of its turn."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from billing import language

LANGUAGE = "language"
NOT_SPOKEN_INTENT = "nlu_fallback"
CHOICE_INTENT = "greet"


def message_language(text: str) -> Dict[str, Any]:
    """What the parse data says about a message's language."""
    return {"detected": language.detect(text), "chosen": language.chosen(text), "mixed": language.is_mixed(text)}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageDetector":
        return cls(config)

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self.config = config or {}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue
            found = message_language(text)
            message.set(LANGUAGE, found, add_to_output=True)
            if found["detected"] not in (None, *language.SPOKEN) and found["chosen"] is None:
                message.set(INTENT, {INTENT_NAME_KEY: NOT_SPOKEN_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
            elif language.only_a_choice(text):
                message.set(INTENT, {INTENT_NAME_KEY: CHOICE_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
        return messages
