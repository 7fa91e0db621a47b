"""The desk's own conversation tables, fed by Rasa's event broker
(DESIGN.md, "Scale-out"): every event Rasa publishes is projected, card
numbers out, into ``desk_conversation_events`` and summarised per
conversation in ``desk_conversations`` (billing/models.py).  The listing,
the review's KPIs and QA flags, a handoff's transcript, outreach replies
and web-chat polling read those tables (desk/transcripts.py), never the
tracker store's.

Two sources, chosen by ``EVENT_BROKER_TYPE`` (endpoints.yml):

* ``SQL`` (``make run``): Rasa's SQL event broker writes its own
  ``events`` table (``EVENT_BROKER_URL``, var/events.db).  The feed reads
  it by ``id`` after a high-water mark kept in ``desk_projection_marks``
  and committed in the same transaction as what it projected, so a crash
  replays at most the batch that was not committed.
* ``pika`` (``make cluster``): RabbitMQ, the durable queue Rasa declares
  (``EVENT_BROKER_QUEUE``, by default Rasa's ``rasa_core_events``,
  bound to its fanout exchange), persistent
  messages, acknowledged only after the projection committed: a feed
  killed before its ack gets the messages again.

Either way delivery is at least once, and projecting is idempotent: an
event's identity (conversation, type, timestamp, and the message id of a
patient's turn or the name of an action or slot) is unique, so a
replayed event is skipped.

Card numbers: the broker publishes an event as Rasa handled it, before
connectors/text.py masks the earlier part of a number split over two
messages in the tracker store.  So on the way in every text passes
billing.redaction, and a patient line that completes a split number
(both halves raw, or the channel's ``[card ending NNNN]`` after a line
that ended in digits) masks the earlier part in what was already kept.

``python -m desk.projection`` runs the feed (bot/serve.py starts it);
``caught_up()`` lets a reader (and a test) have everything published so
far projected first."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import clock, db
from billing.models import DeskConversation, DeskConversationEvent, DeskProjectionMark
from billing.redaction import MARKER_PREFIX, mask_fragments_in, redact_card_numbers, redact_message
from desk import conversation_facts
from selfpay import settings

logger = logging.getLogger(__name__)

BATCH = 500
# a number split over a patient's lines sent within this many seconds (billing.redaction.redact_lines)
SPLIT_WITHIN_SECONDS = 120.0


# --- what one event becomes --------------------------------------------------------

def identity(conversation_id: str, event: Dict[str, Any]) -> str:
    """What makes an event this event, whatever delivered it and however
    its text was masked since: a replay has the same identity."""
    kind = event.get("event")
    key = [conversation_id, kind, repr(float(event.get("timestamp") or 0))]
    if kind == "user":
        key.append(event.get("message_id") or "")
    elif kind in ("action", "slot", "active_loop", "followup", "reminder", "cancel_reminder"):
        key.append(str(event.get("name") or ""))
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


@lru_cache(maxsize=65536)
def _text_redacted(text: str) -> str:
    """One text with its card numbers out; remembered, for a turn's events repeat most of their texts
    (names, intents, the metadata of every line) and the feed redacts them inside its write transaction."""
    return redact_card_numbers(text)[0]


def _redacted(value: Any) -> Any:
    """Any JSON value with every card number out (whole ones, in one text or number)."""
    if isinstance(value, str):
        return _text_redacted(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        safe = _text_redacted(str(value))
        return value if safe == str(value) else safe
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def _outreach_attempt(event: Dict[str, Any]) -> Optional[int]:
    if event.get("event") != "user":
        return None
    attempt = (((event.get("metadata") or {}).get("outreach")) or {}).get("attempt")
    return attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None


def _previous_patient_line(session: Session, conversation_id: str) -> Optional[DeskConversationEvent]:
    return session.execute(
        select(DeskConversationEvent).where(DeskConversationEvent.conversation_id == conversation_id,
                                            DeskConversationEvent.type == "user")
        .order_by(DeskConversationEvent.timestamp.desc(), DeskConversationEvent.id.desc()).limit(1)).scalars().first()


def _split_number_parts(session: Session, conversation_id: str, event: Dict[str, Any]) -> Tuple[List[str], str, Dict[str, Any]]:
    """(earlier parts of a card number this patient line completes, its last
    four digits, the line with its own part out)."""
    said = event.get("text")
    if event.get("event") != "user" or not isinstance(said, str) or said.startswith("/"):
        return [], "", event
    before = _previous_patient_line(session, conversation_id)
    if before is None or float(event.get("timestamp") or 0) - before.timestamp > SPLIT_WITHIN_SECONDS:
        return [], "", event
    trailing = redact_message(str(before.data.get("text") or "")).trailing
    if not trailing:
        return [], "", event
    joined = redact_message(said, trailing, origin=1)
    if joined.earlier:  # both halves raw (the channel did not join them)
        whole = {**event, "text": joined.text}
        if isinstance(whole.get("parse_data"), dict):
            whole["parse_data"] = {**whole["parse_data"], "text": joined.text}
        own = _own_part(said, joined.text)
        return list(joined.earlier), joined.last4 or "", (mask_fragments_in(whole, own, joined.last4 or "") if own else whole)
    stripped = said.strip()
    if stripped.startswith(MARKER_PREFIX) and _joinable(trailing):
        # the channel joined it: this line starts with the card, the earlier part is still here
        last4 = stripped[len(MARKER_PREFIX):len(MARKER_PREFIX) + 4]
        return ["".join(g.digits for g in trailing)], last4, event
    return [], "", event


def _own_part(said: str, safe: str) -> List[str]:
    """The digits of this line's part of a split number (what the marker replaced)."""
    tail = safe.split("]", 1)[1] if safe.startswith(MARKER_PREFIX) and "]" in safe else None
    if tail is None or not said.endswith(tail):
        return []
    digits = "".join(c for c in said[:len(said) - len(tail)] if c.isdigit())
    return [digits] if digits else []


