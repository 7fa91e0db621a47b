"""financial_assistance: a verified patient is screened for financial
assistance (household size and income against the client's policy) and,
after a yes (bot/actions/confirm.py), the application is opened by
billing.assistance for a partner to finish in the desk."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import assistance, ledger
from billing.clients import ClientInfo
from billing.contact import display_phone
from billing.models import Account
from bot.actions.common import (
    StarterAction, answer_required, channel_of, client_values, conversation_client, patient_account, language_of, say_date, say_money,
    session_scope,
)
from bot.actions.confirm import ask, register
from bot.nlp.assistance import read_household, read_income

def start_assistance(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    open_ones = assistance.open_applications(session, account)
    if open_ones:
        dispatcher.utter_message(response="utter_assistance_already_open", reference=open_ones[-1].reference,
                                 window_ends=say_date(open_ones[-1].window_ends, language_of(tracker)), **values)
        return [SlotSet("next_form", "none")]
    dispatcher.utter_message(response="utter_assistance_intro", **values)
    return [SlotSet("next_form", "assistance_form"), SlotSet("household_size", None), SlotSet("annual_income", None)]


class ActionStartAssistance(StarterAction):
    start = staticmethod(start_assistance)

    def name(self) -> Text:
        return "action_start_assistance"


class ValidateAssistanceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_assistance_form"

    @answer_required
    def validate_household_size(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        size = read_household(str(slot_value))
        if size is None:
            dispatcher.utter_message(response="utter_explain_household_size")
            return {"household_size": None}
        return {"household_size": float(size)}

    @answer_required
    def validate_annual_income(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        income = read_income(str(slot_value))
        if income is None:
            dispatcher.utter_message(response="utter_explain_annual_income")
            return {"annual_income": None}
        return {"annual_income": str(income)}


class ActionScreenAssistance(Action):
    """Tell the likely outcome and offer to open the application."""

    def name(self) -> Text:
        return "action_screen_assistance"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("household_size", None), SlotSet("annual_income", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            size, income = tracker.get_slot("household_size"), tracker.get_slot("annual_income")
            if account is None or size is None or income is None:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            state = account.patient.state
            result = assistance.screen(client.policy.financial_assistance, int(size), income, state)
            values = {**client_values(client), "household_size": int(size), "annual_income": say_money(result.annual_income),
                      "fpl_percent": result.fpl_percent, "discount_percent": f"{result.discount_percent.normalize()}",
                      "balance": say_money(ledger.balance(session, account)),
                      "days": client.policy.financial_assistance.application_period_days}
            dispatcher.utter_message(response=f"utter_assistance_likely_{result.outcome}", **values)
            return reset + [ask("assistance", self.name(), account_id=account.id, household_size=int(size), annual_income=str(income))]


@register("assistance")
def _apply(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Account, int(pending["account_id"]))
    result = assistance.screen(client.policy.financial_assistance, int(pending["household_size"]), pending["annual_income"],
                               account.patient.state)
    try:
        application = assistance.apply(session, account, result, actor="patient:bot", channel=channel_of(tracker),
                                       conversation_id=tracker.sender_id)
    except assistance.ApplicationError:
        open_one = assistance.open_applications(session, account)[-1]
        dispatcher.utter_message(response="utter_assistance_already_open", reference=open_one.reference,
                                 window_ends=say_date(open_one.window_ends, language_of(tracker)), **client_values(client))
        return []
    documents = "; ".join(assistance.DOCUMENTS)
    counseling = client.department_number("financial_counseling") or client.phone_number
    dispatcher.utter_message(response="utter_assistance_applied", reference=application.reference, documents=documents,
                             window_ends=say_date(application.window_ends, language_of(tracker)), counseling_phone=display_phone(counseling),
                             **client_values(client))
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet("last_confirmation_number", application.reference)]


@register("assistance_offer")
def _check_assistance(dispatcher, session, client, tracker, pending) -> List[EventType]:
    """Yes to assistance offered before a plan (hardship first): the screening starts."""
    events = start_assistance(dispatcher, session, client, tracker)
    if any(e.get("name") == "next_form" and e.get("value") == "assistance_form" for e in events):
        events.append(FollowupAction("assistance_form"))
    return events
