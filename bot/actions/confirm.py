"""The confirmation step before anything that moves money or changes a
plan.  An action that asks "Shall I go ahead?" stores what it would do
in the ``pending_confirmation`` slot; the patient's yes runs it once,
their no drops it.  A yes counts only as the answer to the question
just asked: if anything else happened in between, nothing is done.

Each kind of pending step registers the function that carries it out
(what a no to it is answered with is its capability's, bot.capabilities);
its idempotency key is the conversation and the question's id, so the
same yes, delivered twice, moves money once.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import capabilities
from bot.actions.common import client_values, conversation_client, is_verified, session_scope

logger = logging.getLogger(__name__)

PENDING = "pending_confirmation"
# kind -> fn(dispatcher, session, client, tracker, pending) -> events
HANDLERS: Dict[str, Callable[..., List[EventType]]] = {}


def register(kind: str):
    def wrap(fn):
        HANDLERS[kind] = fn
        return fn
    return wrap


def ask(kind: str, asked_by: str, **fields: Any) -> SlotSet:
    """The event that makes the next yes carry out ``kind``."""
    return SlotSet(PENDING, {"kind": kind, "asked_by": asked_by, "id": uuid.uuid4().hex[:16], **fields})


def idempotency_key(tracker: Tracker, pending: Dict[str, Any]) -> str:
    return f"conv:{tracker.sender_id}:{pending['id']}"


def last_bot_action(tracker: Tracker) -> Optional[str]:
    """The action that ran just before the patient's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
            continue
        if seen_user and kind == "action" and event.get("name") not in ("action_listen", None):
            return event.get("name")
    return None


def _current(tracker: Tracker) -> Optional[Dict[str, Any]]:
    pending = tracker.get_slot(PENDING)
    if not isinstance(pending, dict) or pending.get("kind") not in HANDLERS:
        return None
    if last_bot_action(tracker) != pending.get("asked_by"):
        return None  # the question was not the last thing asked: a yes now is not an answer to it
    return pending


class ActionConfirm(Action):
    """The patient said yes."""

    def name(self) -> Text:
        return "action_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        pending = _current(tracker)
        if pending is None or not is_verified(tracker):
            done = tracker.get_slot("last_confirmation_number")
            if done and last_bot_action(tracker) == self.name():
                # the same yes again: the payment it confirmed is already made
                dispatcher.utter_message(response="utter_payment_already_done", confirmation_number=done)
            else:
                dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet(PENDING, None)]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            events = HANDLERS[pending["kind"]](dispatcher, session, client, tracker, pending)
        logger.info("confirmed %s in conversation %s", pending["kind"], tracker.sender_id)
        return [SlotSet(PENDING, None)] + events


class ActionCancelPending(Action):
    """The patient said no."""

    def name(self) -> Text:
        return "action_cancel_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        pending = _current(tracker)
        with session_scope() as session:
            values = client_values(conversation_client(tracker, session))
        if pending is None:
            dispatcher.utter_message(response="utter_ok_anything_else")
        else:
            dispatcher.utter_message(response=capabilities.not_done(pending["kind"]), **values)
        return [SlotSet(PENDING, None)]
