"""What every channel does to patient text before Rasa sees it: card
numbers out (billing.redaction, the one rule), and no message may pose as
an intent: Rasa reads a leading "/" as "/intent{entities}", so patient
text never starts with one.

A card number split over consecutive messages ("4242 4242", then
"4242 4242") is caught like this:

* each conversation's last message leaves the digit groups it ended with
  (at most 18 digits, never a whole card) in ``_Tails``, for
  ``FRAGMENT_TTL_SECONDS``; the next message of that conversation is
  redacted together with them (``billing.redaction.redact_message``);
* when the two make a card, the new message goes on as
  ``[card ending 4242]`` and the earlier part is masked where it was
  stored: ``forget_earlier_parts`` rewrites the conversation's latest
  events in the tracker store (the user turn, its parse data and
  entities, slots filled from it, bot lines that repeated it) to
  ``[part of card ending 4242]``, under the conversation's lock, before
  Rasa handles the new message.  So neither fragment leaves the full
  number in the tracker, nor in the desk transcript read from it.

The buffer is per-process memory on purpose: no database row ever holds
card digits.  Under several Rasa instances the load balancer routes by
conversation (sticky), so consecutive messages meet the same buffer; if
an instance restarts or a conversation moves, the buffer is lost and a
split number is then not joined (the desk's transcript still joins
consecutive lines on read, ``billing.redaction.redact_lines``).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, List, Optional, Sequence, Tuple

from billing.redaction import Group, Redaction, mask_fragment, mask_fragments_in, redact_card_numbers, redact_message
from selfpay.tracker import stored_event

logger = logging.getLogger(__name__)

# how long a message's trailing digits wait for the rest of a number
FRAGMENT_TTL_SECONDS = 120.0
MAX_CONVERSATIONS = 20_000
# how far back (events) the earlier part of a split number is looked for
LOOKBACK_EVENTS = 200


class _Tails:
    """The trailing digit groups of each conversation's last message, in
    this process only, forgotten after the TTL (elapsed time, not a date:
    time.monotonic)."""

    def __init__(self, ttl: float = FRAGMENT_TTL_SECONDS, limit: int = MAX_CONVERSATIONS, clock=time.monotonic):
        self.ttl, self.limit, self._clock = ttl, limit, clock
        self._items: "OrderedDict[str, Tuple[float, Tuple[Group, ...], Optional[str]]]" = OrderedDict()
        self._lock = threading.Lock()
        self._origins = itertools.count(1)

    def take(self, conversation_id: str, key: Optional[str] = None) -> Tuple[Tuple[Group, ...], int, bool]:
        """(what the conversation's last message ended with, a number for
        this message, whether this is that same message delivered again)."""
        with self._lock:
            kept = self._items.get(conversation_id)
            if kept and key is not None and kept[2] == key:
                return (), next(self._origins), True
            self._items.pop(conversation_id, None)
            carried = kept[1] if kept and self._clock() - kept[0] <= self.ttl else ()
            return carried, next(self._origins), False

    def keep(self, conversation_id: str, groups: Sequence[Group], key: Optional[str] = None) -> None:
        with self._lock:
            self._items.pop(conversation_id, None)
            if groups:
                self._items[conversation_id] = (self._clock(), tuple(groups), key)
                while len(self._items) > self.limit:
                    self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_tails = _Tails()


def card_safe(conversation_id: Optional[str], text: str, key: Optional[str] = None) -> Redaction:
    """The text with card numbers out, joined with what the conversation's
    previous message ended with; ``Redaction.earlier`` names the earlier
    parts a split number had (``forget_earlier_parts`` masks them).
    ``key`` names the message (a Twilio MessageSid or call turn): the same
    message delivered again is not joined with itself."""
    if not conversation_id:
        return redact_message(text)
    carried, origin, again = _tails.take(conversation_id, key)
    result = redact_message(text, carried, origin=origin)
    if not again:
        _tails.keep(conversation_id, result.trailing, key)
    return result


def _no_intent(text: str) -> str:
    while text.startswith("/"):
        text = text[1:].lstrip()
    return text


def patient_text(text: str | None, conversation_id: Optional[str] = None) -> str:
    """Patient text as it may go on (without joining a split number when
    no conversation is named; channels use ``safe_patient_text``)."""
    return _no_intent(card_safe(conversation_id, (text or "").strip()).text if conversation_id
                      else redact_card_numbers((text or "").strip())[0])


async def safe_patient_text(request: Any, conversation_id: str, text: str | None, *, patient: bool = True,
                            key: Optional[str] = None) -> str:
    """What a channel passes to Rasa: card numbers out, also one split over
    this conversation's messages (the earlier part masked in the tracker
    store first); with ``patient`` also no leading "/" (the REST channel,
    for integrations, keeps it)."""
    raw = (text or "").strip() if patient else (text or "")
    result = card_safe(conversation_id, raw, key)
    if result.earlier:
        agent = getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)
        await forget_earlier_parts(agent, conversation_id, result.earlier, result.last4 or "")
    return _no_intent(result.text) if patient else result.text


# --- masking the earlier part where it was stored ---------------------------------

def masked_events(events: List[dict], parts: Sequence[str], last4: str) -> Tuple[List[dict], int]:
    """(the events with the parts masked from the latest user turn that
    holds one of them on, how many changed).  Older events are left."""
    found = []
    for part in parts:
        # the newest patient turn that holds this part
        for k in range(len(events) - 1, max(-1, len(events) - 1 - LOOKBACK_EVENTS), -1):
            said = str(events[k].get("text") or "") if events[k].get("event") == "user" else ""
            if said and mask_fragment(said, part, last4) != said:
                found.append(k)
                break
    if not found:
        return events, 0
    start = min(found)
    out, changed = list(events[:start]), 0
    for event in events[start:]:
        masked = mask_fragments_in(event, parts, last4)
        changed += masked != event
        out.append(masked)
    return out, changed


def _sql_store(store: Any) -> Any:
    """Rasa's SQLTrackerStore behind its wrappers, or None."""
    for _ in range(5):
        if store is None:
            return None
        if hasattr(store, "SQLEvent") and hasattr(store, "session_scope"):
            return store
        store = getattr(store, "_tracker_store", None)
    return None


