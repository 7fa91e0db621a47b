"""What every action needs: the conversation's client, the billing
database, and the way amounts and dates are said."""
from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from billing import db
from billing.clients import ClientInfo, UnknownClient, get_client
from billing.contact import display_phone
from billing.money import format_money
from selfpay import settings

DEFAULT_CLIENT_ENV = "SELFPAY_DEFAULT_CLIENT"
DEFAULT_CLIENT = "riverside"


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
    return tracker.get_latest_input_channel() or "rest"


def is_verified(tracker: Tracker) -> bool:
    return tracker.get_slot("identity") == "verified" and bool(tracker.get_slot("patient_id"))


def say_money(amount: Decimal) -> str:
    return format_money(amount)


def say_date(day: Optional[dt.date]) -> str:
    if day is None:
        return "no date set"
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


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
        with session_scope() as session:
            return self.start(dispatcher, session, conversation_client(tracker, session), tracker)
