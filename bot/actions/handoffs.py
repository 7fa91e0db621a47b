"""Handing the conversation to a partner.

``hand_off`` is the one way the assistant does it, whoever calls it: the
patient asked for a person, two fallbacks in a row, verification locked,
silence on a call.  It ends any form, queues the conversation with a
summary for the partner (billing.handoffs), pauses the bot while partners
are working and tells the patient what happens next; on a call the voice
channel transfers with a whisper of the summary."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from billing import accounts, handoffs, ledger
from billing.clients import ClientInfo
from billing.contact import display_phone
from billing.models import Patient
from bot.actions.common import say_money, channel_of, client_values, conversation_client, is_verified, patient_phone, session_scope

logger = logging.getLogger(__name__)

# what the assistant did, in words a partner reads
ACTION_WORDS = {
    "action_check_balance": "told the balance",
    "action_explain_coverage": "explained the insurance coverage",
    "payment_form": "started a payment",
    "action_confirm_payment": "took a payment",
    "plan_form": "offered a payment plan",
    "action_confirm_plan": "set up a payment plan",
    "plan_change_form": "started a plan change",
    "action_other_department": "gave another department's number",
    "utter_credit_reporting": "gave the credit reporting answer",
    "callback_form": "took callback details",
    "action_fallback": "did not understand a message",
}
# patient turns that are answers, not requests: never copied into a summary
# (they hold dates of birth, account numbers and yes/no)
_ANSWER_INTENTS = {"inform", "affirm", "deny", "greet", "thank_you", "goodbye"}


def _channel_name(tracker: Tracker) -> str:
    channel = channel_of(tracker)
    return {"twilio_sms": "SMS", "twilio_voice": "phone call", "webchat": "web chat", "rest": "chat"}.get(channel, channel)


def _requests_and_actions(tracker: Tracker) -> tuple[List[str], List[str], List[str]]:
    """The patient's requests (text), their intents, and what the bot did."""
    asked: List[str] = []
    intents: List[str] = []
    tried: List[str] = []
    in_form: Optional[str] = None
    for event in tracker.events:
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            asked, intents, tried = [], [], []
        elif kind == "active_loop":
            in_form = event.get("name")
        elif kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            # answers to the verification form hold the date of birth: never copied
            if intent and intent not in _ANSWER_INTENTS and in_form != "verification_form":
                intents.append(intent)
                text = " ".join(str(event.get("text") or "").split())
                if text and not text.startswith("/"):
                    asked.append(text[:160])
        elif kind == "action":
            words = ACTION_WORDS.get(event.get("name"))
            if words and (not tried or tried[-1] != words):
                tried.append(words)
    return asked, intents, tried


def _verified_by(tracker: Tracker) -> str:
    from bot.actions.identity import read_account_identifier

    answer = read_account_identifier(tracker.get_slot("account_identifier")) or {}
    return "date of birth and " + ("account number" if "account_number" in answer else "full name" if answer else "account details")


def gather_facts(tracker: Tracker, session, client: ClientInfo, reason: str) -> tuple[handoffs.Facts, List[str], Optional[int]]:
    asked, intents, tried = _requests_and_actions(tracker)
    phone = patient_phone(tracker)
    facts = handoffs.Facts(reason=reason, channel=_channel_name(tracker), phone=display_phone(phone) if phone else None,
                           asked=asked, tried=tried)
    account_id = None
    if is_verified(tracker):
        patient = session.get(Patient, tracker.get_slot("patient_id"))
        account = accounts.payable_account(session, patient.id, client.id) if patient else None
        if patient is not None:
            facts.patient_name, facts.verified_by = patient.full_name, _verified_by(tracker)
        if account is not None:
            account_id = account.id
            facts.account_number = account.account_number
            facts.balance = ledger.balance(session, account)
            overview = next((o for o in accounts.overview(session, patient.id, client.id) if o.account_number == account.account_number), None)
            plan = overview.plan if overview is not None else None
            if plan is not None:
                facts.plan = (f"{plan.status} payment plan of {plan.months} x {say_money(plan.monthly_amount)}, "
                              f"{plan.paid_installments} paid, {plan.missed_payments} missed")
    return facts, intents, account_id


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, session, client: ClientInfo, reason: str) -> List[EventType]:
    """Queue the conversation for a partner and tell the patient; the
    events end any form and, while partners work, pause the bot."""
    facts, intents, account_id = gather_facts(tracker, session, client, reason)
    named = next(tracker.get_latest_entity_values("department"), None)
    department = handoffs.department_for(intents, named)
    handoff, created = handoffs.open_handoff(
        session, client=client, conversation_id=tracker.sender_id, channel=channel_of(tracker), department=department,
        reason=reason, summary=handoffs.summary_text(facts), patient_id=tracker.get_slot("patient_id") if is_verified(tracker) else None,
        account_id=account_id, verified=is_verified(tracker),
    )
    logger.info("handoff %s (%s, %s) for conversation %s", handoff.id, handoff.department, reason, tracker.sender_id)
    values = {
        **client_values(client),
        "department_name": handoffs.DEPARTMENT_NAMES[handoff.department],
        "partner_hours": handoffs.hours_text(client),
        "queue_position": handoffs.position(session, handoff),
        "wait_minutes": handoffs.expected_wait_minutes(session, handoff),
    }
    values["minutes_word"] = "minute" if values["wait_minutes"] == 1 else "minutes"
    values["recap"] = handoffs.patient_recap(facts)
    events: List[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("next_form", "none"),
                               SlotSet("pending_confirmation", None)]
    if handoff.after_hours:
        # nobody to take it now: the bot stays with the patient, who can ask for a callback;
        # a partner who claims the handoff later takes the conversation over
        dispatcher.utter_message(response="utter_handoff_after_hours", **values)
        return events
    voice = channel_of(tracker) == "twilio_voice"
    if not created and not voice:
        dispatcher.utter_message(response="utter_handoff_already_waiting", **values)
    elif voice:
        dispatcher.utter_message(
            response="utter_handoff_voice",
            json_message={"voice": {"transfer": handoff.department, "handoff": handoff.id}}, **values,
        )
    else:
        dispatcher.utter_message(response="utter_handoff_queued", **values)
    return events + [ConversationPaused()]


class ActionHandoff(Action):
    """The patient asked for a person (or the voice channel reports silence)."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        metadata = tracker.latest_message.get("metadata") or {}
        reason = metadata.get("handoff_reason") if metadata.get("handoff_reason") in handoffs.REASONS else "asked_for_person"
        with session_scope() as session:
            return hand_off(dispatcher, tracker, session, conversation_client(tracker, session), reason)