def _joinable(trailing: Sequence[Any]) -> bool:
    """Whether the channel could have joined these digit groups to the next
    line: a lone written group of 5 to 11 digits (a ZIP, a date, an account,
    a phone number) is never joined (billing.redaction)."""
    return not (len(trailing) == 1 and not trailing[0].spoken and 5 <= len(trailing[0].digits) <= 11)


def _mask_earlier(session: Session, conversation_id: str, parts: List[str], last4: str) -> int:
    """Mask the parts in what was kept, from the latest patient line that holds one on."""
    kept = session.execute(select(DeskConversationEvent).where(DeskConversationEvent.conversation_id == conversation_id)
                           .order_by(DeskConversationEvent.timestamp, DeskConversationEvent.id)).scalars().all()
    start = None
    for k in range(len(kept) - 1, -1, -1):
        if kept[k].type == "user" and mask_fragments_in(kept[k].data.get("text"), parts, last4) != kept[k].data.get("text"):
            start = k
            break
    if start is None:
        return 0
    changed = 0
    for row in kept[start:]:
        masked = mask_fragments_in(row.data, parts, last4)
        if masked != row.data:
            row.data = masked
            changed += 1
    return changed


def _normalised(conversation_id: Any, event: Any) -> Optional[Dict[str, Any]]:
    """The event as kept (no ``sender_id``, a float timestamp), or None when it is not one."""
    if not isinstance(event, dict) or not isinstance(event.get("event"), str) or not isinstance(conversation_id, str) \
            or not conversation_id:
        return None
    event = {k: v for k, v in event.items() if k != "sender_id"}
    try:
        event["timestamp"] = float(event.get("timestamp") or 0)
    except (TypeError, ValueError):
        event["timestamp"] = 0.0
    return event


IDENTITIES_PER_QUERY = 400  # well under SQLite's bound-parameter limit


def _kept_identities(session: Session, keys: List[str]) -> set:
    kept = set()
    for start in range(0, len(keys), IDENTITIES_PER_QUERY):
        chunk = keys[start:start + IDENTITIES_PER_QUERY]
        kept.update(session.execute(select(DeskConversationEvent.identity)
                                    .where(DeskConversationEvent.identity.in_(chunk))).scalars())
    return kept


