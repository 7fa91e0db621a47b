"""Rasa component that runs the shipped spaCy rules as an entity extractor."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from billing.redaction import holds_redacted_card
from bot.nlp.pipeline import build, extract
from bot.nlp.requests import request_in

# a card number the channel took out of the text means the patient wants to pay
CARD_INTENT = "make_payment"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class SelfPayEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Dates, dates of birth, amounts, account numbers and the rest, with
    normalised values, from rules that ship with the project.  A message
    holding a redacted card number is a payment request, whatever the
    classifier thought; so is a message whose words plainly ask for
    something else (bot.nlp.requests: a person, hardship, and in a long
    message a dispute or a plan)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SelfPayEntityExtractor":
        return cls(config)

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self._nlp = build()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {"entity": e["entity"], "value": e["value"], "start": e["start"], "end": e["end"], "confidence": 1.0}
                for e in extract(text, self._nlp)
            ]
            taken = {(e["start"], e["end"]) for e in found}
            # rules win over a learned entity on the same characters
            others = [e for e in message.get(ENTITIES, []) if (e.get("start"), e.get("end")) not in taken]
            message.set(ENTITIES, others + self.add_extractor_name(found), add_to_output=True)
            if holds_redacted_card(text):
                message.set(INTENT, {INTENT_NAME_KEY: CARD_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
                continue
            classified = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            plainly = request_in(text, classified)
            if plainly is not None:
                message.set(INTENT, {INTENT_NAME_KEY: plainly, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
        return messages
