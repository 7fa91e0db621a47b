"""bot/rasa_stores.py: a turn saved with one count and one write stores and
publishes exactly what Rasa's own SQLTrackerStore.save does, across turns
and a new session, and the SQL broker gets a turn's events together."""
from __future__ import annotations

import asyncio
import json

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot import rasa_stores

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, check_balance]
slots:
  verified: {type: bool, influence_conversation: false, mappings: [{type: custom}]}
""")

TURNS = [
    [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.1), ActionExecuted("action_listen", timestamp=1.2)],
    [UserUttered("hi", {"name": "greet", "confidence": 0.9}, timestamp=2.0), ActionExecuted("utter_greet", timestamp=2.1),
     BotUttered("Hello!", timestamp=2.2), ActionExecuted("action_listen", timestamp=2.3)],
    [UserUttered("whats my balance", {"name": "check_balance", "confidence": 0.8}, timestamp=3.0), SlotSet("verified", True, timestamp=3.1),
     BotUttered("Your balance is $412.50.", timestamp=3.2), ActionExecuted("action_listen", timestamp=3.3)],
    # a new session: Rasa counts only the events since its start
    [ActionExecuted("action_session_start", timestamp=9.0), SessionStarted(timestamp=9.1), ActionExecuted("action_listen", timestamp=9.2),
     UserUttered("hi again", {"name": "greet", "confidence": 0.9}, timestamp=9.3)],
]


def _stored(path, table):
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT sender_id, data FROM {table} ORDER BY id")).all()
    engine.dispose()
    return [(sender, json.loads(data)) for sender, data in rows]


def _play(tmp_path, name, save):
    broker = SQLEventBroker(db=str(tmp_path / f"{name}-events.db"))
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / f"{name}-tracker.db"), event_broker=broker)

    async def run():
        for turn in TURNS:
            tracker = await store.retrieve("patient-1") or store.init_tracker("patient-1")
            for event in turn:
                tracker.update(event)
            await save(store, tracker)

    asyncio.run(run())
    return _stored(tmp_path / f"{name}-tracker.db", "events"), _stored(tmp_path / f"{name}-events.db", "events")


def test_a_turn_is_stored_and_published_as_rasa_itself_does(tmp_path):
    rasa_stored, rasa_published = _play(tmp_path, "rasa", rasa_stores.RASA_SAVE)
    ours_stored, ours_published = _play(tmp_path, "ours", rasa_stores.save)
    every_event = [e.as_dict() for turn in TURNS for e in turn]
    assert [data for _, data in ours_stored] == every_event  # each event once, in order, none lost across the new session
    assert ours_stored == rasa_stored
    assert ours_published == rasa_published
    assert [data for _, data in ours_published] == [{"sender_id": "patient-1", **e} for e in every_event]


def test_the_sql_broker_takes_a_turns_events_in_one_transaction(tmp_path):
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    commits = []
    sa.event.listen(broker.engine, "commit", lambda conn: commits.append(1))
    rasa_stores.publish_all(broker, [{"sender_id": "p", "event": "user", "text": str(n)} for n in range(12)])
    assert len(commits) == 1
    assert [data["text"] for _, data in _stored(tmp_path / "events.db", "events")] == [str(n) for n in range(12)]


def test_rasa_sqlite_stores_commit_in_wal_mode_without_waiting_for_the_disk(tmp_path, monkeypatch):
    for cls, name in ((SQLTrackerStore, "save"), (SQLTrackerStore, "__init__"), (SQLEventBroker, "__init__")):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # put back after the test
    rasa_stores.install()
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    for engine in (store.engine, broker.engine):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            first = conn.connection.dbapi_connection
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection is first  # kept open, not opened again for each session
    tracker = store.init_tracker("patient-1")
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    assert [e.as_dict()["text"] for e in asyncio.run(store.retrieve("patient-1")).events if isinstance(e, UserUttered)] == ["hi"]



def test_a_retrieve_reads_the_latest_session_as_rasa_itself_does(tmp_path):
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    assert asyncio.run(rasa_stores.retrieve_latest_session(store, "patient-1", False)) is None  # nobody yet, as Rasa says
    seen = []

    async def run():
        for turn in TURNS:
            tracker = await rasa_stores.RASA_RETRIEVE(store, "patient-1", False) or store.init_tracker("patient-1")
            for event in turn:
                tracker.update(event)
            await rasa_stores.save(store, tracker)
            ours, rasas = (await rasa_stores.retrieve_latest_session(store, "patient-1", False),
                           await rasa_stores.RASA_RETRIEVE(store, "patient-1", False))
            assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
            assert ours.current_slot_values() == rasas.current_slot_values()
            seen.append(len(ours.events))
        everything = await rasa_stores.retrieve_latest_session(store, "patient-1", True)
        assert len(everything.events) == sum(len(turn) for turn in TURNS)

    asyncio.run(run())
    assert seen == [2, 6, 10, 3]  # from the latest SessionStarted on, as Rasa reads it; a new session starts again
