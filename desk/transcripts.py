"""The one record of what was said: Rasa's SQL tracker store.

Reads go straight to its ``events`` table (read-only: listing every
conversation is not something Rasa's HTTP API offers); writes (a
partner's message, pausing and resuming the bot) go through Rasa's HTTP
API so the assistant's lock and tracker stay the only writers."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from billing import clock
from billing.redaction import redact_card_numbers, redact_lines
from billing.vocabulary import Channel
from selfpay import settings
from selfpay.tracker import RasaUnavailable, append_events, stored_event  # noqa: F401 (RasaUnavailable: what the desk catches)

logger = logging.getLogger(__name__)

_engines: Dict[str, Engine] = {}


def _short(input_channel: Optional[str]) -> Optional[str]:
    """A Rasa input channel's short name (sms, voice, webchat, rest)."""
    known = Channel.named(input_channel)
    return known.short if known else input_channel


def _engine() -> Engine:
    url = settings.get("TRACKER_STORE_URL")
    engine = _engines.get(url)
    if engine is None:
        engine = create_engine(url, future=True, **({"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {"pool_pre_ping": True}))
        _engines[url] = engine
    return engine


def _rows(where: str = "", **params) -> List[Dict[str, Any]]:
    sql = "SELECT id, sender_id, type_name, timestamp, data FROM events" + (f" WHERE {where}" if where else "") + " ORDER BY id"
    try:
        with _engine().connect() as connection:
            rows = connection.execute(text(sql), params).all()
    except Exception as exc:  # no tracker store yet: nobody has written
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return []
        raise
    out = []
    for row in rows:
        data = stored_event(row.type_name, row.data)
        data.setdefault("timestamp", row.timestamp)
        data["_sender"] = row.sender_id
        out.append(data)
    return out


def events(conversation_id: str) -> List[Dict[str, Any]]:
    return _rows("sender_id = :sender", sender=conversation_id)


def events_between(since: float, until: float) -> Dict[str, List[Dict[str, Any]]]:
    """Every event of conversations active in [since, until), by conversation."""
    grouped: Dict[str, List[Dict[str, Any]]] = {}
    for event in _rows("sender_id IN (SELECT DISTINCT sender_id FROM events WHERE timestamp >= :since AND timestamp < :until)",
                       since=since, until=until):
        grouped.setdefault(event["_sender"], []).append(event)
    return grouped


def outreach_replies() -> Dict[int, int]:
    """Per outreach attempt, how many patient messages answered it (the
    connectors mark a text back within a reminder's window with the
    reminder's attempt in its metadata)."""
    replies: Dict[int, int] = {}
    for event in _rows("type_name = 'user' AND data LIKE :marker", marker='%"outreach"%'):
        attempt = ((event.get("metadata") or {}).get("outreach") or {}).get("attempt")
        if isinstance(attempt, int):
            replies[attempt] = replies.get(attempt, 0) + 1
    return replies


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


@dataclass
class ConversationFacts:
    """What review needs about one conversation, read from its events."""

    id: str
    client: Optional[str] = None
    channel: Optional[str] = None
    started: Optional[float] = None
    last: Optional[float] = None
    patient_turns: int = 0
    intents: List[str] = field(default_factory=list)
    max_fallbacks_in_a_row: int = 0
    paused: bool = False
    verified_at: Optional[float] = None
    # bot lines with account detail sent while the patient was not verified
    detail_before_verification: int = 0
    opt_out_at: Optional[float] = None
    messages_after_opt_out: int = 0
    actions: List[str] = field(default_factory=list)


# responses that carry account detail: they must only follow verification
ACCOUNT_DETAIL_ACTIONS = {"action_check_balance", "action_explain_coverage", "action_confirm_payment", "action_confirm_plan"}


def facts(conversation_id: str, conversation_events: List[Dict[str, Any]]) -> ConversationFacts:
    out = ConversationFacts(conversation_id)
    fallbacks = 0
    verified = False
    for event in conversation_events:
        kind, ts = event.get("event"), event.get("timestamp")
        out.started = ts if out.started is None else out.started
        out.last = ts
        if kind == "session_started":
            verified = False
        elif kind == "user":
            channel = event.get("input_channel")
            out.channel = _short(channel) or out.channel
            metadata = event.get("metadata") or {}
            out.client = metadata.get("client") or out.client
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if not str(event.get("text") or "").startswith("/"):
                out.patient_turns += 1
            if intent:
                out.intents.append(intent)
            if intent == "opt_out" and out.opt_out_at is None:
                out.opt_out_at = ts
        elif kind == "slot" and event.get("name") == "client_id" and event.get("value"):
            out.client = event["value"]
        elif kind == "slot" and event.get("name") == "identity":
            verified = event.get("value") == "verified"
            if verified and out.verified_at is None:
                out.verified_at = ts
        elif kind == "action":
            name = event.get("name")
            out.actions.append(name)
            if name == "action_fallback":
                fallbacks += 1
                out.max_fallbacks_in_a_row = max(out.max_fallbacks_in_a_row, fallbacks)
            elif name != "action_listen":
                fallbacks = 0
            if name in ACCOUNT_DETAIL_ACTIONS and not verified:
                out.detail_before_verification += 1
        elif kind == "bot":
            if out.opt_out_at is not None and (event.get("metadata") or {}).get("outreach"):
                out.messages_after_opt_out += 1
        elif kind == "pause":
            out.paused = True
        elif kind == "resume":
            out.paused = False
    return out


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
    lines = []
    for event in events(conversation_id):
        if event.get("event") == "bot" and event.get("timestamp", 0) > after:
            metadata = event.get("metadata") or {}
            if metadata.get("from") == "agent" or metadata.get("resumed"):
                lines.append({"ts": event["timestamp"], "from": metadata.get("from", "bot"),
                              "text": redact_card_numbers(event.get("text") or "")[0]})
    return lines
