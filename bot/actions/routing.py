"""Routing that needs no account: fallback, other departments, wrong
number, opt-out and callbacks."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import callbacks, outreach
from billing.contact import display_phone, normalise_phone
from bot.actions.handoffs import hand_off
from bot.actions.common import channel_of, client_values, conversation_client, patient_phone, session_scope

DEPARTMENT_NAMES = {
    "medical_records": "medical records",
    "scheduling": "scheduling",
    "pharmacy": "the pharmacy",
    "patient_relations": "patient relations",
    "financial_counseling": "financial counseling",
}


class _ClientAction(Action, ABC):
    """An action that answers with the client's scripts (``answer``)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            return self.answer(dispatcher, tracker, session, client, client_values(client), domain)

    @abstractmethod
    def answer(self, dispatcher, tracker, session, client, values, domain) -> List[EventType]:
        """Say what fits; return the events."""


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many turns in a row, this one included, ended in a fallback."""
    count = 1
    current_turn_seen = False
    turn_actions: List[str] = []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            break
        if kind == "action":
            turn_actions.append(event.get("name"))
        elif kind == "user":
            if current_turn_seen:
                if "action_fallback" not in turn_actions:
                    break
                count += 1
            current_turn_seen = True
            turn_actions = []
    return count


class ActionFallback(_ClientAction):
    """First time: ask to rephrase.  Twice in a row: hand off to a partner.

    Runs for an NLU fallback (a message not understood) and as the core
    fallback (understood, but nothing fits the conversation); the latter
    takes the message back so the patient can carry on where they were."""

    def name(self) -> Text:
        return "action_fallback"

    def answer(self, dispatcher, tracker, session, client, values, domain):
        if consecutive_fallbacks(tracker) >= 2:
            return hand_off(dispatcher, tracker, session, client, "repeated_fallback")
        dispatcher.utter_message(response="utter_rephrase", **values)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return [] if intent == "nlu_fallback" else [UserUtteranceReverted()]




class ActionOtherDepartment(_ClientAction):
    def name(self) -> Text:
        return "action_other_department"

    def answer(self, dispatcher, tracker, session, client, values, domain):
        wanted = next(tracker.get_latest_entity_values("department"), None) or tracker.get_slot("department")
        number = client.department_number(wanted) if wanted else None
        if number:
            dispatcher.utter_message(
                response="utter_other_department", department_name=DEPARTMENT_NAMES.get(wanted, wanted.replace("_", " ")),
                department_phone=display_phone(number), **values,
            )
        else:
            listing = "; ".join(
                f"{DEPARTMENT_NAMES.get(key, key.replace('_', ' '))} {display_phone(phone)}"
                for key, phone in client.policy.departments.items()
            )
            dispatcher.utter_message(response="utter_other_department_list", department_list=listing, **values)
        return [SlotSet("department", None)]


class ActionWrongNumber(_ClientAction):
    """Stop contacting a number that is not the patient's."""

    def name(self) -> Text:
        return "action_wrong_number"

    def answer(self, dispatcher, tracker, session, client, values, domain):
        phone = patient_phone(tracker)
        if phone:
            outreach.set_opt_out(session, client_id=client.id, channel="all", address=phone, opted_out=True, source=f"wrong number: {tracker.sender_id}")
            dispatcher.utter_message(response="utter_wrong_number", **values)
        else:
            dispatcher.utter_message(response="utter_wrong_number_chat", **values)
        return [SlotSet("identity", "unverified"), SlotSet("patient_id", None), SlotSet("patient_first_name", None)]


class ActionOptOut(_ClientAction):
    """Record that this number (or this chat) wants no more messages."""

    def name(self) -> Text:
        return "action_opt_out"

    def answer(self, dispatcher, tracker, session, client, values, domain):
        channel = channel_of(tracker)
        address = patient_phone(tracker) or tracker.sender_id
        kind = "voice" if "voice" in channel else ("sms" if "sms" in channel else "chat")
        changed = outreach.set_opt_out(session, client_id=client.id, channel=kind, address=address, opted_out=True, source=f"opt_out intent in {channel}: {tracker.sender_id}")
        dispatcher.utter_message(response="utter_opt_out_confirmed" if changed else "utter_opt_out_already", **values)
        return []



class ValidateCallbackForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_callback_form"

    def validate_callback_phone(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        phone = normalise_phone(str(slot_value or ""))
        if phone is None:
            dispatcher.utter_message(response="utter_explain_callback_phone")
            return {"callback_phone": None}
        return {"callback_phone": phone}

    def validate_callback_time(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = " ".join(str(slot_value or "").split())[:200]
        return {"callback_time": text or None}


class ActionSubmitCallback(_ClientAction):
    def name(self) -> Text:
        return "action_submit_callback"

    def answer(self, dispatcher, tracker, session, client, values, domain):
        phone = tracker.get_slot("callback_phone")
        request = callbacks.request_callback(
            session, client_id=client.id, conversation_id=tracker.sender_id, phone=phone,
            preferred_time=tracker.get_slot("callback_time"), channel=channel_of(tracker),
            patient_id=tracker.get_slot("patient_id"),
        )
        dispatcher.utter_message(
            response="utter_callback_recorded", callback_phone_display=display_phone(phone),
            callback_time=request.preferred_time or "any time", callback_id=request.id, **values,
        )
        return [SlotSet("callback_phone", None), SlotSet("callback_time", None)]
