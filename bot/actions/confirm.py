"""The confirmation step before anything that moves money or changes a
plan.  An action that asks "Shall I go ahead?" stores what it would do
in the ``pending_confirmation`` slot; the patient's yes runs it once,
their no drops it.  A yes counts only as the answer to the question
just asked: if anything else happened in between, nothing is done.

Each kind of pending step registers the function that carries it out
(what a no to it is answered with is its capability's, bot.capabilities);
its idempotency key is the conversation and the question's id, so the
same yes, delivered twice, moves money once.

A kind may also register how a message changes it (``revises``): at the
read-back, "ok go ahead with my visa" is a yes with that card, "wait,
make that 75 instead" or "no, 60" changes the amount and reads it back
again instead of cancelling, whatever intent the classifier gave it
(a starter action that finds a question just asked answers it here
first, through bot.actions.common.PENDING_ANSWERS).
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import capabilities
from bot.actions.common import PENDING_ANSWERS, client_values, conversation_client, is_verified, latest_text, session_scope

logger = logging.getLogger(__name__)

PENDING = "pending_confirmation"
# kind -> fn(dispatcher, session, client, tracker, pending) -> events
HANDLERS: Dict[str, Callable[..., List[EventType]]] = {}
# kind -> fn(dispatcher, session, client, tracker, pending, text) -> the pending step changed by the text, or None
REVISERS: Dict[str, Callable[..., Optional[Dict[str, Any]]]] = {}
# kind -> fn(dispatcher, session, client, tracker, pending, asked_by) -> events: the read-back asked again
READ_BACKS: Dict[str, Callable[..., List[EventType]]] = {}

# a yes said with words around it ("ok go ahead with my visa", "sure put it on the other card")
YES_WORDS = re.compile(r"^\W*(yes|yeah|yep|yup|ya|y|sure|ok|okay|k|go ahead|do it|please do|sounds good|that works|fine|alright|all right|correct"
                       # Spanish, accents optional
                       r"|s[ií]|sip|claro|dale|adelante|de acuerdo|est[aá] bien|ta bien|correcto|h[aá]galo|hazlo|por supuesto|[oó]rale"
                       r"|va|sale|okey|perfecto|exacto|as[ií] es|eso es|confirmo)\b|\bgo ahead\b|\badelante\b", re.I)
# a message that changes the detail rather than agreeing to it
CHANGE_WORDS = re.compile(r"\b(no|nope|wait|instead|actually|change|make (that|it)|rather|not"
                          r"|espere|espera|en vez|en lugar|mejor|cambi[ae]|cambiar|cambielo|mas bien|más bien)\b", re.I)


def register(kind: str):
    def wrap(fn):
        HANDLERS[kind] = fn
        return fn
    return wrap


def revises(kind: str):
    """Register how a message changes a pending step of this kind, and how it is read back."""
    def wrap(pair):
        REVISERS[kind], READ_BACKS[kind] = pair
        return pair
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


def _revised(dispatcher, session, client, tracker, pending) -> Optional[Dict[str, Any]]:
    reviser = REVISERS.get(pending["kind"])
    if reviser is None:
        return None
    changed = reviser(dispatcher, session, client, tracker, pending, latest_text(tracker))
    return changed if changed and changed != pending else None


def carry_out(dispatcher, session, client, tracker, pending) -> List[EventType]:
    events = HANDLERS[pending["kind"]](dispatcher, session, client, tracker, pending)
    logger.info("confirmed %s in conversation %s", pending["kind"], tracker.sender_id)
    return [SlotSet(PENDING, None)] + events


def answer_pending(dispatcher: CollectingDispatcher, tracker: Tracker, asked_by: str) -> Optional[List[EventType]]:
    """The patient's message as the answer to the question just asked,
    whatever its intent: a yes with content carries it out (with the
    change it names), a change reads back again.  None: not an answer."""
    pending = _current(tracker)
    if pending is None or not is_verified(tracker):
        return None
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    asked_for, owner = capabilities.capability_of(intent), capabilities.owner_of_step(pending.get("kind"))
    if asked_for is not None and owner is not None and asked_for.name not in (owner.name, "general"):
        return None  # "ok, I want to dispute a charge" at a payment's read-back is a new request, not a yes
    text = latest_text(tracker)
    with session_scope() as session:
        client = conversation_client(tracker, session)
        changed = _revised(dispatcher, session, client, tracker, pending)
        yes = bool(YES_WORDS.search(text)) and not CHANGE_WORDS.search(text)
        if changed is not None and not yes:
            return READ_BACKS[pending["kind"]](dispatcher, session, client, tracker, changed, asked_by)
        if yes:
            return carry_out(dispatcher, session, client, tracker, changed or pending)
    return None


PENDING_ANSWERS.append(answer_pending)


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
            # "yes, put it on the mastercard": the yes, with the change it names
            return carry_out(dispatcher, session, client, tracker, _revised(dispatcher, session, client, tracker, pending) or pending)


class ActionCancelPending(Action):
    """The patient said no."""

    def name(self) -> Text:
        return "action_cancel_pending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        pending = _current(tracker)
        with session_scope() as session:
            client = conversation_client(tracker, session)
            values = client_values(client)
            changed = _revised(dispatcher, session, client, tracker, pending) if pending is not None and is_verified(tracker) else None
            if changed is not None:
                # "no, the 20th": that detail changes and is read back, nothing is cancelled
                return READ_BACKS[pending["kind"]](dispatcher, session, client, tracker, changed, self.name())
        if pending is None:
            dispatcher.utter_message(response="utter_ok_anything_else")
        else:
            dispatcher.utter_message(response=capabilities.not_done(pending["kind"]), **values)
        return [SlotSet(PENDING, None)]


@register("handoff")
def _hand_off_after_failure(dispatcher, session, client, tracker, pending) -> List[EventType]:
    """Yes to the person offered after our own failure (bot/rasa_main.py):
    the summary holds what the patient asked."""
    from bot.actions.handoffs import hand_off

    return hand_off(dispatcher, tracker, session, client, "asked_for_person")