def _insert(session: Session, rows: List[Dict[str, Any]]) -> None:
    """Rows not yet written, in one statement (executemany), then forgotten."""
    if rows:
        session.execute(DeskConversationEvent.__table__.insert(), rows)
        rows.clear()


def project(session: Session, conversation_id: str, event: Dict[str, Any]) -> bool:
    """Keep one event of a conversation (card numbers out); False when it
    was kept already (a replay) or is not an event."""
    return _project_all(session, [(conversation_id, event)]) == {conversation_id: 1}


def _project_all(session: Session, published: Iterable[Tuple[Any, Any]]) -> Dict[str, int]:
    """Keep each (conversation, event) not kept yet, in order, card numbers out: whether each is new is
    asked once for all of them, and they are written together, except that what came before a patient's
    line is written before it (the line may complete a card number split over two: _split_number_parts
    reads the one before it); how many were new per conversation."""
    events = [(cid, e) for cid, e in ((cid, _normalised(cid, e)) for cid, e in published) if e is not None]
    keyed = [(cid, event, identity(cid, event)) for cid, event in events]
    kept = _kept_identities(session, [key for _, _, key in keyed])
    pending: List[Dict[str, Any]] = []
    new: Dict[str, int] = {}
    for conversation_id, event, key in keyed:
        if key in kept:
            continue
        kept.add(key)
        if event["event"] == "user":
            _insert(session, pending)
            parts, last4, event = _split_number_parts(session, conversation_id, event)
            if parts:
                _mask_earlier(session, conversation_id, parts, last4)
                session.flush()
        pending.append({"conversation_id": conversation_id[:255], "identity": key, "type": event["event"][:32],
                        "timestamp": event["timestamp"], "data": _redacted(event), "outreach_attempt": _outreach_attempt(event)})
        new[conversation_id] = new.get(conversation_id, 0) + 1
    _insert(session, pending)
    return new


def summarise(session: Session, conversation_id: str) -> None:
    """The conversation's row, from every event kept of it."""
    events = conversation_events(session, conversation_id)
    if not events:
        return
    facts = conversation_facts.facts(conversation_id, events)
    row = session.get(DeskConversation, conversation_id) or DeskConversation(id=conversation_id)
    language = None
    for event in events:
        # the language the conversation is held in: the bot's language slot (a detected or chosen
        # language), else what a channel said in a message's metadata
        if event.get("event") == "user":
            language = (event.get("metadata") or {}).get("language") or language
        elif event.get("event") == "slot" and event.get("name") == "language" and event.get("value"):
            language = event.get("value")
    row.client_id = (facts.client or None) and str(facts.client)[:40]
    row.channel = (facts.channel or None) and str(facts.channel)[:16]
    row.language = (language or None) and str(language)[:8]
    row.started_at, row.last_at = facts.started or 0.0, facts.last or 0.0
    row.events = len(events)
    row.patient_turns = facts.patient_turns
    row.intents = list(facts.intents)
    row.actions = sorted({a for a in facts.actions if a})
    row.paused = facts.paused
    row.verified_at = facts.verified_at
    row.detail_before_verification = facts.detail_before_verification
    row.max_fallbacks_in_a_row = facts.max_fallbacks_in_a_row
    row.opt_out_at = facts.opt_out_at
    row.opt_out_honoured = conversation_facts.opt_out_honoured(events)
    row.messages_after_opt_out = facts.messages_after_opt_out
    session.add(row)


def conversation_events(session: Session, conversation_id: str) -> List[Dict[str, Any]]:
    rows = session.execute(select(DeskConversationEvent).where(DeskConversationEvent.conversation_id == conversation_id)
                           .order_by(DeskConversationEvent.timestamp, DeskConversationEvent.id)).scalars().all()
    return [dict(row.data) for row in rows]


def project_batch(session: Session, published: Iterable[Dict[str, Any]]) -> int:
    """Project what the broker published (Rasa's body: the event plus its
    ``sender_id``) and summarise the conversations it touched; how many were new."""
    new = _project_all(session, ((body.get("sender_id"), body) if isinstance(body, dict) else (None, None) for body in published))
    for conversation_id in sorted(new):
        summarise(session, conversation_id)
    return sum(new.values())


