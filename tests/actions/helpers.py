"""Helpers of the action tests: rasa-sdk trackers and dispatchers, run
against a seeded billing database (the real billing core, nothing mocked)."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

DOMAIN = {
    "forms": {"verification_form": {"required_slots": ["date_of_birth", "account_identifier"]}},
    "slots": {
        "date_of_birth": {"type": "text", "mappings": [{"type": "from_text"}]},
        "account_identifier": {"type": "text", "mappings": [{"type": "from_text"}]},
    },
    "responses": {},
}


BASE_SLOTS = {"client_id": "riverside", "identity": "unverified", "verify_attempts": 0}


def tracker(slots=None, text="hi", intent="inform", events=None, entities=None, metadata=None, channel="rest", sender="test-conv", fresh=None):
    """A tracker whose latest user message set the ``fresh`` slots (by
    default the requested slot), as Rasa's slot extraction would."""
    all_slots = dict(BASE_SLOTS)
    all_slots.update(slots or {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [], "metadata": metadata or {}}
    evts = list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel, "metadata": metadata or {}}]
    for name in fresh if fresh is not None else [all_slots.get("requested_slot")]:
        if name:
            evts.append({"event": "slot", "name": name, "value": all_slots.get(name)})
    return Tracker(sender, all_slots, latest, evts, False, None, {"name": "verification_form"}, "action_listen")


def run(action, trk, domain=DOMAIN):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, domain))
    return dispatcher.messages, events


def said(messages):
    return [m.get("response") for m in messages]


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
