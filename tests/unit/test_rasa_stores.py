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


def _installed(monkeypatch):
    for cls, name in ((SQLTrackerStore, "save"), (SQLTrackerStore, "retrieve"), (SQLTrackerStore, "__init__"),
                      (SQLEventBroker, "__init__")):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # put back after the test
    monkeypatch.setattr(SQLTrackerStore, "forget_cached", None, raising=False)
    rasa_stores.install()


def _as_rasa_reads_it(store, sender="patient-1"):
    tracker = asyncio.run(rasa_stores.RASA_RETRIEVE(store, sender))
    return tracker.current_state() if tracker is not None else None


def test_the_next_turn_gets_the_tracker_it_saved_while_the_store_holds_just_that(tmp_path, monkeypatch):
    _installed(monkeypatch)
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    kept = []

    async def run():
        for turn in TURNS:
            tracker = await store.retrieve("patient-1") or store.init_tracker("patient-1")
            kept.append(tracker)
            for event in turn:
                tracker.update(event)
            await store.save(tracker)
        return await store.retrieve("patient-1")

    last = asyncio.run(run())
    assert kept[2] is kept[1]            # the tracker saved by turn 2, not read and replayed again
    assert kept[3] is kept[1]
    assert last is not kept[3]           # turn 4 began a new session in the same tracker: read as Rasa reads it
    assert last.current_state() == _as_rasa_reads_it(store)
    assert [e.as_dict() for e in last.events] == [e.as_dict() for e in TURNS[3][1:]]  # Rasa's session: from SessionStarted on


def _two_turns(store):
    async def run():
        tracker = store.init_tracker("patient-1")
        for turn in TURNS[:2]:
            for event in turn:
                tracker.update(event)
            await store.save(tracker)
        return tracker
    return asyncio.run(run())


def test_what_another_server_stored_since_is_read(tmp_path, monkeypatch):
    _installed(monkeypatch)
    mine = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    theirs = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    _two_turns(mine)

    async def other_server_turn():
        tracker = await theirs.retrieve("patient-1")
        for event in TURNS[2]:
            tracker.update(event)
        await theirs.save(tracker)
        return await mine.retrieve("patient-1")

    seen = asyncio.run(other_server_turn())
    assert seen.get_slot("verified") is True
    assert seen.current_state() == _as_rasa_reads_it(mine)


def test_a_tracker_changed_and_not_saved_is_not_given_out(tmp_path, monkeypatch):
    _installed(monkeypatch)
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))
    tracker = _two_turns(store)
    tracker.update(SlotSet("verified", True, timestamp=2.5))  # a turn that failed before its save
    again = asyncio.run(store.retrieve("patient-1"))
    assert again is not tracker
    assert again.get_slot("verified") is None
    assert again.current_state() == _as_rasa_reads_it(store)


def test_events_rewritten_in_place_are_read_again(tmp_path, monkeypatch):
    from connectors.text import _mask_sql

    _installed(monkeypatch)
    store = SQLTrackerStore(DOMAIN, db=str(tmp_path / "tracker.db"))

    async def run():
        tracker = store.init_tracker("patient-1")
        for event in TURNS[0] + [UserUttered("4242 4242", {"name": "inform", "confidence": 0.9}, timestamp=2.0),
                                 ActionExecuted("action_listen", timestamp=2.1)]:
            tracker.update(event)
        await store.save(tracker)
        assert _mask_sql(store, "patient-1", ["42424242"], "4242") == 1
        return await store.retrieve("patient-1")

    seen = asyncio.run(run())
    assert seen.latest_message.text == "[part of card ending 4242]"