def _parsed(data: Optional[str]) -> Optional[Dict[str, Any]]:
    try:
        body = json.loads(data) if data else None
    except ValueError:
        logger.warning("the event broker held an event that is not JSON; skipped")
        return None
    return body if isinstance(body, dict) else None


# --- source 1: Rasa's SQL event broker ----------------------------------------------

_engines: Dict[str, Engine] = {}


def _plain_engine(url: str) -> Engine:
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(url, future=True, **({"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}))
        _engines[url] = engine
    return engine


def _source_name(url: str) -> str:
    """The mark's key: the broker database, without a password."""
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path, "", ""))[:255]


def _broker_rows(url: str, after: int, limit: int) -> List[Any]:
    try:
        with _plain_engine(url).connect() as connection:
            return connection.execute(text("SELECT id, sender_id, data FROM events WHERE id > :after ORDER BY id LIMIT :limit"),
                                      {"after": after, "limit": limit}).all()
    except Exception as exc:  # no broker table yet: Rasa has published nothing
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return []
        raise


def _broker_last_id(url: str) -> int:
    try:
        with _plain_engine(url).connect() as connection:
            return connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM events")).scalar_one()
    except Exception as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return 0
        raise


def mark(source: str, database_url: Optional[str] = None) -> int:
    """The source's high-water mark, read without a transaction of the
    billing database's own (whose SQLite sessions take the write lock at
    BEGIN): a desk read that finds nothing new locks nothing."""
    engine = _reader(database_url or db.database_url())
    with engine.connect() as connection:
        found = connection.execute(select(DeskProjectionMark.position).where(DeskProjectionMark.source == source)).first()
    return found[0] if found else 0


def _reader(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return db.get_engine(url)
    return _plain_engine(url)  # a plain engine: SQLite's WAL lets it read beside a writer


def sql_pass(broker_url: Optional[str] = None, database_url: Optional[str] = None, limit: int = BATCH) -> int:
    """One batch from the SQL broker after the mark, committed with the new
    mark (the mark's row locked meanwhile); how many broker rows were read."""
    broker_url = broker_url or settings.get("EVENT_BROKER_URL")
    source = _source_name(broker_url)
    # the batch is read and parsed before the billing database's transaction (on SQLite its write lock,
    # which the action servers wait for), then projected only if the mark is still where it was read
    position = mark(source, database_url)
    rows = _broker_rows(broker_url, position, limit)
    if not rows:
        return 0
    bodies = [body for body in (_with_sender(_parsed(r.data), r.sender_id) for r in rows) if body]
    with db.session_scope(database_url) as session:
        row = session.execute(select(DeskProjectionMark).where(DeskProjectionMark.source == source).with_for_update()).scalars().first()
        if row is None:
            row = DeskProjectionMark(source=source, position=0)
            session.add(row)
        if row.position != position:
            return 0  # another feed projected past it meanwhile: the next pass reads on from its mark
        project_batch(session, bodies)
        row.position = rows[-1].id
        row.updated_at = clock.utcnow()
        return len(rows)


def _with_sender(body: Optional[Dict[str, Any]], sender_id: Optional[str]) -> Optional[Dict[str, Any]]:
    if body is not None:
        body.setdefault("sender_id", sender_id)
    return body


def sql_behind(broker_url: Optional[str] = None, database_url: Optional[str] = None) -> bool:
    """Whether the SQL broker holds events past the mark (two reads, no lock)."""
    broker_url = broker_url or settings.get("EVENT_BROKER_URL")
    return _broker_last_id(broker_url) > mark(_source_name(broker_url), database_url)


def drain_sql(broker_url: Optional[str] = None, database_url: Optional[str] = None) -> int:
    """Every event the SQL broker holds past the mark, projected; how many broker rows were read."""
    read = 0
    while sql_behind(broker_url, database_url):
        try:
            read += sql_pass(broker_url, database_url)
        except IntegrityError:  # another feed kept the same batch or mark first: read again after it
            logger.info("another feed projected the same events; reading on from its mark")
    return read


# --- source 2: RabbitMQ (Rasa's PikaEventBroker) -----------------------------------------

def amqp_url() -> str:
    """EVENT_BROKER_URL with the account in it, as Rasa's broker builds it."""
    url = settings.get("EVENT_BROKER_URL")
    parsed = urllib.parse.urlsplit(url)
    netloc = parsed.netloc
    if "@" not in netloc:
        user = urllib.parse.quote(settings.get("EVENT_BROKER_USERNAME") or "", safe="")
        password = urllib.parse.quote(settings.get("EVENT_BROKER_PASSWORD") or "", safe="")
        netloc = f"{user}:{password}@{netloc}"
    return urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path or "/", parsed.query, ""))


