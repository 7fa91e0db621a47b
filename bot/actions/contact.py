"""update_contact_info: a verified patient changes an address, phone or
email (a legal name waits for a partner); the change is read back and,
after a yes (bot/actions/confirm.py), made by billing.contact, which
sends the notice of a changed number or email."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import language as languages
from billing import contact
from billing.clients import ClientInfo
from bot.actions.common import (
    language_of,
    StarterAction, answer_required, channel_of, client_values, conversation_client, patient_of, request_text, session_scope,
)
from bot.actions.confirm import ask, register, revises
from bot.nlp.contact import contact_field

def _value_in(field: str, text: str) -> Optional[str]:
    """A new value already in the request ('my new email is a@b.com')."""
    if field == "name":
        return None  # "change my name" carries no new name; asking is clearer
    try:
        return contact.read_value(field, text)
    except contact.ContactError:
        return None


def start_update_contact(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    said = request_text(tracker, "update_contact_info")
    field = contact_field(said)
    value = _value_in(field, said) if field else None
    return [SlotSet("next_form", "contact_form"), SlotSet("contact_field", field), SlotSet("contact_value", value)]


class ActionStartUpdateContact(StarterAction):
    start = staticmethod(start_update_contact)

    def name(self) -> Text:
        return "action_start_update_contact"


class ActionAskContactValue(Action):
    def name(self) -> Text:
        return "action_ask_contact_value"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response=f"utter_ask_contact_value_{tracker.get_slot('contact_field') or 'address'}")
        return []


class ValidateContactForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_contact_form"

    @answer_required
    def validate_contact_field(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        value = str(slot_value)
        field = value if value in contact.FIELDS else contact_field(value)
        if field is None:
            dispatcher.utter_message(response="utter_explain_contact_field")
            return {"contact_field": None}
        if tracker.get_slot("requested_slot") == "contact_field":
            # "my email, it's a@b.com" answers both questions
            return {"contact_field": field, "contact_value": _value_in(field, value)}
        return {"contact_field": field}

    @answer_required
    def validate_contact_value(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        field = tracker.get_slot("contact_field")
        try:
            value = contact.read_value(field, str(slot_value))
        except contact.ContactError:
            dispatcher.utter_message(response=f"utter_explain_contact_value_{field or 'address'}")
            return {"contact_value": None}
        return {"contact_value": value}


class ActionConfirmContact(Action):
    def name(self) -> Text:
        return "action_confirm_contact"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        field, value = tracker.get_slot("contact_field"), tracker.get_slot("contact_value")
        reset = [SlotSet("contact_field", None), SlotSet("contact_value", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            patient = patient_of(session, tracker)
            if patient is None or field not in contact.FIELDS or not value:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            if contact.unchanged(patient, field, value):
                dispatcher.utter_message(response="utter_contact_unchanged", what=languages.phrase(contact.FIELD_WORDS[field], language_of(tracker)),
                                         value=contact.say_value(field, value), **client_values(client))
                return reset
            old = contact.current_value(patient, field)
            response = "utter_confirm_name_change" if field == "name" else "utter_confirm_contact_change"
            dispatcher.utter_message(response=response, what=languages.phrase(contact.FIELD_WORDS[field], language_of(tracker)), value=contact.say_value(field, value),
                                     old=contact.say_value(field, old) if old else "nothing on file", **client_values(client))
            return reset + [ask("contact", self.name(), field=field, value=value)]


def _revise_contact(dispatcher, session, client, tracker, pending, text) -> Optional[Dict[str, Any]]:
    """ "no, it's 555-010-2223": the same detail, corrected."""
    value = _value_in(pending["field"], text)
    if not value or value == pending["value"]:
        return None
    return {**pending, "value": value}


def _read_back_contact(dispatcher, session, client, tracker, pending, asked_by) -> List[EventType]:
    patient = patient_of(session, tracker)
    field, value = pending["field"], pending["value"]
    old = contact.current_value(patient, field)
    response = "utter_confirm_name_change" if field == "name" else "utter_confirm_contact_change"
    dispatcher.utter_message(response=response, what=languages.phrase(contact.FIELD_WORDS[field], language_of(tracker)), value=contact.say_value(field, value),
                             old=contact.say_value(field, old) if old else "nothing on file", **client_values(client))
    return [ask("contact", asked_by, field=field, value=value)]


revises("contact")((_revise_contact, _read_back_contact))


@register("contact")
def _change_contact(dispatcher, session, client, tracker, pending) -> List[EventType]:
    from billing.notices import send_contact_notice

    patient = patient_of(session, tracker)
    try:
        change = contact.change(session, patient, pending["field"], pending["value"], actor="patient:bot",
                                channel=channel_of(tracker), conversation_id=tracker.sender_id)
    except contact.ContactError:
        dispatcher.utter_message(response="utter_contact_unchanged", what=languages.phrase(contact.FIELD_WORDS[pending["field"]], language_of(tracker)),
                                 value=contact.say_value(pending["field"], pending["value"]), **client_values(client))
        return []
    values = {"what": languages.phrase(contact.FIELD_WORDS[change.field], language_of(tracker)), "value": contact.say_value(change.field, change.new_value), **client_values(client)}
    if change.field == "name":
        dispatcher.utter_message(response="utter_name_change_requested", **values)
        return []
    change_id, notice = change.id, change.notice_to is not None
    session.commit()  # the notice is sent, and its outcome recorded, after the change is stored
    if not notice:
        dispatcher.utter_message(response="utter_contact_changed", **values)
    elif send_contact_notice(change_id) == "sent":
        dispatcher.utter_message(response="utter_contact_changed_notice", **values)
    else:  # waits in the desk for a retry or a letter
        dispatcher.utter_message(response="utter_contact_changed_notice_later", **values)
    dispatcher.utter_message(response="utter_anything_else")
    return []
