"""Twilio SMS (``/webhooks/twilio_sms/webhook``).

Signed requests only; the client is the one whose number was texted; the
conversation is the client and the sender.  Opt-out, opt-in and help
keywords are answered here and never reach the NLU, in English and
Spanish (PARAR, ALTO, CANCELAR, BAJA, DETENER, SALIR opt out; AYUDA
helps), the answer in the number's language: its patient's record, else
the keyword's.  A retried
``MessageSid`` gets the first answer again.  Patient text has card
numbers taken out and no leading "/" before Rasa sees it.  Replies go
back as TwiML ``<Message>``s of at most 320 characters, split at
sensible points.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic.request import Request
from twilio.twiml.messaging_response import MessagingResponse

from billing import db, outreach
from billing.language import SPOKEN, detect, of_number, plain
from billing.ratelimit import capped, limiter
from billing.vocabulary import Channel, conversation_id
from billing.scripts import cut_note, script
from connectors.once import once, saved_turn
from connectors.text import safe_patient_text
from connectors.twilio_common import TwilioInput, client_for

logger = logging.getLogger(__name__)

CHANNEL = Channel.SMS.value
MAX_SMS = 320
# English and their Spanish twins (DESIGN.md, Languages): any of them is a revocation
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT", "REVOKE",
           "PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER", "SALIR"}
OPT_IN = {"START", "UNSTOP", "YES"}
HELP = {"HELP", "INFO", "AYUDA"}
# the keywords that are Spanish: a number without a record in a language gets its answer in the keyword's
SPANISH_KEYWORDS = {"PARAR", "ALTO", "CANCELAR", "BAJA", "DETENER", "SALIR", "AYUDA", "PAGAR"}
# what a reminder offers to reply (billing/scripts.yml, utter_outreach_sms_*): the request it starts
REPLY_KEYWORDS = {"PAY": "/make_payment", "PAGAR": "/make_payment", "PLAN": "/payment_plan"}


class SmsCollector(CollectingOutputChannel):
    """Collects the answer; named after the channel so that responses
    can have SMS variations (``channel: twilio_sms``)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL


