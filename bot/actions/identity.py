"""Verification: a form for date of birth and (account number or full
name), checked by billing.identity within the conversation's client."""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import clock, identity
from billing.redaction import holds_redacted_card
from bot.actions.balance import tell_balance
from bot.actions.handoffs import hand_off
from bot.actions.common import channel_of, client_values, conversation_client, plural, session_scope
from bot.actions.coverage import tell_coverage
from bot.actions.payments import start_payment, tell_declined
from bot.actions.plans import start_plan, start_plan_change
from bot.actions.insurance import send_statement, start_update_contact, start_update_insurance
from bot.actions.disputes import start_assistance, start_dispute, tell_credit
from bot.nlp.dates import find_dates, parse_date_of_birth
from bot.nlp.scan import scan

logger = logging.getLogger(__name__)

# intents whose answer needs a verified patient, and the function that
# answers each after verification: fn(dispatcher, session, client, tracker)
# -> events; a function may set `next_form` to go on with a form
RESUMABLE = {
    "check_balance": lambda d, s, c, t: tell_balance(d, s, c, t.get_slot("patient_id")) or [],
    "make_payment": start_payment,
    "payment_plan": start_plan,
    "change_payment_plan": start_plan_change,
    "payment_declined": lambda d, s, c, t: tell_declined(d, s, c, t, "action_after_verification"),
    "insurance_question": tell_coverage,
    "explain_eob": tell_coverage,
    "dispute_charge": start_dispute,
    "financial_assistance": start_assistance,
    "credit_balance": lambda d, s, c, t: tell_credit(d, s, c, t, "action_after_verification"),
    "update_insurance": start_update_insurance,
    "update_contact_info": start_update_contact,
    "itemized_statement": lambda d, s, c, t: send_statement(d, s, c, t, "action_after_verification"),
}


def read_date_of_birth(value: Any, today: Optional[dt.date] = None) -> tuple[Optional[dt.date], Optional[str]]:
    """(date, None) or (None, the response that explains what was wrong)."""
    today = today or clock.today()
    text = str(value or "").strip()
    if not text:
        return None, "utter_explain_date_of_birth"
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = parse_date_of_birth(text, today)
    if day is None:
        if any(not f.has_year for f in find_dates(text, today, birth=False)):
            return None, "utter_date_of_birth_needs_year"
        return None, "utter_explain_date_of_birth"
    if day > today:
        return None, "utter_date_of_birth_in_future"
    if day.year < today.year - 125:
        return None, "utter_explain_date_of_birth"
    return day, None


def read_account_identifier(value: Any) -> Optional[dict]:
    """{'account_number': '40012345'} or {'full_name': 'Maria Garcia'}, or None."""
    text = str(value or "").strip()
    if not text or len(text) > 200:
        return None
    numbers = [f.value for f in scan(text) if f.label == "account_number"]
    if numbers:
        return {"account_number": numbers[0]}
    digits = "".join(ch for ch in text if ch.isdigit())
    if 6 <= len(digits) <= 12 and re.fullmatch(r"[\d\s.#-]+", text):  # 4001-2345, 4001.2345
        return {"account_number": digits}
    name_words = [w for w in text.replace(",", " ").split() if w.lower() not in _NAME_FILLERS]
    if 2 <= len(name_words) <= 5 and all(w.replace("-", "").replace("'", "").replace(".", "").isalpha() for w in name_words):
        return {"full_name": " ".join(name_words)}
    return None


def _asked_instead(tracker: Tracker) -> Optional[str]:
    """The account request a patient made instead of answering a
    verification question ("what's my balance"), or None.  An answer with
    digits in it is taken as an answer."""
    text = tracker.latest_message.get("text") or ""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent in RESUMABLE and not any(ch.isdigit() for ch in text) and ACCOUNT_WORDS.search(text):
        return intent
    return None


# words that make a message a question about the account, never a name
ACCOUNT_WORDS = re.compile(
    r"\b(balance|bill|billed|owe|pay|paid|payment|plan|insurance|statement|itemized|charge|charged|dispute|credit|refund|"
    r"assistance|help|eob|explanation|address|email|phone|number|how much|what|why|can i|i want|i need)\b", re.I)


_NAME_FILLERS = {"my", "name", "is", "it's", "its", "im", "i'm", "this", "the", "patient", "full", "patients", "name's", "and", "hi", "hello", "yes", "it", "here", "speaking"}


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
        request = _asked_instead(tracker)
        if request:
            dispatcher.utter_message(response="utter_verification_intro")
            return {"date_of_birth": None, "pending_request": request}
        day, problem = read_date_of_birth(slot_value)
        if problem:
            dispatcher.utter_message(response=problem)
            return {"date_of_birth": None}
        return {"date_of_birth": day.isoformat()}

    def validate_account_identifier(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if holds_redacted_card(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_card_number_not_taken")
            return {"account_identifier": None}
        request = _asked_instead(tracker)
        if request:
            # "what's my balance" is a question, not a name: it costs no attempt
            dispatcher.utter_message(response="utter_verification_intro")
            return {"account_identifier": None, "pending_request": request}
        if read_account_identifier(slot_value) is None:
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
        match = result.match
        logger.info("verification %s for conversation %s", result.outcome, tracker.sender_id)
        if match:
            dispatcher.utter_message(response="utter_verified", patient_first_name=match.first_name)
            return [
                SlotSet("identity", "verified"),
                SlotSet("patient_id", match.patient_id),
                SlotSet("patient_first_name", match.first_name),
                SlotSet("verify_attempts", float(result.attempts)),
            ]
        events = [SlotSet("verify_attempts", float(result.attempts)), SlotSet("date_of_birth", None), SlotSet("account_identifier", None)]
        if result.outcome == "patient_locked":
            # the patient's lock: said by action_after_verification, which offers a person
            return events + [SlotSet("identity", "locked"), SlotSet("verification_lock", "patient")]
        if result.outcome == "locked":
            # the locked message itself is said by action_after_verification
            return events + [SlotSet("identity", "locked")]
        remaining = result.attempts_left
        dispatcher.utter_message(
            response="utter_verification_no_match", attempts_left=remaining,
            attempts_word=plural(remaining, "try", "tries"), **values,
        )
        return events


class ActionHoldRequest(Action):
    """Remember what the patient asked for while we verify them."""

    def name(self) -> Text:
        return "action_hold_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if holds_redacted_card(tracker.latest_message.get("text")):
            dispatcher.utter_message(response="utter_card_number_not_taken")
        return [SlotSet("pending_request", intent if intent in RESUMABLE else None)]


class ActionAfterVerification(Action):
    """After the form: answer what was asked, or explain the lock."""

    def name(self) -> Text:
        return "action_after_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        state = tracker.get_slot("identity")
        done = [SlotSet("pending_request", None)]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            if state == "locked":
                # a partner can verify the patient another way (and lift the patient's lock)
                locked = "utter_verification_patient_locked" if tracker.get_slot("verification_lock") == "patient" else "utter_verification_locked"
                dispatcher.utter_message(response=locked, **client_values(client))
                return done + hand_off(dispatcher, tracker, session, client, "verification_locked")
            if state != "verified":
                return done + [SlotSet("next_form", "none")]
            handler = RESUMABLE.get(tracker.get_slot("pending_request"))
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

