"""update_insurance: a verified patient gives new insurance (payer,
member id and group, policyholder, start date); it is read back and,
after a yes (bot/actions/confirm.py), stored by billing.insurance pending
a partner's check."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import insurance
from billing.clients import ClientInfo
from bot.actions.common import (
    StarterAction, answer_required, client_values, conversation_client, patient_of, request_text, language_of, say_date, session_scope,
)
from bot.actions.confirm import ask, register
from bot.nlp.insurance import ID_WORDS, read_member_ids, read_payer, read_subscriber, read_start_date
from bot.nlp.payers import named_payer

def start_update_insurance(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    dispatcher.utter_message(response="utter_insurance_update_intro", **client_values(client))
    payer = named_payer(request_text(tracker, "update_insurance"))
    return [SlotSet("next_form", "insurance_form"), SlotSet("ins_payer", payer)] + [
        SlotSet(s, None) for s in ("ins_ids", "ins_subscriber", "ins_start")]


class ActionStartUpdateInsurance(StarterAction):
    start = staticmethod(start_update_insurance)

    def name(self) -> Text:
        return "action_start_update_insurance"


class ValidateInsuranceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_insurance_form"

    @answer_required
    def validate_ins_payer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(slot_value)
        if tracker.get_slot("requested_slot") != "ins_payer":
            return {"ins_payer": text}  # named in the request (start_update_insurance)
        # "aetna, member id W123456789 group 7001" answers two questions
        found = ID_WORDS.search(text)
        payer = read_payer(text[:found.start()] if found else text) or named_payer(text)
        if payer is None:
            dispatcher.utter_message(response="utter_explain_ins_payer")
            return {"ins_payer": None}
        ids = read_member_ids(text[found.start():]) if found else None
        return {"ins_payer": payer, **({"ins_ids": f"{ids[0]}|{ids[1] or ''}"} if ids else {})}

    @answer_required
    def validate_ins_ids(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        ids = read_member_ids(str(slot_value))
        if ids is None:
            dispatcher.utter_message(response="utter_explain_ins_ids")
            return {"ins_ids": None}
        return {"ins_ids": f"{ids[0]}|{ids[1] or ''}"}

    @answer_required
    def validate_ins_subscriber(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        with session_scope() as session:
            patient = patient_of(session, tracker)
            name = read_subscriber(str(slot_value), patient.full_name if patient else "")
        if not name:
            dispatcher.utter_message(response="utter_explain_ins_subscriber")
        return {"ins_subscriber": name or None}

    @answer_required
    def validate_ins_start(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        day = read_start_date(str(slot_value))
        if day is None:
            dispatcher.utter_message(response="utter_explain_ins_start")
            return {"ins_start": None}
        return {"ins_start": day.isoformat()}


class ActionConfirmInsurance(Action):
    """Read the coverage back before storing it."""

    def name(self) -> Text:
        return "action_confirm_insurance"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        slots = {s: tracker.get_slot(s) for s in ("ins_payer", "ins_ids", "ins_subscriber", "ins_start")}
        reset = [SlotSet(s, None) for s in slots] + [SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            if not all(slots.values()) or patient_of(session, tracker) is None:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            member, group = slots["ins_ids"].split("|", 1)
            start = dt.date.fromisoformat(slots["ins_start"])
            dispatcher.utter_message(response="utter_confirm_insurance", payer=slots["ins_payer"], member_id=member,
                                     group=insurance.group_words(group, language_of(tracker)), subscriber=slots["ins_subscriber"],
                                     start=say_date(start, language_of(tracker)), **client_values(client))
            return reset + [ask("insurance", self.name(), payer=slots["ins_payer"], member_id=member, group=group or None,
                                subscriber=slots["ins_subscriber"], start=slots["ins_start"])]


@register("insurance")
def _report_insurance(dispatcher, session, client, tracker, pending) -> List[EventType]:
    patient = patient_of(session, tracker)
    insurance.report_policy(session, patient, payer=pending["payer"], member_id=pending["member_id"], group_number=pending["group"],
                            subscriber=pending["subscriber"], effective_date=dt.date.fromisoformat(pending["start"]),
                            actor="patient:bot", conversation_id=tracker.sender_id)
    dispatcher.utter_message(response="utter_insurance_reported", payer=pending["payer"], **client_values(client))
    dispatcher.utter_message(response="utter_anything_else")
    return []
