"""What every action needs: the conversation's client, the billing
database, the patient's account and cards, the request the patient made,
and the way amounts, dates and cards are said."""
from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from billing import accounts, db, payments
from billing import language as languages
from billing.clients import ClientInfo, UnknownClient, get_client
from billing.contact import display_phone
from billing.models import Account, Patient, PaymentMethod
from billing.money import format_money
from billing.vocabulary import Channel
from selfpay import settings

DEFAULT_CLIENT_ENV = "SELFPAY_DEFAULT_CLIENT"
DEFAULT_CLIENT = "riverside"
# a patient who wants the secure link, or a card on file
LINK_WORDS = re.compile(r"\blink\b|\bonline\b|\bweb ?page\b|\bnew card\b|\bdifferent card\b|\banother card\b"
                        r"|\benlace\b|\ben l[ií]nea\b|\botra tarjeta\b|\btarjeta nueva\b|\bnueva tarjeta\b", re.I)
CARD_WORDS = re.compile(r"\b(card|file|visa|mastercard|master card|amex|discover|tarjeta|la que tienen|archivo)\b", re.I)


def session_scope():
    return db.session_scope()


def _metadata(tracker: Tracker) -> Dict[str, Any]:
    meta = dict(tracker.get_slot("session_started_metadata") or {})
    meta.update((tracker.latest_message or {}).get("metadata") or {})
    return meta


def requested_client_id(tracker: Tracker, *, session_start: bool = False) -> str:
    """The client set for this session; at session start, the one the
    channel names; else the configured default."""
    from_channel = _metadata(tracker).get("client")
    from_slot = tracker.get_slot("client_id")
    first, second = (from_channel, from_slot) if session_start else (from_slot, from_channel)
    return first or second or settings.get(DEFAULT_CLIENT_ENV, DEFAULT_CLIENT)


def conversation_client(tracker: Tracker, session, *, session_start: bool = False) -> ClientInfo:
    client_id = requested_client_id(tracker, session_start=session_start)
    try:
        return get_client(session, client_id)
    except UnknownClient:
        return get_client(session, settings.get(DEFAULT_CLIENT_ENV, DEFAULT_CLIENT))


def client_values(client: ClientInfo) -> Dict[str, str]:
    """Values the approved scripts refer to as {client_name} and {client_phone}."""
    return {"client_id": client.id, "client_name": client.name, "client_phone": display_phone(client.phone_number)}


def patient_phone(tracker: Tracker) -> Optional[str]:
    """The number the patient is writing or calling from, when the channel knows it."""
    meta = _metadata(tracker)
    return meta.get("phone") or meta.get("from")


def channel_of(tracker: Tracker) -> str:
    """The conversation's channel (a billing.vocabulary.Channel value)."""
    return tracker.get_latest_input_channel() or Channel.REST.value


def is_verified(tracker: Tracker) -> bool:
    return tracker.get_slot("identity") == "verified" and bool(tracker.get_slot("patient_id"))


def say_money(amount: Decimal) -> str:
    return format_money(amount)


def language_of(tracker: Tracker) -> str:
    """The conversation's language, en or es (the rules: bot/actions/language.py)."""
    return languages.spoken(tracker.get_slot("language"))


def say_date(day: Optional[dt.date], language: str = "en") -> str:
    """'January 15, 2027' or, in Spanish, '15 de enero de 2027' (billing.language)."""
    return languages.say_date(day, language)


def plural(count: int, one: str, many: str, language: str = "en") -> str:
    return languages.counted(count, one, many, language)


# --- the patient's account, cards and request -------------------------------------

def patient_account(session, client: ClientInfo, tracker: Tracker) -> Optional[Account]:
    return accounts.payable_account(session, tracker.get_slot("patient_id"), client.id)


def patient_of(session, tracker: Tracker) -> Optional[Patient]:
    """The verified patient's record, or None."""
    patient_id = tracker.get_slot("patient_id")
    return session.get(Patient, patient_id) if patient_id else None


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def request_text(tracker: Tracker, intent: str) -> str:
    """What the patient said when they asked for ``intent`` ("" if not found)."""
    request = request_message(tracker, intent)
    return request["text"] if request else ""


def request_message(tracker: Tracker, intent: str) -> Optional[Dict[str, Any]]:
    """The patient's message that asked for ``intent``: the latest one, or
    the one held while they verified (just before action_hold_request)."""
    if latest_intent(tracker) == intent:
        return tracker.latest_message
    events = tracker.events
    for i in range(len(events) - 1, -1, -1):
        if events[i].get("event") == "action" and events[i].get("name") == "action_hold_request":
            for j in range(i - 1, -1, -1):
                if events[j].get("event") == "user":
                    parse = events[j].get("parse_data") or {}
                    if (parse.get("intent") or {}).get("name") == intent:
                        return {"text": events[j].get("text") or "", "entities": parse.get("entities") or []}
                    return None
            return None
    return None


def entity_in(message: Dict[str, Any], name: str) -> Any:
    return next((e.get("value") for e in message.get("entities") or [] if e.get("entity") == name), None)


def cards_on_file(account: Account) -> List[PaymentMethod]:
    return sorted(account.patient.payment_methods, key=lambda m: (not m.is_default, m.id))


def card_named_in(text: str, cards: List[PaymentMethod]) -> Optional[PaymentMethod]:
    """'my mastercard', 'the one ending 4444' -> that card on file."""
    lowered = text.lower().replace("master card", "mastercard")
    for card in cards:
        if card.last4 in lowered:
            return card
    named = [c for c in cards if c.brand and re.search(rf"\b{re.escape(c.brand.lower())}\b", lowered)]
    return named[0] if len(named) == 1 else None


def say_card(method: Optional[PaymentMethod], language: str = "en") -> str:
    return languages.phrase(payments.card_label(method.brand, method.last4) if method else "a secure payment link", language)


def card_from_slot(account: Account, value: Optional[str]) -> Optional[PaymentMethod]:
    """The card a method slot names ("card:<id>"), or None for a link."""
    if not value or not value.startswith("card:"):
        return None
    wanted = int(value.split(":", 1)[1])
    return next((c for c in account.patient.payment_methods if c.id == wanted), None)


def answer_required(validate):
    """A form slot validator that only judges answers: a slot our own
    action cleared (None) is not an answer, so nothing is explained."""
    name = validate.__name__[len("validate_"):]

    @functools.wraps(validate)
    def wrapper(self, slot_value, dispatcher, tracker, domain):
        if slot_value is None:
            return {name: None}
        return validate(self, slot_value, dispatcher, tracker, domain)

    return wrapper


# fn(dispatcher, tracker, asked_by) -> events or None: a message that answers the
# read-back just asked (bot.actions.confirm registers it; kept here so no cycle)
PENDING_ANSWERS: List[Callable[..., Optional[List[EventType]]]] = []


class StarterAction(Action, ABC):
    """Decides whether a capability's form runs for a verified patient:
    ``start(dispatcher, session, client, tracker)`` answers at once or
    sets the ``next_form`` slot that the rules branch on."""

    @staticmethod
    @abstractmethod
    def start(dispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
        ...

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        if not is_verified(tracker):
            return [SlotSet("next_form", "none")]
        for answer in PENDING_ANSWERS:
            # "wait, make that 75 instead" at the read-back is an answer to it, not a new request
            events = answer(dispatcher, tracker, self.name())
            if events is not None:
                return events + [SlotSet("next_form", "none")]
        with session_scope() as session:
            return self.start(dispatcher, session, conversation_client(tracker, session), tracker)