def _mask_sql(store: Any, conversation_id: str, parts: Sequence[str], last4: str) -> int:
    event_row = store.SQLEvent
    with store.session_scope() as session:
        rows = (session.query(event_row).filter(event_row.sender_id == conversation_id)
                .order_by(event_row.id.desc()).limit(LOOKBACK_EVENTS).all())
        rows.reverse()
        events = [stored_event(row.type_name, row.data) for row in rows]
        masked, changed = masked_events(events, parts, last4)
        for row, before, after in zip(rows, events, masked):
            if after != before:
                row.data = json.dumps(after)
        session.commit()
        return changed


async def _mask_any(store: Any, conversation_id: str, parts: Sequence[str], last4: str) -> int:
    """Stores that save the whole tracker (in-memory, Redis): rewrite it."""
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = await store.retrieve_full_tracker(conversation_id)
    if tracker is None:
        return 0
    events = [event.as_dict() for event in tracker.events]
    masked, changed = masked_events(events, parts, last4)
    if changed:
        slots = store.domain.slots if getattr(store, "domain", None) is not None else []
        await store.save(DialogueStateTracker.from_dict(conversation_id, masked, slots))
    return changed


async def forget_earlier_parts(agent: Any, conversation_id: str, parts: Sequence[str], last4: str) -> int:
    """Mask the earlier parts of a split card number in the conversation's
    stored events, under the conversation's lock.  Never logs the digits."""
    if agent is None or getattr(agent, "tracker_store", None) is None:
        logger.warning("conversation %s: an earlier part of a card number could not be masked (no tracker store)",
                       conversation_id)
        return 0
    try:
        async with agent.lock_store.lock(conversation_id):
            sql = _sql_store(agent.tracker_store)
            if sql is not None:
                changed = await asyncio.get_running_loop().run_in_executor(
                    None, _mask_sql, sql, conversation_id, list(parts), last4)
            else:
                changed = await _mask_any(agent.tracker_store, conversation_id, list(parts), last4)
    except Exception:  # noqa: BLE001 - the new message still goes on, redacted
        logger.exception("conversation %s: masking the earlier part of a card number failed", conversation_id)
        return 0
    logger.info("conversation %s: a card number split over messages; %s stored events masked", conversation_id, changed)
    return changed
