"""Verification: a form for date of birth and (account number or full
name), checked by billing.identity within the conversation's client."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import identity
from billing.models import Patient
from billing.redaction import holds_redacted_card
from bot import capabilities
from bot.actions import language
from bot.actions.common import channel_of, client_values, conversation_client, language_of, plural, say_money, session_scope
from bot.actions.handoffs import hand_off
from bot.nlp.general import definition_asked, general_question, question_about_question
from bot.nlp.identity import IN_FUTURE, NEEDS_YEAR, name_in, read_account_identifier, read_date_of_birth

logger = logging.getLogger(__name__)

# a question asked back at a verification question: its answer, then the question again
QUESTION_ANSWERS = {"why": "utter_why_we_ask", "safe": "utter_is_this_safe", "where": "utter_where_account_number"}
# the general answers given before verification (bot.nlp.general)
GENERAL_ANSWERS = {"plans": "utter_plans_general", "assistance": "utter_assistance_general"}


def _answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> Optional[Dict[str, Any]]:
    """ "why do you need that?" at a verification question: the reason, at no attempt cost."""
    asked = question_about_question(tracker.latest_message.get("text") or "")
    if asked is None or (asked == "where" and slot == "date_of_birth"):
        asked = "why" if asked == "where" else asked
    if asked is None:
        return None
    with session_scope() as session:
        dispatcher.utter_message(response=QUESTION_ANSWERS[asked], **client_values(conversation_client(tracker, session)))
    return {slot: None}


# why a date of birth was not taken, in the approved words
DATE_OF_BIRTH_PROBLEMS = {NEEDS_YEAR: "utter_date_of_birth_needs_year", IN_FUTURE: "utter_date_of_birth_in_future"}


def _previous_text(tracker: Tracker) -> Optional[str]:
    """What the patient said before their latest message."""
    said = [e.get("text") for e in tracker.events if e.get("event") == "user"]
    return said[-2] if len(said) >= 2 and said[-2] else None


def _asked_instead(tracker: Tracker) -> Optional[str]:
    """The account request a patient made instead of answering a
    verification question ("what's my balance"), or None.  An answer with
    digits in it is taken as an answer."""
    text = tracker.latest_message.get("text") or ""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if capabilities.is_resumable(intent) and not any(ch.isdigit() for ch in text) and ACCOUNT_WORDS.search(text):
        return intent
    return None


# words that make a message a question about the account, never a name
ACCOUNT_WORDS = re.compile(
    r"\b(balance|bill|billed|owe|pay|paid|payment|plan|insurance|statement|itemized|charge|charged|dispute|credit|refund|"
    r"assistance|help|eob|explanation|address|email|phone|number|how much|what|why|can i|i want|i need)\b", re.I)


class ValidateVerificationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_verification_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        if tracker.slots.get("identity") in ("verified", "locked"):
            return []  # done either way: the form ends
        return domain_slots

    def validate_date_of_birth(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if holds_redacted_card(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_card_number_not_taken")
            return {"date_of_birth": None}
        answered = _answer_question(dispatcher, tracker, "date_of_birth")
        if answered is not None:
            return answered
        request = _asked_instead(tracker)
        if request:
            dispatcher.utter_message(response="utter_verification_intro")
            return {"date_of_birth": None, "pending_request": request, "general_answered": False}
        day, problem = read_date_of_birth(slot_value)
        if problem and re.fullmatch(r"\W*(19|20)\d\d\W*", str(slot_value or "")):
            # "march 3" ... "1985": the year asked for, with the day said before
            before = _previous_text(tracker)
            day, problem = read_date_of_birth(f"{before} {str(slot_value).strip()}") if before else (None, problem)
        if problem:
            dispatcher.utter_message(response=DATE_OF_BIRTH_PROBLEMS.get(problem, "utter_explain_date_of_birth"))
            return {"date_of_birth": None}
        slots: Dict[Text, Any] = {"date_of_birth": day.isoformat()}
        # "my birthday is july twenty second 1966 and my name is linda nguyen": both answers at once
        name = name_in(tracker.latest_message.get("text") or "")
        if name and read_account_identifier(tracker.get_slot("account_identifier")) is None:
            slots["account_identifier"] = name
        return slots

    def validate_account_identifier(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if holds_redacted_card(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_card_number_not_taken")
            return {"account_identifier": None}
        answered = _answer_question(dispatcher, tracker, "account_identifier")
        if answered is not None:
            return answered
        request = _asked_instead(tracker)
        if request:
            # "what's my balance" is a question, not a name: it costs no attempt
            dispatcher.utter_message(response="utter_verification_intro")
            return {"account_identifier": None, "pending_request": request, "general_answered": False}
        if read_account_identifier(slot_value) is None:
            name = name_in(tracker.latest_message.get("text") or "")
            if name:
                # "... and my name is linda nguyen": the full name in a longer answer
                return {"account_identifier": name}
            dispatcher.utter_message(response="utter_explain_account_identifier")
            return {"account_identifier": None}
        return {"account_identifier": str(slot_value).strip()}

    async def get_validation_events(self, dispatcher, tracker, domain) -> List[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        slots = dict(tracker.slots)
        slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
        if slots.get("identity") != "unverified" or not slots.get("date_of_birth") or not slots.get("account_identifier"):
            return events
        return events + self._check(dispatcher, tracker, slots)

    def _check(self, dispatcher: CollectingDispatcher, tracker: Tracker, slots: Dict[Text, Any]) -> List[EventType]:
        answer = read_account_identifier(slots["account_identifier"])
        born, _ = read_date_of_birth(slots["date_of_birth"])
        if answer is None or born is None:  # not validated yet: the slot validators explain
            return []
        with session_scope() as session:
            client = conversation_client(tracker, session)
            # both limits, the conversation's and the patient's, are billing.identity's rule
            result = identity.check(
                session, client.id, born, **answer, conversation_id=tracker.sender_id, channel=channel_of(tracker),
                failed_before=int(slots.get("verify_attempts") or 0), max_attempts=client.policy.max_identity_attempts,
            )
            values = client_values(client)
            patient = session.get(Patient, result.match.patient_id) if result.verified else None
            record_language = patient.language if patient is not None else None
        # the decision is billing.identity's: here it becomes slots and words
        match = result.match
        logger.info("verification %s for conversation %s", result.outcome, tracker.sender_id)
        if result.verified:
            # the record's language speaks from this very message on, unless the patient chose (bot/actions/language.py)
            spoken = language.after_verification(tracker, record_language)
            said_in = {"language": e["value"] for e in spoken if e.get("name") == "language"}
            dispatcher.utter_message(response="utter_verified", patient_first_name=match.first_name, **said_in)
            return spoken + [
                SlotSet("identity", "verified"),
                SlotSet("patient_id", match.patient_id),
                SlotSet("patient_first_name", match.first_name),
                SlotSet("verify_attempts", float(result.attempts)),
            ]
        events = [SlotSet("verify_attempts", float(result.attempts)), SlotSet("date_of_birth", None), SlotSet("account_identifier", None)]
        if result.lock == "patient":
            # the patient's lock: said by action_after_verification, which offers a person
            return events + [SlotSet("identity", "locked"), SlotSet("verification_lock", "patient")]
        if result.lock == "conversation":
            # the locked message itself is said by action_after_verification
            return events + [SlotSet("identity", "locked")]
        remaining = result.attempts_left
        dispatcher.utter_message(
            response="utter_verification_no_match", attempts_left=remaining,
            attempts_word=plural(remaining, "try", "tries", language=language_of(tracker)), **values,
        )
        return events


class ActionHoldRequest(Action):
    """Remember what the patient asked for while we verify them."""

    def name(self) -> Text:
        return "action_hold_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = tracker.latest_message.get("text") or ""
        if holds_redacted_card(text):
            dispatcher.utter_message(response="utter_card_number_not_taken")
        # a question that needs no account is answered now; the account-specific answer is offered
        if general_question(text) == "capabilities":
            # "what can you help me with" asks for no account: what the assistant does, and no verification
            with session_scope() as session:
                dispatcher.utter_message(response="utter_greet", **client_values(conversation_client(tracker, session)))
            return [SlotSet("pending_request", None), SlotSet("general_answered", False), FollowupAction("action_listen")]
        answered = self._answer_general(dispatcher, tracker, text)
        return [SlotSet("pending_request", intent if capabilities.is_resumable(intent) else None), SlotSet("general_answered", answered)]

    @staticmethod
    def _answer_general(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> bool:
        term, offered = definition_asked(text), general_question(text)
        if term is None and offered is None:
            return False
        with session_scope() as session:
            client = conversation_client(tracker, session)
            values = client_values(client)
            if term is not None:
                dispatcher.utter_message(response=f"utter_define_{term}", **values)
            elif offered == "plans":
                plan = client.policy.payment_plan
                dispatcher.utter_message(
                    response=GENERAL_ANSWERS[offered], min_months=plan.min_months, max_months=plan.max_months,
                    min_monthly=say_money(plan.min_monthly_payment), min_balance=say_money(plan.min_balance), **values,
                )
            else:
                dispatcher.utter_message(response=GENERAL_ANSWERS[offered],
                                         discount_percent=client.policy.financial_assistance.discount_percent, **values)
        return True


class ActionAfterVerification(Action):
    """After the form: answer what was asked, or explain the lock."""

    def name(self) -> Text:
        return "action_after_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        state = tracker.get_slot("identity")
        done = [SlotSet("pending_request", None), SlotSet("general_answered", False)]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            if state == "locked":
                # a partner can verify the patient another way (and lift the patient's lock)
                locked = "utter_verification_patient_locked" if tracker.get_slot("verification_lock") == "patient" else "utter_verification_locked"
                dispatcher.utter_message(response=locked, **client_values(client))
                return done + hand_off(dispatcher, tracker, session, client, "verification_locked")
            if state != "verified":
                return done + [SlotSet("next_form", "none")]
            handler = capabilities.starter(tracker.get_slot("pending_request"))
            if handler is None:
                dispatcher.utter_message(response="utter_anything_else")
                return done + [SlotSet("next_form", "none")]
            events = handler(dispatcher, session, client, tracker)
        for event in events:
            if event.get("name") == "pending_confirmation" and isinstance(event.get("value"), dict):
                # the question was asked here: the yes that answers it follows this action
                event["value"]["asked_by"] = self.name()
        if not any(e.get("name") == "next_form" for e in events):
            events.append(SlotSet("next_form", "none"))
        return done + events

