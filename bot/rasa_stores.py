"""Saving a turn in Rasa 3.6's SQL tracker store at the cost of one count
and one write (issue 16, faster turns; installed by bot/rasa_main.py).

Rasa's ``SQLTrackerStore.save``, with an event broker configured (the desk
is fed by one: desk/projection.py), first retrieves the whole conversation
session again (every event read, parsed and replayed through the domain)
only to learn how many events are stored, then counts them again with a
query of its own; and Rasa's SQL event broker (``make run``) commits once
per event, a dozen commits a turn.  Here the stored count is read once and
serves both: the events after it are the new ones, exactly as Rasa's
``TrackerEventDiffEngine`` takes them (the offset is the stored session's
length); they go to the broker first, as in Rasa, then into the store; and
the SQL broker takes a turn's events in one transaction.  What is stored
and what is published are unchanged.

The count is one prepared statement and a turn's events go in with one insert; a retrieve reads the
latest session with one prepared statement too (Rasa's ORM query was compiled, and each row made an
object, on every retrieve).
A channel waiting for the turn gets the slots it was saved with (selfpay/saved_slots.py).

On SQLite (``make run``) the tracker store's and the SQL broker's files are
kept open in a pool and written in WAL mode with ``synchronous=NORMAL``: a commit no longer waits
for the disk, and a process killed mid-turn loses nothing it committed
(only a crash of the machine itself can lose the last turns; the billing
database, where money is, keeps its own stricter settings, billing/db.py).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List

import sqlalchemy as sa

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from billing import db
from selfpay import saved_slots


RASA_SAVE = SQLTrackerStore.save  # Rasa's own, for comparison (tests/unit/test_rasa_stores.py)
RASA_RETRIEVE = SQLTrackerStore._retrieve


def publish_all(broker: EventBroker, bodies: List[Dict[str, Any]]) -> None:
    """A turn's events to the broker, in order; Rasa's SQL broker in one transaction."""
    if not bodies:
        return
    if isinstance(broker, SQLEventBroker):
        with broker.session_scope() as session:
            session.add_all([broker.SQLBrokerEvent(sender_id=body.get("sender_id"), data=json.dumps(body)) for body in bodies])
            session.commit()
        return
    for body in bodies:
        broker.publish(body)


# what is read of the latest session's events: (the selection, what follows the condition)
COUNT, EVENTS_IN_ORDER = ("count(e.id)", ""), ("e.data", " ORDER BY e.id")


def _session_query(table: str, selection: str, tail: str) -> sa.sql.elements.TextClause:
    """Rasa's _event_query (the events since the latest SessionStarted, or all when there is none) as one
    statement: built once, not an ORM query compiled and its rows made objects on every call."""
    return sa.text(
        f"SELECT {selection} FROM {table} e, "
        f"(SELECT max(timestamp) AS session_start FROM {table} WHERE sender_id = :sender AND type_name = :started) s "
        "WHERE e.sender_id = :sender AND (e.timestamp >= s.session_start OR s.session_start IS NULL)" + tail
    )


_QUERIES: Dict[tuple, sa.sql.elements.TextClause] = {}


def _latest_session(self: SQLTrackerStore, session, sender_id: str, read: tuple):
    key = (self.SQLEvent.__tablename__, *read)
    query = _QUERIES.get(key)
    if query is None:
        query = _QUERIES[key] = _session_query(*key)
    return session.execute(query, {"sender": sender_id, "started": SessionStarted.type_name})


def _stored_count(self: SQLTrackerStore, session, sender_id: str) -> int:
    """How many events of the latest session are stored (what Rasa's _additional_events counts)."""
    return int(_latest_session(self, session, sender_id, COUNT).scalar() or 0)


async def retrieve_latest_session(self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool):
    """SQLTrackerStore._retrieve: the latest session's events by one prepared statement (all sessions: Rasa's own)."""
    if fetch_events_from_all_sessions:
        return await RASA_RETRIEVE(self, sender_id, fetch_events_from_all_sessions)
    with self.session_scope() as session:
        events = [json.loads(data) for (data,) in _latest_session(self, session, sender_id, EVENTS_IN_ORDER)]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """SQLTrackerStore.save: the events not yet stored, published, then stored, in one session."""
    with self.session_scope() as session:
        stored = _stored_count(self, session, tracker.sender_id)
        new_events = list(tracker.events)[stored:]  # as Rasa's _additional_events takes them
        if self.event_broker is not None:
            publish_all(self.event_broker, [{"sender_id": tracker.sender_id, **event.as_dict()} for event in new_events])
        rows = []
        for event in new_events:
            data = event.as_dict()
            rows.append({
                "sender_id": tracker.sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY), "action_name": data.get("name"),
                "data": json.dumps(data),
            })
        if rows:
            session.execute(sa.insert(self.SQLEvent.__table__), rows)  # one statement for the turn's events, in order
        session.commit()
    saved_slots.saved(tracker.sender_id, tracker.current_slot_values)  # for a channel waiting for this turn


def _sqlite_commits_without_waiting(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def fast_sqlite(store) -> None:
    """A Rasa SQLite store (tracker store, SQL broker) from now on on pooled connections in WAL mode with
    synchronous=NORMAL.  SQLAlchemy 1.4 opens and closes a file database's connection for every session;
    closing the last one checkpoints the write-ahead log and sets the pragmas again on the next, a few
    milliseconds of every save and retrieve.  SQLite only; PostgreSQL keeps Rasa's own pool."""
    engine = store.engine
    if engine.dialect.name != "sqlite" or isinstance(engine.pool, sa.pool.QueuePool):
        return
    pooled = sa.create_engine(engine.url, connect_args={"check_same_thread": False}, **db.SQLITE_FILE_POOL)
    sa.event.listen(pooled, "connect", _sqlite_commits_without_waiting)
    engine.dispose()  # the connection the store's set-up opened is not kept
    store.engine = pooled
    store.sessionmaker.configure(bind=pooled)


def _with_fast_sqlite(init):
    def wrapped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        fast_sqlite(self)
    wrapped.__wrapped__ = init
    return wrapped


def install() -> None:
    SQLTrackerStore.save = save
    SQLTrackerStore._retrieve = retrieve_latest_session
    for store in (SQLTrackerStore, SQLEventBroker):
        if not hasattr(store.__init__, "__wrapped__"):
            store.__init__ = _with_fast_sqlite(store.__init__)
