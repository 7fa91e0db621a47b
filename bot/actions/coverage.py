"""insurance_question and explain_eob: what the payer allowed and paid on
each of the patient's claims, what the patient owes and why, and what an
adjustment code means, from billing.eob."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from billing import accounts, eob
from billing.clients import ClientInfo
from bot.actions.common import StarterAction, client_values, entity_in, language_of, request_message, say_money
from bot.responses import defined


def tell_coverage(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    values = client_values(client)
    language = language_of(tracker)
    asked = request_message(tracker, "explain_eob") or request_message(tracker, "insurance_question") or {}
    code = entity_in(asked, "adjustment_code") if asked else None
    if code:
        group, _, reason = str(code).partition("-") if "-" in str(code) else ("", "", str(code))
        meaning = eob.explain_code(group.upper(), reason, language)
        if meaning:
            dispatcher.utter_message(response="utter_code_meaning", meaning=meaning, **values)
        else:
            dispatcher.utter_message(response="utter_code_unknown", code=str(code).upper(), **values)
    explained = [eob.explain_claim(c) for a in accounts.patient_accounts(session, tracker.get_slot("patient_id"), client.id) for c in a.claims]
    if not explained:
        dispatcher.utter_message(response="utter_coverage_no_claims", **values)
        dispatcher.utter_message(response="utter_anything_else")
        return []
    for item in explained:
        common = dict(payer=item.payer, billed=say_money(item.billed), allowed=say_money(item.allowed), paid=say_money(item.paid), **values)
        if item.denied:
            dispatcher.utter_message(response="utter_eob_denied", owed=say_money(item.patient_owes), **common)
            for group, reason in item.denied_reasons:
                meaning = eob.explain_code(group, reason, language)
                if meaning:
                    dispatcher.utter_message(response="utter_code_meaning", meaning=meaning, **values)
                step = f"utter_denial_next_step_{reason}"
                dispatcher.utter_message(response=step if defined(step) else "utter_denial_next_step_other", **values)
            continue
        dispatcher.utter_message(response="utter_eob_claim", **common)
        if item.patient_owes:
            dispatcher.utter_message(response="utter_eob_you_owe", parts=eob.owed_words(item, language), **values)
        if item.written_off:
            dispatcher.utter_message(response="utter_eob_written_off", written_off=say_money(item.written_off), **common)
    dispatcher.utter_message(response="utter_anything_else")
    return []


class ActionExplainCoverage(StarterAction):
    start = staticmethod(tell_coverage)

    def name(self) -> Text:
        return "action_explain_coverage"
