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

The tracker a turn saved is kept by the process that saved it (up to
``TRACKER_CACHE_SIZE`` conversations), and the next ``retrieve`` of that
conversation (the next turn, the voice channel's look at the language
slot) returns it instead of reading, parsing and replaying every event of
the session again, when the stored session is exactly what was saved: its
count and its highest event id are what they were after that save (any
other writer, another Rasa server or the HTTP API, adds events and moves
the id), and the tracker was not changed since (a turn that failed after
changing it leaves more events than were saved).  A rewrite in place (a
split card number masked, connectors/text.py) calls ``forget_cached``.  A
tracker saved with more than one session in it is not kept.

On SQLite (``make run``) the tracker store's and the SQL broker's files are
written in WAL mode with ``synchronous=NORMAL``: a commit no longer waits
for the disk, and a process killed mid-turn loses nothing it committed
(only a crash of the machine itself can lose the last turns; the billing
database, where money is, keeps its own stricter settings, billing/db.py).
"""
from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY


RASA_SAVE = SQLTrackerStore.save  # Rasa's own, for comparison (tests/unit/test_rasa_stores.py)


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


RASA_RETRIEVE = SQLTrackerStore.retrieve
TRACKER_CACHE_SIZE = 2000
# (the stored session's event count, its highest event id): what a save left, and what a retrieve checks
Mark = Tuple[int, Optional[int]]


def _mark_query(table: str) -> sa.sql.elements.TextClause:
    """Rasa's _event_query (the events since the latest SessionStarted, or all when there is none) as one
    statement, counted: built once, not an ORM query a call."""
    return sa.text(
        f"SELECT count(e.id), max(e.id) FROM {table} e, "
        f"(SELECT max(timestamp) AS session_start FROM {table} WHERE sender_id = :sender AND type_name = :started) s "
        "WHERE e.sender_id = :sender AND (e.timestamp >= s.session_start OR s.session_start IS NULL)"
    )


_MARK_QUERIES: Dict[str, sa.sql.elements.TextClause] = {}


def _session_mark(self: SQLTrackerStore, session, sender_id: str) -> Mark:
    """The latest session's stored events: how many, and the highest id."""
    table = self.SQLEvent.__tablename__
    query = _MARK_QUERIES.get(table)
    if query is None:
        query = _MARK_QUERIES[table] = _mark_query(table)
    count, highest = session.execute(query, {"sender": sender_id, "started": SessionStarted.type_name}).one()
    return int(count or 0), highest


def _cache(self: SQLTrackerStore) -> "OrderedDict[str, Tuple[Mark, int, DialogueStateTracker]]":
    cache = self.__dict__.get("_saved_trackers")
    if cache is None:
        cache = self.__dict__["_saved_trackers"] = OrderedDict()
    return cache


def forget_cached(self: SQLTrackerStore, sender_id: str) -> None:
    """The stored events of this conversation were rewritten in place: the next retrieve reads them."""
    _cache(self).pop(sender_id, None)


async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """SQLTrackerStore.save: the events not yet stored, published, then stored, in one session."""
    cache = _cache(self)
    cache.pop(tracker.sender_id, None)
    with self.session_scope() as session:
        stored, _ = _session_mark(self, session, tracker.sender_id)
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
        mark = _session_mark(self, session, tracker.sender_id)
        session.commit()
    sessions = sum(isinstance(event, SessionStarted) for event in tracker.events)
    if mark[0] == len(tracker.events) and sessions <= 1:
        cache[tracker.sender_id] = (mark, len(tracker.events), tracker)
        while len(cache) > TRACKER_CACHE_SIZE:
            cache.popitem(last=False)


async def retrieve(self: SQLTrackerStore, sender_id: str) -> Optional[DialogueStateTracker]:
    """SQLTrackerStore.retrieve: the tracker this process saved last, while the store holds just that."""
    kept = _cache(self).get(sender_id)
    if kept is not None:
        mark, length, tracker = kept
        with self.session_scope() as session:
            now = _session_mark(self, session, sender_id)
        if now == mark and len(tracker.events) == length:
            _cache(self).move_to_end(sender_id)
            return tracker
        _cache(self).pop(sender_id, None)
    return await RASA_RETRIEVE(self, sender_id)


def _sqlite_commits_without_waiting(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def fast_sqlite(engine: sa.engine.Engine) -> None:
    """Every connection of ``engine`` from now on in WAL mode, synchronous=NORMAL (SQLite only)."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(engine, "connect", _sqlite_commits_without_waiting):
        sa.event.listen(engine, "connect", _sqlite_commits_without_waiting)
        engine.dispose()  # the connection the store's set-up opened is not kept without them


def _with_fast_sqlite(init):
    def wrapped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        fast_sqlite(self.engine)
    wrapped.__wrapped__ = init
    return wrapped


def install() -> None:
    SQLTrackerStore.save = save
    SQLTrackerStore.retrieve = retrieve
    SQLTrackerStore.forget_cached = forget_cached
    for store in (SQLTrackerStore, SQLEventBroker):
        if not hasattr(store.__init__, "__wrapped__"):
            store.__init__ = _with_fast_sqlite(store.__init__)
