"""The REST channel (``/webhooks/rest/webhook``, the same URL and channel
name as Rasa's own) for integrations and tests, not for the public
(DESIGN.md, Channels):

* ``Authorization: Bearer <REST_CHANNEL_TOKEN>`` or 401;
* the body is ``{"sender": text, "message": text, "metadata": {"client":
  name, "language": "en"|"es"}}``; anything else is a 400 that says what
  is wrong, and nothing reaches the conversation;
* a sender shaped like another channel's conversation (``sms:...``,
  ``voice:...``, ``web:...``/``webchat:...``, a phone number, a Twilio
  CallSid) is refused: a REST caller never joins a patient's SMS or call;
* metadata names the client and the language only: a phone number, a
  channel, an identity or anything else in it is dropped, and the input
  channel is always ``rest``;
* a message longer than the cap is cut to it, and the answer starts with
  a note saying so; callers are rate-limited per address (429 with
  Retry-After);
* card numbers are taken out of the message before Rasa sees it;
* a request sent again with the same ``Idempotency-Key`` header (up to 64
  letters, digits, ``-`` or ``_``) for the same sender is answered once:
  the retry gets the first answer (connectors/once.py, billing/inbound.py),
  so a caller that lost an answer (HAProxy or a connection died mid-turn)
  can send the turn again without it counting twice; a retry while the
  first is still being answered waits for that answer, or gets a 503 with
  Retry-After (send it again).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sqlalchemy.exc import DBAPIError
from sanic.request import Request

from billing.redaction import redact_card_numbers
from billing.ratelimit import capped, limiter
from billing.scripts import cut_note
from connectors.once import StillAnswering, once, saved_turn
from connectors.text import safe_patient_text
from selfpay import settings

logger = logging.getLogger(__name__)

TOKEN_ENV = "REST_CHANNEL_TOKEN"
SENDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
# what other channels' conversation ids look like (connectors/twilio_sms,
# twilio_voice, webchat): a prefix, a phone number, a Twilio call id
OTHER_CHANNEL = re.compile(r"^\s*(?:sms|voice|web|webchat|twilio_sms|twilio_voice)\s*:|^\+?\d{7,15}$|^CA[0-9a-f]{32}$", re.IGNORECASE)
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
LANGUAGES = ("en", "es")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# the longest answer kept for a retry (the delivery record's column)
KEPT_ANSWER = 20000


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def authorised(request: Request) -> bool:
    expected = settings.secret(TOKEN_ENV)
    if not expected:
        logger.error("%s is not set: the REST channel refuses every request", TOKEN_ENV)
        return False
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def read_body(request: Request) -> Tuple[str, str, Dict[str, Any]]:
    """(sender, message, metadata) from a well-formed body, else BadRequest."""
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for unreadable JSON
        raise BadRequest(400, "the body must be JSON: {\"sender\": ..., \"message\": ..., \"metadata\": {\"client\": ...}}") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "the body must be a JSON object with sender, message and metadata")
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str):
        raise BadRequest(400, "sender must be text")
    if OTHER_CHANNEL.search(sender):
        raise BadRequest(400, "sender looks like another channel's conversation; REST senders are your own ids")
    if not SENDER.match(sender):
        raise BadRequest(400, "sender must be 1 to 128 letters, digits, '.', '_', '@' or '-'")
    if redact_card_numbers(sender)[1]:
        raise BadRequest(400, "sender must not hold a card number")
    if not isinstance(message, str):
        raise BadRequest(400, "message must be text")
    return sender, message, clean_metadata(metadata)


def clean_metadata(metadata: Any) -> Dict[str, Any]:
    """Only what a REST caller may say: the client and the language."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise BadRequest(400, "metadata must be an object: {\"client\": \"riverside\"}")
    clean: Dict[str, Any] = {}
    client = metadata.get("client")
    if client is not None:
        if not isinstance(client, str) or not CLIENT_ID.match(client):
            raise BadRequest(400, "metadata.client must be a client id such as \"riverside\"")
        clean["client"] = client
    language = metadata.get("language")
    if language is not None:
        if language not in LANGUAGES:
            raise BadRequest(400, f"metadata.language must be one of {', '.join(LANGUAGES)}")
        clean["language"] = language
    dropped = sorted(set(metadata) - set(clean))
    if dropped:
        logger.info("REST metadata keys ignored: %s", ", ".join(str(k)[:40] for k in dropped))
    return clean


class RedactingRestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL and channel name as Rasa's own REST channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("custom_webhook_RedactingRestInput", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            if not authorised(request):
                return response.json({"error": "send Authorization: Bearer <REST_CHANNEL_TOKEN>"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="rest"'})
            allowed, wait = limiter("rest").allow(request.remote_addr or request.ip or "?")
            if not allowed:
                return response.json({"error": f"too many messages from this address; try again in {wait} s"}, status=429,
                                     headers={"Retry-After": str(wait)})
            try:
                sender, message, metadata = read_body(request)
            except BadRequest as bad:
                return response.json({"error": bad.message}, status=bad.status)
            key = request.headers.get("Idempotency-Key")
            if key is not None and not IDEMPOTENCY_KEY.match(key):
                return response.json({"error": "Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'"}, status=400)
            if not key:
                messages, _handled = await self._answer(request, on_new_message, sender, message, metadata)
                return response.json(messages)
            delivery = "rest:" + hashlib.sha256(f"{sender}\n{key}".encode()).hexdigest()[:40]

            async def work(taken_over: bool) -> Tuple[str, bool]:
                messages, handled = await self._answer(request, on_new_message, sender, message, metadata, delivery, taken_over)
                kept = json.dumps(messages)
                return (kept if len(kept) <= KEPT_ANSWER else "[]"), handled

            try:
                answer = await once(request, self.name(), delivery, None, work)
            except StillAnswering:
                return response.json({"error": "this message is still being answered: send it again with the same Idempotency-Key"},
                                     status=503, headers={"Retry-After": "1"})
            except DBAPIError:
                # the billing database out of reach: nothing was recorded, so the same turn may simply be sent again
                logger.warning("REST message from %s refused: the billing database is out of reach", sender)
                return response.json({"error": "our records are out of reach for a moment: send it again with the same "
                                               "Idempotency-Key"}, status=503, headers={"Retry-After": "2"})
            return response.json(json.loads(answer) if answer else [])

        return hook

    async def _answer(self, request: Request, on_new_message, sender: str, message: str, metadata: Dict[str, Any],
                      message_id: Optional[str] = None, taken_over: bool = False):
        """What the bot says to one message (card numbers out first), and whether it was handled.
        ``taken_over``: a dead receiver's turn; what it saved is answered, not run again (connectors/once.py)."""
        message, cut = capped(message)
        collector = CollectingOutputChannel()
        if cut:
            await collector.send_text_message(sender, cut_note())
        if taken_over and message_id and await saved_turn(request, sender, message_id, collector):
            return collector.messages, True
        # card numbers out, also one split over this sender's messages (connectors/text.py)
        text = await safe_patient_text(request, sender, message, patient=False)
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata or None,
                                             message_id=message_id))
        except CancelledError:
            logger.error("REST message from %s timed out", sender)
            return collector.messages, False
        except Exception:  # noqa: BLE001 - the caller gets what was said so far, never a 500
            logger.exception("REST message from %s could not be handled", sender)
            return collector.messages, False
        return collector.messages, True
