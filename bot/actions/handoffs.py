"""Handing the conversation to a partner, and the routing that needs no
account: fallback, other departments, wrong number, opt-out and callbacks.

``hand_off`` is the one way the assistant does it, whoever calls it: the
patient asked for a person, two fallbacks in a row, verification locked,
silence on a call.  It ends any form, queues the conversation with a
summary for the partner (billing.handoffs), pauses the bot while partners
are working and tells the patient what happens next; on a call the voice
channel transfers with a whisper of the summary."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import language as languages
from billing import accounts, callbacks, handoffs, ledger, outreach
from billing.clients import ClientInfo
from billing.contact import display_phone, normalise_phone
from billing.models import Patient
from billing.redaction import holds_redacted_card
from billing.vocabulary import Channel
from bot import capabilities
from bot.actions import language
from bot.actions.common import (
    PENDING_ANSWERS, channel_of, client_values, conversation_client, is_verified, language_of, patient_phone, session_scope,
)
from bot.nlp.general import definition_asked
from bot.nlp.identity import read_account_identifier

logger = logging.getLogger(__name__)

# patient turns that are answers, not requests: never copied into a summary
# (they hold dates of birth, account numbers and yes/no)
_ANSWER_INTENTS = {"inform", "affirm", "deny", "greet", "thank_you", "goodbye"}


def _channel_name(tracker: Tracker) -> str:
    channel = channel_of(tracker)
    known = Channel.named(channel)
    return known.words if known else channel


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
            words = capabilities.handoff_words(event.get("name"))
            if words and (not tried or tried[-1] != words):
                tried.append(words)
        elif kind == "slot" and event.get("name") == "pending_confirmation" and isinstance(event.get("value"), dict) \
                and event["value"].get("failed_action"):
            # bot/rasa_main.py: the action failed on our side, so it did not do what its words say
            words = capabilities.handoff_words(event["value"]["failed_action"])
            if words and tried and tried[-1] == words:
                tried.pop()
            tried.append(f"failed on our side ({event['value']['failed_action']})")
    return asked, intents, tried


def _verified_by(tracker: Tracker) -> str:
    answer = read_account_identifier(tracker.get_slot("account_identifier")) or {}
    return "date of birth and " + ("account number" if "account_number" in answer else "full name" if answer else "account details")


def department_for(intents: Iterable[str], named: Optional[str] = None) -> str:
    """The queue for a conversation: the department the patient named,
    else the one its latest topic belongs to (bot.capabilities), else
    billing (billing.handoffs keeps the queues)."""
    return handoffs.department_for(capabilities.topic_department(intents), named)


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
                facts.plan = {"status": plan.status, "months": plan.months, "monthly_amount": plan.monthly_amount,
                              "paid": plan.paid_installments, "missed": plan.missed_payments}
    return facts, intents, account_id


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, session, client: ClientInfo, reason: str) -> List[EventType]:
    """Queue the conversation for a partner and tell the patient; the
    events end any form and, while partners work, pause the bot."""
    facts, intents, account_id = gather_facts(tracker, session, client, reason)
    named = next(tracker.get_latest_entity_values("department"), None)
    department = department_for(intents, named)
    handoff, created = handoffs.open_handoff(
        session, client=client, conversation_id=tracker.sender_id, channel=channel_of(tracker), department=department,
        reason=reason, summary=handoffs.summary_text(facts, conversation_language=language_of(tracker)),
        patient_id=tracker.get_slot("patient_id") if is_verified(tracker) else None,
        account_id=account_id, verified=is_verified(tracker), facts=facts, language=language_of(tracker),
    )
    logger.info("handoff %s (%s, %s) for conversation %s", handoff.id, handoff.department, reason, tracker.sender_id)
    values = {
        **client_values(client),
        "department_name": languages.phrase(handoffs.DEPARTMENT_NAMES[handoff.department], language_of(tracker)),
        "partner_hours": handoffs.hours_text(client, language_of(tracker)),
        "queue_position": handoffs.position(session, handoff),
        "wait_minutes": handoffs.expected_wait_minutes(session, handoff),
    }
    values["minutes_word"] = languages.counted(values["wait_minutes"], "minute", "minutes", language_of(tracker))
    values["recap"] = handoffs.patient_recap(facts, language_of(tracker))
    events: List[EventType] = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("next_form", "none"),
                               SlotSet("pending_confirmation", None)]
    if handoff.after_hours:
        # nobody to take it now: the bot stays with the patient, who can ask for a callback;
        # a partner who claims the handoff later takes the conversation over
        dispatcher.utter_message(response="utter_handoff_after_hours", **values)
        return events
    voice = channel_of(tracker) == Channel.VOICE
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


# --- routing that needs no account ------------------------------------------------

# the departments a patient may ask for that are not ours, by name
OTHER_DEPARTMENTS = {
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
    """First time: ask to rephrase (or, for a message in a language we do
    not speak, say in English and Spanish which ones we do and how to reach
    a person).  Twice in a row: hand off to a partner.

    Runs for an NLU fallback (a message not understood) and as the core
    fallback (understood, but nothing fits the conversation); the latter
    takes the message back so the patient can carry on where they were."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        for answer in PENDING_ANSWERS:
            # "no its 555-010-2223" at a read-back: not understood as an intent, but an answer to it
            events = answer(dispatcher, tracker, self.name())
            if events is not None:
                # answered: wait for the patient (no second fallback for the same message)
                return events + [FollowupAction("action_listen")]
        text = tracker.latest_message.get("text") or ""
        if holds_redacted_card(text):
            # a card number in a message not understood: the patient hears it was removed, and the safe way to pay
            dispatcher.utter_message(response="utter_card_number_not_taken")
            return [FollowupAction("action_listen")]
        term = definition_asked(text)
        if term is not None:
            # "whats an out of pocket maximum": a general question, answered without an account
            dispatcher.utter_message(response=f"utter_define_{term}")
            dispatcher.utter_message(response="utter_anything_else")
            return [FollowupAction("action_listen")]
        return await super().run(dispatcher, tracker, domain)

    def answer(self, dispatcher, tracker, session, client, values, domain):
        if consecutive_fallbacks(tracker) >= 2:
            return hand_off(dispatcher, tracker, session, client, "repeated_fallback")
        if language.not_spoken(tracker):
            # "combien je dois": which languages we speak, in both, and how to reach a person
            dispatcher.utter_message(response="utter_language_not_spoken", **values)
            return []
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
                response="utter_other_department", department_name=OTHER_DEPARTMENTS.get(wanted, wanted.replace("_", " ")),
                department_phone=display_phone(number), **values,
            )
        else:
            listing = "; ".join(
                f"{OTHER_DEPARTMENTS.get(key, key.replace('_', ' '))} {display_phone(phone)}"
                for key, phone in client.policy.departments.items()
            )
            dispatcher.utter_message(response="utter_other_department_list", department_list=listing, **values)
            dispatcher.utter_message(response="utter_anything_else")
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
        known = Channel.named(channel)
        # a call's or a text's opt-out is that channel's; a chat's is kept as "chat"
        kind = known.short if known in (Channel.VOICE, Channel.SMS) else "chat"
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