def rabbit_queue(channel):
    """Rasa's queue, declared (and bound) as Rasa declares it: durable, on a
    fanout exchange; whoever comes first creates it, so nothing published
    after either started is dropped."""
    from kombu import Exchange, Queue

    exchange = Exchange(settings.get("EVENT_BROKER_EXCHANGE"), type="fanout", durable=False)
    queue = Queue(settings.get("EVENT_BROKER_QUEUE"), exchange, routing_key="", durable=True)
    bound = queue(channel)
    bound.declare()
    return bound


def take(queue, limit: int = BATCH) -> list:
    """Up to ``limit`` messages, not acknowledged yet."""
    messages = []
    while len(messages) < limit:
        message = queue.get(no_ack=False)
        if message is None:
            break
        messages.append(message)
    return messages


def project_messages(messages: list, database_url: Optional[str] = None) -> int:
    """Project the messages' events and commit; how many events were new."""
    bodies = [_parsed(m.body.decode("utf-8", "replace") if isinstance(m.body, bytes) else m.body) for m in messages]
    with db.session_scope(database_url) as session:
        return project_batch(session, [b for b in bodies if b])


def rabbit_pass(queue, database_url: Optional[str] = None, limit: int = BATCH) -> int:
    """One batch: taken, projected and committed, then acknowledged (a feed
    that dies before the ack gets the same messages again); how many were read."""
    messages = take(queue, limit)
    if not messages:
        return 0
    project_messages(messages, database_url)
    for message in messages:
        message.ack()
    return len(messages)


# after RabbitMQ could not be reached, desk reads do not wait on it again for this long (elapsed time)
UNREACHABLE_QUIET_SECONDS = 30.0
_unreachable_since: List[float] = []


def rabbit_waiting() -> int:
    """Messages ready in Rasa's queue (0 when RabbitMQ cannot be reached:
    then reads show what the desk has, and do not ask again for a while)."""
    from kombu import Connection

    if _unreachable_since and time.monotonic() - _unreachable_since[0] < UNREACHABLE_QUIET_SECONDS:
        return 0
    try:
        with Connection(amqp_url(), connect_timeout=3) as connection:
            waiting = rabbit_queue(connection.default_channel).queue_declare(passive=True).message_count
        _unreachable_since.clear()
        return waiting
    except Exception as exc:  # noqa: BLE001 - an unreachable broker is reported, not raised into a page
        logger.warning("RabbitMQ could not be asked how many events wait: %s", exc)
        _unreachable_since[:] = [time.monotonic()]
        return 0


# --- catching up from Rasa's HTTP API ----------------------------------------------

def tracker_events(conversation_id: str) -> List[Dict[str, Any]]:
    """The conversation's events as Rasa's HTTP API gives them."""
    base, token = settings.get("RASA_URL").rstrip("/"), settings.get("RASA_TOKEN")
    url = (f"{base}/conversations/{urllib.parse.quote(conversation_id, safe=':+@')}/tracker?"
           + urllib.parse.urlencode({"token": token, "include_events": "ALL"}))
    with urllib.request.urlopen(url, timeout=15) as answer:
        tracker = json.loads(answer.read())
    return [e for e in tracker.get("events") or [] if isinstance(e, dict)]


