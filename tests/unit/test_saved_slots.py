"""selfpay/saved_slots.py: the voice channel speaks in the language the turn was saved with,
taken from the tracker store's save once, for the turn it waited for only."""
from __future__ import annotations

import asyncio

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered

from bot import rasa_stores
from selfpay import saved_slots

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet]
slots:
  language: {type: text, influence_conversation: false, mappings: [{type: custom}]}
""")


def test_a_save_is_taken_once_by_the_channel_that_waited_for_it():
    saved_slots.expect("call-1")
    saved_slots.saved("call-1", lambda: {"language": "es"})
    saved_slots.saved("call-2", lambda: {"language": "en"})  # nobody waits for call-2: not kept
    assert saved_slots.take("call-1") == {"language": "es"}
    assert saved_slots.take("call-1") is None
    assert saved_slots.take("call-2") is None


def test_waiting_again_forgets_the_earlier_save():
    saved_slots.expect("call-3")
    saved_slots.saved("call-3", lambda: {"language": "es"})
    saved_slots.expect("call-3")  # the next turn: the last turn's save is not this one's
    assert saved_slots.take("call-3") is None


def test_calls_never_taken_are_not_kept_for_ever(monkeypatch):
    monkeypatch.setattr(saved_slots, "MOST_EXPECTED", 3)
    for n in range(5):
        saved_slots.expect(f"cut-off-{n}")
        saved_slots.saved(f"cut-off-{n}", lambda: {"language": "en"})
    assert [saved_slots.take(f"cut-off-{n}") for n in range(5)] == [None, None, {"language": "en"}, {"language": "en"}, {"language": "en"}]


def test_the_tracker_stores_save_leaves_the_slots_it_saved(tmp_path):
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    tracker = store.init_tracker("call-4")
    tracker.update(UserUttered("hola", {"name": "greet", "confidence": 0.9}))
    tracker.update(SlotSet("language", "es"))
    saved_slots.expect("call-4")
    asyncio.run(rasa_stores.save(store, tracker))
    assert saved_slots.take("call-4")["language"] == "es"
    assert asyncio.run(store.retrieve("call-4")).get_slot("language") == "es"  # the same as the store holds
