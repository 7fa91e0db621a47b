"""The conversation's language: the one place for its rules (DESIGN.md,
Languages).

The ``language`` slot (en or es) selects the Spanish variation of every
response (bot/responses.py); ``language_source`` says what set it:

1. the patient's choice, always: "español", "spanish", "in english please"
   (bot/nlp/language.py finds it in the message), or a channel that asked
   (the voice greeting's "para español, oprima 2", a web chat or REST
   caller's ``metadata.language``);
2. else, once verified, the patient's record (``language: es``), unless
   they chose;
3. else the first message whose language can be told (a Spanish first
   message gets a Spanish answer); a mixed message counts as its
   dominant language.

After a choice, nothing but another choice changes it.  The custom slot
mapping runs ``action_set_language`` after every patient message.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from billing import language

CHOSEN, RECORD, DETECTED = "chosen", "record", "detected"


def _metadata_language(tracker: Tracker) -> Optional[str]:
    said = ((tracker.latest_message or {}).get("metadata") or {}).get("language")
    return said if said in language.SPOKEN else None


def _message_language(tracker: Tracker) -> Dict[str, Any]:
    return (tracker.latest_message or {}).get("language") or {}


def after_message(tracker: Tracker) -> List[EventType]:
    """The slots a patient message sets: a choice always; a detected
    language only while nothing else set it."""
    found = _message_language(tracker)
    choice = found.get("chosen") or _metadata_language(tracker)
    if choice in language.SPOKEN:
        return _set(tracker, choice, CHOSEN)
    if tracker.get_slot("language_source") is not None:
        return []
    detected = found.get("detected")
    if detected in language.SPOKEN:
        return _set(tracker, detected, DETECTED)
    return []


def after_verification(tracker: Tracker, record_language: Optional[str]) -> List[EventType]:
    """The patient's record speaks once they are verified, unless they chose."""
    if tracker.get_slot("language_source") == CHOSEN or record_language not in language.SPOKEN:
        return []
    return _set(tracker, record_language, RECORD)


def not_spoken(tracker: Tracker) -> Optional[str]:
    """The language of the latest message when it is one the assistant
    does not speak (bot/nlp/language.py found it), else None."""
    detected = _message_language(tracker).get("detected")
    return detected if detected and detected not in language.SPOKEN else None


def _set(tracker: Tracker, code: str, source: str) -> List[EventType]:
    events: List[EventType] = []
    if tracker.get_slot("language") != code:
        events.append(SlotSet("language", code))
    if tracker.get_slot("language_source") != source:
        events.append(SlotSet("language_source", source))
    return events


class ActionSetLanguage(Action):
    def name(self) -> Text:
        return "action_set_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        return after_message(tracker)