def reconcile(conversation_ids: Iterable[str], database_url: Optional[str] = None) -> int:
    """Events of these conversations Rasa has and the projection lacks (an
    event RabbitMQ never got), from Rasa's HTTP API; how many were new."""
    new = 0
    for conversation_id in conversation_ids:
        try:
            events = tracker_events(conversation_id)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning("conversation %s could not be read from Rasa to catch up: %s", conversation_id, exc)
            continue
        with db.session_scope(database_url) as session:
            new += project_batch(session, [{**e, "sender_id": conversation_id} for e in events])
    if new:
        logger.info("caught up %s events from Rasa's HTTP API", new)
    return new


def recent_conversations(since: float, database_url: Optional[str] = None) -> List[str]:
    with db.session_scope(database_url) as session:
        return list(session.execute(select(DeskConversation.id).where(DeskConversation.last_at >= since)).scalars())


# --- the feed --------------------------------------------------------------------------

def broker_type() -> str:
    return (settings.get("EVENT_BROKER_TYPE") or "").strip().lower()


def caught_up() -> None:
    """Have every event published so far projected before a read: with the
    SQL broker this process reads what waits (nothing to do is two quick
    reads); with RabbitMQ the feed process consumes, and this waits up to
    EVENT_FEED_WAIT_SECONDS for the queue to empty."""
    try:
        if broker_type() == "sql":
            drain_sql()
        elif broker_type() == "pika":
            deadline = time.monotonic() + float(settings.get("EVENT_FEED_WAIT_SECONDS"))
            while rabbit_waiting() and time.monotonic() < deadline:
                time.sleep(0.05)
    except Exception:  # noqa: BLE001 - the desk shows what it has; the feed logs and goes on
        logger.exception("the desk's projection could not catch up before this read")


@dataclass
class Feed:
    """The consumer loop (``python -m desk.projection``): SQL polls every
    EVENT_FEED_POLL_SECONDS; RabbitMQ takes batches, acks after commit, and
    after losing RabbitMQ reconciles recent conversations from Rasa's HTTP API."""

    stop: threading.Event
    database_url: Optional[str] = None
    on_pass: Optional[Callable[[int], None]] = None

    def run(self) -> None:
        kind = broker_type()
        if kind == "sql":
            self._run_sql()
        elif kind == "pika":
            self._run_rabbit()
        else:
            raise SystemExit(f"EVENT_BROKER_TYPE={settings.get('EVENT_BROKER_TYPE')!r}: the desk's feed reads SQL or pika")

    def _poll(self) -> float:
        return float(settings.get("EVENT_FEED_POLL_SECONDS"))

    def _run_sql(self) -> None:
        logger.info("desk feed: reading Rasa's SQL event broker at %s", _source_name(settings.get("EVENT_BROKER_URL")))
        while not self.stop.is_set():
            try:
                read = drain_sql(database_url=self.database_url)
                if self.on_pass:
                    self.on_pass(read)
            except Exception:  # noqa: BLE001 - a broken pass is logged and tried again
                logger.exception("desk feed: a pass over the SQL broker failed; trying again")
            self.stop.wait(self._poll())

    def _run_rabbit(self) -> None:
        from kombu import Connection

        lost_at: Optional[float] = clock.timestamp()  # on start, catch up what came while the feed was away
        while not self.stop.is_set():
            try:
                with Connection(amqp_url(), connect_timeout=5, heartbeat=30) as connection:
                    connection.ensure_connection(max_retries=1)
                    queue = rabbit_queue(connection.default_channel)
                    logger.info("desk feed: consuming RabbitMQ queue %s", settings.get("EVENT_BROKER_QUEUE"))
                    if lost_at is not None:
                        window = float(settings.get("EVENT_FEED_RECONCILE_SECONDS"))
                        reconcile(recent_conversations(lost_at - window, self.database_url), self.database_url)
                        lost_at = None
                    while not self.stop.is_set():
                        read = rabbit_pass(queue, self.database_url)
                        if self.on_pass:
                            self.on_pass(read)
                        if not read:
                            self.stop.wait(self._poll())
            except Exception as exc:  # noqa: BLE001 - RabbitMQ away: unacked messages stay queued
                logger.warning("desk feed: RabbitMQ unreachable (%s); trying again", exc)
                lost_at = lost_at or clock.timestamp()
                self.stop.wait(max(self._poll(), 2.0))


def main() -> None:
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        Feed(stop).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
