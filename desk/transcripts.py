"""What was said, for the desk: read from the desk's own tables, which
Rasa's event broker feeds (desk/projection.py), never from the tracker
store's; writes (a partner's message, pausing and resuming the bot) go
through Rasa's HTTP API, so the assistant's lock and tracker stay the only
writers and the broker brings the desk its own writes back.

Every reader first has what was published so far projected
(``projection.caught_up``): a partner sees the line they just sent.  That
may write to the billing database, so call a reader before opening a
billing session of your own, never inside one (SQLite takes the write
lock at BEGIN: a reader inside a session would wait on its own caller)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import func, select

from billing import clock, db
from billing.models import DeskConversation, DeskConversationEvent
from desk import projection
from billing.redaction import redact_card_numbers, redact_lines
from desk.conversation_facts import ConversationFacts, facts, opt_out_honoured, short_channel as _short  # noqa: F401 (the rules, read here too)
from selfpay.tracker import RasaUnavailable, append_events  # noqa: F401 (RasaUnavailable: what the desk catches)

logger = logging.getLogger(__name__)


def _fresh() -> None:
    projection.caught_up()


def _kept(*where) -> List[Dict[str, Any]]:
    """Kept events (oldest first), each with its conversation as ``_sender``."""
    query = select(DeskConversationEvent).order_by(DeskConversationEvent.timestamp, DeskConversationEvent.id)
    with db.session_scope() as session:
        rows = session.execute(query.where(*where)).scalars().all()
        return [{**row.data, "_sender": row.conversation_id} for row in rows]


def events(conversation_id: str) -> List[Dict[str, Any]]:
    _fresh()
    return _kept(DeskConversationEvent.conversation_id == conversation_id)


def conversations_between(since: float, until: float) -> List[DeskConversation]:
    """The desk's summary row of every conversation active in [since, until)."""
    _fresh()
    active = select(DeskConversationEvent.conversation_id).where(
        DeskConversationEvent.timestamp >= since, DeskConversationEvent.timestamp < until).distinct()
    with db.session_scope() as session:
        return list(session.execute(select(DeskConversation).where(DeskConversation.id.in_(active))).scalars())


def outreach_replies() -> Dict[int, int]:
    """Per outreach attempt, how many patient messages answered it (the
    connectors mark a text back within a reminder's window with the
    reminder's attempt in its metadata; the projection keeps it)."""
    _fresh()
    with db.session_scope() as session:
        counted = session.execute(select(DeskConversationEvent.outreach_attempt, func.count(DeskConversationEvent.id))
                                  .where(DeskConversationEvent.outreach_attempt.is_not(None))
                                  .group_by(DeskConversationEvent.outreach_attempt)).all()
    return {attempt: count for attempt, count in counted}


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def transcript(conversation_events: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The lines people said and read: ``{ts, from, text, channel}``, with
    the partner's name on partner lines."""
    lines: List[Dict[str, Any]] = []
    channel = None
    for event in conversation_events:
        kind = event.get("event")
        if kind == "user":
            channel = _short(event.get("input_channel")) or channel
            words = event.get("text") or ""
            if words.startswith("/"):
                # an intent the channel sent for the patient (a key press, silence, the end of a call)
                continue
            lines.append({"ts": iso(event["timestamp"]), "from": "patient", "text": words, "channel": channel})
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            words = event.get("text") or ""
            if not words:
                continue
            line = {"ts": iso(event["timestamp"]), "from": "agent" if metadata.get("from") == "agent" else "bot",
                    "text": words, "channel": channel}
            if metadata.get("agent"):
                line["agent"] = metadata["agent"]
            lines.append(line)
    return _without_card_numbers(lines)


def _without_card_numbers(lines: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Card numbers out of every line shown, whatever wrote it, also one split
    over a speaker's consecutive lines (billing.redaction, the one rule)."""
    for who in ("patient", "agent", "bot"):
        mine = [line for line in lines if line["from"] == who]
        stamps = [dt.datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp() for line in mine]
        for line, safe in zip(mine, redact_lines([(line["text"], ts) for line, ts in zip(mine, stamps)])):
            line["text"] = safe
    return lines


# --- writing through Rasa's HTTP API ----------------------------------------

def append(conversation_id: str, new_events: List[Dict[str, Any]]) -> None:
    """Append events to the conversation's tracker, stamped by the clock
    Rasa's own events follow (bot/rasa_main.py)."""
    stamp = clock.timestamp()
    for event in new_events:
        event.setdefault("timestamp", stamp)
    append_events(conversation_id, new_events)


def partner_said(conversation_id: str, agent: str, words: str, handoff_id: int) -> None:
    words = redact_card_numbers(words)[0]  # a partner's line never stores a card number
    append(conversation_id, [{"event": "bot", "text": words, "metadata": {"from": "agent", "agent": agent, "handoff": handoff_id}}])


def pause(conversation_id: str) -> None:
    append(conversation_id, [{"event": "pause"}])


def resume(conversation_id: str, words: Optional[str]) -> None:
    """Give the conversation back: the bot listens again (and says so)."""
    back: List[Dict[str, Any]] = [{"event": "resume"}]
    if words:
        back.append({"event": "bot", "text": words, "metadata": {"from": "bot", "resumed": True}})
    back.append({"event": "action", "name": "action_listen", "policy": "desk", "confidence": 1.0})
    append(conversation_id, back)


def since(conversation_id: str, after: float) -> List[Dict[str, Any]]:
    """Lines written to the patient after ``after`` (epoch seconds) by the
    desk (a partner, or the bot taking over again): what a web chat polls for."""
    _fresh()
    lines = []
    for event in _kept(DeskConversationEvent.conversation_id == conversation_id, DeskConversationEvent.type == "bot",
                       DeskConversationEvent.timestamp > after):
        metadata = event.get("metadata") or {}
        if metadata.get("from") == "agent" or metadata.get("resumed"):
            lines.append({"ts": event["timestamp"], "from": metadata.get("from", "bot"),
                          "text": redact_card_numbers(event.get("text") or "")[0]})
    return lines