def split_sms(texts: List[str], limit: int = MAX_SMS) -> List[str]:
    """Bot messages packed into SMS-sized parts: whole messages together
    where they fit, a long one cut at sentence ends, then at spaces."""
    pieces: List[str] = []
    for text in texts:
        text = " ".join(text.split())
        while len(text) > limit:
            cut = max(text.rfind(". ", 0, limit), text.rfind("? ", 0, limit), text.rfind("! ", 0, limit))
            cut = cut + 1 if cut > limit // 3 else text.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            pieces.append(text[:cut].strip())
            text = text[cut:].strip()
        if text:
            pieces.append(text)
    parts: List[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= limit:
            parts[-1] += "\n" + piece
        else:
            parts.append(piece)
    return parts


def twiml(texts: List[str]) -> str:
    reply = MessagingResponse()
    for part in split_sms(texts):
        reply.message(part)
    return str(reply)


def bot_texts(messages: List[Dict[str, Any]]) -> List[str]:
    """What an SMS can carry of the bot's messages: the text, buttons as
    choices to reply with; custom payloads and images are not sent."""
    out = []
    for message in messages:
        text = message.get("text") or ""
        buttons = message.get("buttons") or []
        if buttons:
            text += " Reply " + ", ".join(f"\"{b.get('title')}\"" for b in buttons if b.get("title")) + "."
        if text.strip():
            out.append(text.strip())
    return out


class TwilioSmsInput(TwilioInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def provider_status(self, params: Dict[str, str]) -> Dict[str, str]:
        return {"sid": params.get("MessageSid") or params.get("SmsSid") or "",
                "status": params.get("MessageStatus") or params.get("SmsStatus") or "", "error_code": params.get("ErrorCode") or ""}

    async def answer(self, request: Request, params: Dict[str, str], on_new_message) -> str:
        sid, sender, to = params.get("MessageSid") or params.get("SmsSid"), params.get("From") or "", params.get("To") or ""
        loop = request.app.loop
        client = await loop.run_in_executor(None, client_for, to)
        if client is None:
            logger.warning("SMS to %s, which is no client's number", to)
            return twiml([script("utter_channel_unknown_number")])
        if not sid or not sender:
            logger.warning("SMS webhook without MessageSid or From for %s", client.id)
            return twiml([])
        async def work(taken_over: bool) -> Tuple[str, bool]:
            try:
                return await self._process(loop, client, sender, params, on_new_message, sid, request, taken_over), True
            except Exception:
                # not kept: Twilio's retry of this MessageSid runs the turn again
                logger.exception("SMS %s could not be answered", sid)
                return twiml([script("utter_channel_trouble", client)]), False

        return await once(request, CHANNEL, sid, client.id, work)

    async def _process(self, loop, client, sender: str, params: Dict[str, str], on_new_message, sid: str,
                       request: Optional[Request] = None, taken_over: bool = False) -> str:
        body = params.get("Body") or ""
        keyword = re.sub(r"[^A-Z]", "", plain(body.strip()).upper()) if len(body.strip()) <= 12 else ""
        opted_out = await loop.run_in_executor(None, _opted_out, client.id, sender)
        if keyword in OPT_OUT | HELP | OPT_IN:
            # the number's language: its patient's record, else the keyword's
            on_record = await loop.run_in_executor(None, _number_language, client.id, sender)
            said_in = on_record or ("es" if keyword in SPANISH_KEYWORDS else "en")
        if keyword in OPT_OUT:
            changed = await loop.run_in_executor(None, _set_opt_out, client.id, sender, True, sid)
            return twiml([script("utter_sms_opted_out", client, language=said_in)] if changed else [])
        if keyword in HELP:
            return twiml([script("utter_sms_help", client, language=said_in)])
        if keyword in OPT_IN and (opted_out or keyword != "YES"):
            await loop.run_in_executor(None, _set_opt_out, client.id, sender, False, sid)
            return twiml([script("utter_sms_resubscribed", client, language=said_in)])
        if opted_out:
            logger.info("SMS from an opted-out number for %s: not answered (START resubscribes)", client.id)
            return twiml([])
        allowed, _wait = limiter("sms").allow(f"{client.id}:{sender}")
        if not allowed:
            # no reply: answering a flood would send a text for every message
            logger.warning("SMS for %s: a number sends faster than a person types; message %s not answered", client.id, sid)
            return twiml([])
        metadata = {"client": client.id, "phone": sender, "channel": Channel.SMS.short}
        # a text back within a reminder's window is a reply to it: the conversation knows why we reached out
        reminder = await loop.run_in_executor(None, _reminder_answered, client.id, sender)
        if reminder is not None:
            metadata["outreach"] = reminder.as_metadata()
            if outreach.reply_is_who_or_what(body):
                return twiml([script("utter_outreach_reply_who", client, language=reminder.language)])
        # card numbers out, also one split over this number's texts (connectors/text.py)
        body, cut = capped(body)
        text = await safe_patient_text(request, conversation_id(Channel.SMS, sender, client.id), body, key=sid)
        if not text:
            if (params.get("NumMedia") or "0").strip() not in ("", "0"):
                on_record = await loop.run_in_executor(None, _number_language, client.id, sender)
                return twiml([script("utter_sms_media_only", client, language=on_record or "en")])
            return twiml([])
        if reminder is not None and keyword in REPLY_KEYWORDS:
            text = REPLY_KEYWORDS[keyword]  # PAY or PLAN, as the reminder offered: that request, verified first
        collector = SmsCollector()
        conversation = conversation_id(Channel.SMS, sender, client.id)
        # a dead receiver's turn (connectors/once.py): what it saved is answered, not run again
        if not (taken_over and request is not None and await saved_turn(request, conversation, sid, collector)):
            await on_new_message(UserMessage(text, collector, conversation, input_channel=CHANNEL, message_id=sid, metadata=metadata))
        return twiml(([cut_note(detect(body) if detect(body) in SPOKEN else "en")] if cut else []) + bot_texts(collector.messages))


def _reminder_answered(client_id: str, phone: str):
    with db.session_scope() as session:
        return outreach.reminder_answered(session, client_id=client_id, address=phone)


def _number_language(client_id: str, phone: str) -> Optional[str]:
    with db.session_scope() as session:
        return of_number(session, client_id, phone)


def _opted_out(client_id: str, phone: str) -> bool:
    with db.session_scope() as session:
        return outreach.is_opted_out(session, client_id=client_id, channel="sms", address=phone)


def _set_opt_out(client_id: str, phone: str, opted_out: bool, sid: Optional[str]) -> bool:
    with db.session_scope() as session:
        return outreach.set_opt_out(
            session, client_id=client_id, channel="sms", address=phone, opted_out=opted_out, source=f"sms keyword ({sid})",
        )
