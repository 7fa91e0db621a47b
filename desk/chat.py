"""The patient web chat page (``/chat?client=riverside``).  The page
talks to this service (same origin), which passes each message to the
assistant's web chat channel; without JavaScript the form still works,
one exchange per page."""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

from sanic import Blueprint
from sanic.response import json as json_response

from billing import db
from billing.clients import UnknownClient, get_client
from billing.ratelimit import limiter
from billing.vocabulary import Channel, conversation_id
from desk.web import client_address, page, run_sync
from selfpay import settings

bp = Blueprint("chat")


def _rasa_url() -> str:
    return settings.get("RASA_URL").rstrip("/")


def _client_name(client_id: str):
    try:
        with db.session_scope() as session:
            return get_client(session, client_id).name
    except UnknownClient:
        return None


def _ask(client_id: str, sender: str, message: str) -> tuple[int, object]:
    body = json.dumps({"client": client_id, "sender": sender, "message": message}).encode()
    request = urllib.request.Request(f"{_rasa_url()}/webhooks/webchat/webhook", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 503, {"error": "the assistant is not answering"}


async def _chat(client_id: str, sender: str, message: str = ""):
    """The chat page for a client, with the answer to ``message`` if any."""
    name = await run_sync(_client_name, client_id)
    if name is None:
        return page("chat_unknown.html", status=404)
    lines = []
    if message:
        status, replies = await run_sync(_ask, client_id, sender, message)
        lines.append(("you", message))
        if status == 200:
            lines += [("bot", r["text"]) for r in replies]
        else:
            lines.append(("bot", "Sorry, I can't answer right now. Please try again in a moment."))
    return page("chat.html", client_id=client_id, client_name=name, sender=sender, lines=lines)


@bp.get("/chat")
async def chat_page(request):
    return await _chat(request.args.get("client", ""), secrets.token_hex(12))


def _too_fast(request):
    """The browser's address has sent more than the web chat allows (a 429), else None."""
    allowed, wait = limiter("webchat").allow(f"address:{client_address(request)}")
    if allowed:
        return None
    return json_response({"error": f"too many messages from this address; try again in {wait} s"}, status=429,
                         headers={"Retry-After": str(wait)})


@bp.post("/chat")
async def chat_form(request):
    """The no-JavaScript path: one message, the page again with the answer."""
    refused = _too_fast(request)
    if refused:
        return refused
    form = request.form
    return await _chat(form.get("client", ""), form.get("sender") or secrets.token_hex(12), (form.get("message") or "").strip())


@bp.post("/chat/message")
async def chat_message(request):
    refused = _too_fast(request)
    if refused:
        return refused
    try:
        payload = request.json
    except Exception:  # noqa: BLE001 - Sanic's error for a body that is not JSON
        payload = None
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in ("client", "sender", "message")):
        return json_response({"error": "send JSON: {client, sender, message} as text"}, status=400)
    status, replies = await run_sync(_ask, payload["client"], payload["sender"], payload["message"])
    return json_response(replies, status=status)


@bp.get("/chat/updates")
async def chat_updates(request):
    """What the desk wrote to this chat (a partner, or the assistant taking
    over again) after ``after`` (epoch seconds): the page polls for it."""
    from desk import transcripts

    client_id, sender = request.args.get("client", ""), request.args.get("sender", "")
    try:
        after = float(request.args.get("after") or 0)
    except ValueError:
        return json_response({"error": "after is a time in seconds"}, status=400)
    if not client_id or not (8 <= len(sender) <= 64) or not sender.replace("-", "").replace("_", "").isalnum():
        return json_response({"error": "client and sender are required"}, status=400)
    lines = await run_sync(transcripts.since, conversation_id(Channel.WEBCHAT, sender, client_id), after)
    return json_response({"lines": lines})
