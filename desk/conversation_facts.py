"""What the desk reads off one conversation's events: its client, channel,
intents, verification, fallbacks, opt-out and pauses (the review's QA
flags and outcomes), and whether an opt-out was honoured.  Pure rules over
Rasa's event dicts; desk/projection.py keeps the result per conversation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from billing.vocabulary import Channel


def short_channel(input_channel: Optional[str]) -> Optional[str]:
    """A Rasa input channel's short name (sms, voice, webchat, rest)."""
    known = Channel.named(input_channel)
    return known.short if known else input_channel


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
            out.channel = short_channel(channel) or out.channel
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


def opt_out_honoured(conversation_events: Iterable[Dict[str, Any]]) -> bool:
    """Whether every opt-out was answered by the opt-out action before the patient spoke again."""
    waiting = False
    for event in conversation_events:
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if waiting:
                return False
            waiting = intent == "opt_out"
        elif event.get("event") == "action" and event.get("name") == "action_opt_out":
            waiting = False
    return not waiting


