"""Web chat (``/webhooks/webchat/webhook``), the patient-facing channel
behind the chat page the desk serves.  Same rules as SMS: card numbers
out, no leading "/", the client named by the page."""
from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from billing import db
from billing.clients import UnknownClient, get_client
from billing.ratelimit import capped, limiter
from billing.scripts import cut_note
from billing.vocabulary import Channel, conversation_id
from connectors.text import safe_patient_text

logger = logging.getLogger(__name__)

CHANNEL = Channel.WEBCHAT.value
SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _client_known(client_id: str) -> bool:
    try:
        with db.session_scope() as session:
            get_client(session, client_id)
        return True
    except UnknownClient:
        return False


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("webchat_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            try:
                payload = request.json or {}
            except Exception:  # noqa: BLE001 - any unreadable body gets the same answer
                payload = None
            if not isinstance(payload, dict):
                return response.json({"error": "send JSON: {sender, message, client}"}, status=400)
            sender, client_id = payload.get("sender"), payload.get("client")
            if not isinstance(sender, str) or not isinstance(client_id, str):
                return response.json({"error": "sender and client must be text"}, status=400)
            if not SENDER.match(sender):
                return response.json({"error": "sender must be 8 to 64 letters, digits, - or _"}, status=400)
            if not await request.app.loop.run_in_executor(None, _client_known, client_id):
                return response.json({"error": "unknown client"}, status=400)
            allowed, wait = limiter("webchat").allow(f"{client_id}:{sender}")
            if not allowed:
                return response.json({"error": f"too many messages; try again in {wait} s"}, status=429, headers={"Retry-After": str(wait)})
            message = payload.get("message")
            if not isinstance(message, str):
                return response.json({"error": "message must be text"}, status=400)
            message, cut = capped(message)
            text = await safe_patient_text(request, conversation_id(Channel.WEBCHAT, sender, client_id), message)
            if not text:
                return response.json([])
            collector = CollectingOutputChannel()
            if cut:
                await collector.send_text_message(sender, cut_note())
            await on_new_message(UserMessage(
                text, collector, conversation_id(Channel.WEBCHAT, sender, client_id), input_channel=CHANNEL,
                metadata={"client": client_id, "channel": "web"},
            ))
            return response.json([
                {"text": m.get("text") or "", "buttons": m.get("buttons") or []} for m in collector.messages if m.get("text")
            ])

        return hook
