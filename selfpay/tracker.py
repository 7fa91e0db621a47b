"""Rasa's tracker, for code outside Rasa's own classes: reading one row of
the SQL tracker store's ``events`` table, and appending events through
Rasa's HTTP API (Rasa takes the conversation's lock, so its tracker stays
the one record).  Used by the desk (transcripts, a partner's line, pausing
and resuming the bot) and by connectors (the web chat's notice sender,
masking a split card number); it reads only settings."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List

from selfpay import settings

logger = logging.getLogger(__name__)


class RasaUnavailable(RuntimeError):
    pass


def stored_event(type_name: str, data: str | None) -> Dict[str, Any]:
    """One row of the tracker store's ``events`` table as Rasa's event dict
    (a row whose JSON is damaged keeps at least its type)."""
    try:
        event = json.loads(data) if data else {}
    except ValueError:
        event = {}
    if not isinstance(event, dict):
        event = {}
    event.setdefault("event", type_name)
    return event


def append_events(conversation_id: str, new_events: List[Dict[str, Any]]) -> None:
    """Append events (each with its timestamp) to the conversation's tracker.
    Rasa's router (Sanic 21.12) does not decode the path, so the id's own
    characters (``sms:riverside:+1555...``) go in as they are."""
    base, token = settings.get("RASA_URL").rstrip("/"), settings.get("RASA_TOKEN")
    url = f"{base}/conversations/{urllib.parse.quote(conversation_id, safe=':+@/')}/tracker/events?" + urllib.parse.urlencode(
        {"token": token, "include_events": "NONE"})
    request = urllib.request.Request(url, data=json.dumps(new_events).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            answer.read()
    except (urllib.error.URLError, OSError) as exc:
        logger.error("could not append to conversation %s: %s", conversation_id, exc)
        raise RasaUnavailable(str(exc)) from exc
