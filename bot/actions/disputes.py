"""dispute_charge: a verified patient disputes a charge.  The form asks
which charge and why; the dispute is read back and opened only after a
yes (bot/actions/confirm.py); the billing core opens it (billing.disputes)
and a partner finishes it in the desk."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import language as languages
from billing import disputes
from billing.clients import ClientInfo
from billing.models import Account, ServiceLine
from bot.actions.common import (
    StarterAction, answer_required, channel_of, client_values, conversation_client, patient_account, request_text, language_of, say_date,
    say_money, session_scope,
)
from bot.actions.confirm import ask, register
from bot.nlp.disputes import dispute_reason, pick_line

REASON_WORDS_SAID = {
    "duplicate": "a duplicate charge",
    "not_received": "a service you did not receive",
    "amount_wrong": "a wrong amount",
    "insurance_should_pay": "something your insurance should have paid",
    "quality_of_care": "a concern about the quality of care",
}


def describe_line(line: ServiceLine, language: str = "en") -> str:
    return f"{say_date(line.encounter.date_of_service, language)}: {line.description}, {say_money(line.charge)}"


def start_dispute(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    said = request_text(tracker, "dispute_charge")
    open_ones = disputes.open_disputes(session, account)
    if open_ones and re.search(r"\b(status|update|news|heard|what happened)\b", said, re.I):
        dispatcher.utter_message(response="utter_dispute_status", reference=open_ones[-1].reference,
                                 opened=say_date(open_ones[-1].opened_at.date(), language_of(tracker)), **values)
        return [SlotSet("next_form", "none")]
    lines = disputes.service_lines(session, account)
    if not lines:
        dispatcher.utter_message(response="utter_dispute_no_lines", **values)
        return [SlotSet("next_form", "none")]
    # "i was charged twice for the metabolic panel on october 28" names both
    line = pick_line(said, lines) if len(said.split()) > 3 else None
    return [SlotSet("next_form", "dispute_form"), SlotSet("dispute_line", str(line.id) if line else None),
            SlotSet("dispute_reason", dispute_reason(said))]


class ActionStartDispute(StarterAction):
    start = staticmethod(start_dispute)

    def name(self) -> Text:
        return "action_start_dispute"


class ActionAskDisputeLine(Action):
    def name(self) -> Text:
        return "action_ask_dispute_line"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            lines = disputes.service_lines(session, patient_account(session, client, tracker))
            listing = "; ".join(f"{n}) {describe_line(line, language_of(tracker))}" for n, line in enumerate(lines, start=1))
            dispatcher.utter_message(response="utter_ask_dispute_line", line_list=listing,
                                     buttons=[{"title": describe_line(line, language_of(tracker)), "payload": str(n)} for n, line in enumerate(lines, start=1)][:10])
        return []


class ValidateDisputeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_dispute_form"

    @answer_required
    def validate_dispute_line(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if str(slot_value).isdigit() and tracker.get_slot("requested_slot") != "dispute_line":
            return {"dispute_line": slot_value}  # set by the starter action: a line id
        with session_scope() as session:
            client = conversation_client(tracker, session)
            lines = disputes.service_lines(session, patient_account(session, client, tracker))
            line = pick_line(str(slot_value), lines)
            if line is None:
                dispatcher.utter_message(response="utter_explain_dispute_line")
                return {"dispute_line": None}
            return {"dispute_line": str(line.id)}

    @answer_required
    def validate_dispute_reason(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        reason = dispute_reason(str(slot_value))
        if reason is None:
            dispatcher.utter_message(response="utter_explain_dispute_reason")
            return {"dispute_reason": None}
        return {"dispute_reason": reason}


class ActionConfirmDispute(Action):
    """Read the dispute back before opening it."""

    def name(self) -> Text:
        return "action_confirm_dispute"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("dispute_line", None), SlotSet("dispute_reason", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            line = session.get(ServiceLine, int(tracker.get_slot("dispute_line") or 0))
            reason = tracker.get_slot("dispute_reason")
            if account is None or line is None or reason not in REASON_WORDS_SAID:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            dispatcher.utter_message(response="utter_confirm_dispute", line=describe_line(line, language_of(tracker)), reason_words=languages.phrase(REASON_WORDS_SAID[reason], language_of(tracker)),
                                     **client_values(client))
            return reset + [ask("dispute", self.name(), account_id=account.id, line_id=line.id, reason=reason)]


@register("dispute")
def _open_dispute(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Account, int(pending["account_id"]))
    try:
        dispute = disputes.open_dispute(
            session, account, pending["reason"], actor="patient:bot", service_line_id=int(pending["line_id"]),
            description=f"opened by the patient in {channel_of(tracker)}", channel=channel_of(tracker), conversation_id=tracker.sender_id,
        )
    except disputes.DisputeError as refused:
        if refused.reason != "already_open":
            raise
        # one open dispute per charge: the patient is told the one already open
        already = disputes.open_dispute_of_line(session, int(pending["line_id"]))
        dispatcher.utter_message(response="utter_dispute_status", reference=already.reference,
                                 opened=say_date(already.opened_at.date(), language_of(tracker)), **client_values(client))
        return [SlotSet("last_confirmation_number", already.reference)]
    dispatcher.utter_message(response="utter_dispute_opened", reference=dispute.reference, **client_values(client))
    dispatcher.utter_message(response="utter_anything_else")
    return [SlotSet("last_confirmation_number", dispute.reference)]
