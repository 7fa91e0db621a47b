"""What both Twilio channels share: the signature check against the URL
Twilio signed, the form parameters exactly as sent, and the client whose
number was called or texted."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Dict, Optional
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import DBAPIError
from twilio.request_validator import RequestValidator

from billing import db, outreach_status
from billing.clients import ClientInfo, client_by_phone
from billing.contact import normalise_phone
from connectors.once import StillAnswering
from selfpay import settings

logger = logging.getLogger(__name__)


def form_params(request: Request) -> Dict[str, str]:
    """The posted parameters re-parsed from the raw body, blank ones kept
    (they are part of what Twilio signed)."""
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    params: Dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def signed_url(request: Request) -> str:
    base = settings.get("PUBLIC_URL", "").rstrip("/")
    query = f"?{request.query_string}" if request.query_string else ""
    return f"{base}{request.path}{query}"


def signature_ok(request: Request, params: Dict[str, str]) -> bool:
    token = settings.secret("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature")
    if not token:
        logger.error("TWILIO_AUTH_TOKEN is not set: Twilio webhooks are refused")
        return False
    if not signature or not RequestValidator(token).validate(signed_url(request), params, signature):
        # never the body: it may hold what the patient said
        logger.warning("refused %s %s: missing or wrong X-Twilio-Signature", request.method, request.path)
        return False
    return True


def client_for(number: Optional[str]) -> Optional[ClientInfo]:
    phone = normalise_phone(number or "")
    if not phone:
        return None
    with db.read_scope() as session:
        return client_by_phone(session, phone)


class TwilioInput(InputChannel, ABC):
    """A Twilio webhook channel: ``/`` for health, ``/webhook`` for
    Twilio's signed form posts, answered with TwiML by ``answer``."""

    @abstractmethod
    async def answer(self, request: Request, params: Dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> str:
        ...

    @abstractmethod
    def provider_status(self, params: Dict[str, str]) -> Dict[str, str]:
        """A status callback's SID, status, error code and (calls) who answered."""

    def record_status(self, attempt_id: Optional[str], params: Dict[str, str]) -> Optional[str]:
        said = self.provider_status(params)
        return outreach_status.record(attempt_id, said["sid"], said["status"], error_code=said.get("error_code", ""),
                                      answered_by=said.get("answered_by", ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            params = form_params(request)
            if not signature_ok(request, params):
                return response.text("forbidden", status=403)
            try:
                twiml = await self.answer(request, params, on_new_message)
            except StillAnswering:
                # Twilio's retry of a message whose first delivery is still being answered: send it again
                return response.text("still being answered", status=503, headers={"Retry-After": "1"})
            except DBAPIError:
                # the billing database out of reach (the client, opt-outs and delivery records live there): nothing
                # was recorded; Twilio answers from the number's fallback URL (docs/scale-out.md) or sends it again
                logger.warning("%s webhook refused: the billing database is out of reach", self.name())
                return response.text("our records are out of reach for a moment", status=503, headers={"Retry-After": "2"})
            return response.text(twiml, content_type="application/xml")

        @hook.route("/status", methods=["POST"])
        async def status(request: Request):
            """Twilio's status callback for an outreach attempt (``?attempt=<id>``)."""
            params = form_params(request)
            if not signature_ok(request, params):
                return response.text("forbidden", status=403)
            await request.app.loop.run_in_executor(None, self.record_status, request.args.get("attempt"), params)
            return response.empty()

        return hook
