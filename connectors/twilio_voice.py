"""Twilio voice (``/webhooks/twilio_voice/webhook``).

The conversation is the call (``CallSid``).  A call starts with the
client's greeting and the recording notice, then a speech-and-keypad
``<Gather>``; what the caller says or keys goes to Rasa (card numbers
out, no leading "/"), and the answer is spoken: amounts and dates as
words a voice reads well, long digit strings one by one, no links.
Silence is asked about twice, then the call is handed to a partner
(or, outside partner hours, ends politely).  Actions ask the channel for
a warm transfer (``<Dial>`` the department's partner line with a whisper
of the handoff summary, or ``<Enqueue>`` in ``<client>-<department>``,
where the partner's dequeue call hears the whisper first), a keypad card
payment (``<Pay>``, tokenised; the result is charged through the
billing core once, keyed on the call) or a hang-up, with a custom
payload ``{"voice": {...}}``.  A turn that takes Rasa too long is
answered with a short hold message and a ``<Redirect>`` that picks the
answer up; the call-status callback closes the session.

Languages: the greeting offers Spanish ("para español, oprima 2", or say
"español"); the pick reaches the assistant as the caller's choice.  After
each turn the call goes on in the language the assistant settled on (its
``language`` slot); in Spanish it listens with ``es-US`` and Spanish hints,
speaks with Polly.Lupe, says amounts in words and runs ``<Pay>`` in
Spanish.  Our URLs carry the call's language (``lang``).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Dict, List, Optional, Text
from urllib.parse import urlencode

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic.request import Request
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from billing import db, handoffs, inbound, outreach, outreach_status, payments
from billing.language import SPOKEN, speakable, spoken, spoken_amount
from billing.language import chosen as language_chosen
from billing.contact import normalise_phone
from billing.models import OutreachAttempt, Patient
from billing.clients import UnknownClient, get_client
from billing.models import Account
from billing.ratelimit import capped, limiter
from billing.scripts import script
from billing.vocabulary import Channel, HandoffStatus, PaymentStatus, conversation_id
from connectors.text import safe_patient_text
from connectors.twilio_common import TwilioInput, client_for
from selfpay import saved_slots

logger = logging.getLogger(__name__)

CHANNEL = Channel.VOICE.value
HINTS = ("balance, payment, pay my bill, payment plan, insurance, explanation of benefits, EOB, statement, "
         "itemized bill, dispute, financial assistance, refund, credit, declined, representative, agent, person, español")
# what a Spanish-speaking caller says about a bill (DESIGN.md, Spanish: US Spanish on the phone)
HINTS_ES = ("cuánto debo, mi saldo, pagar, hacer un pago, plan de pagos, pagos mensuales, la aseguranza, el seguro, "
            "el deducible, el coseguro, estado de cuenta detallado, disputar un cobro, asistencia financiera, reembolso, "
            "crédito, tarjeta, representante, una persona, inglés, english")
ENDED = {"completed", "canceled", "failed", "busy", "no-answer"}
MAX_SILENCE = 2
TURN_BUDGET = 8.0  # seconds we wait for Rasa before a hold message (Twilio allows 15 in all)
VOICE = "Polly.Joanna"
# Amazon Polly through Twilio: Lupe speaks US Spanish (es-US)
VOICES = {"en": ("Polly.Joanna", "en-US"), "es": ("Polly.Lupe", "es-US")}
# the key the greeting offers for Spanish ("para español, oprima 2")
SPANISH_KEY = "2"
# what a button is offered with on the phone
PRESS = {"en": "Press {n} for {title}.", "es": "Oprima {n} para {title}."}
# <Pay>'s steps, each prompted with an approved script (utter_voice_pay_prompt_<step>)
PAY_STEPS = ("payment-card-number", "expiration-date", "security-code", "postal-code", "payment-processing")
YES = re.compile(r"\b(yes|yeah|yep|speaking|this is|it's me|that's me|s[ií]|soy yo|habla)\b", re.IGNORECASE)

class VoiceCollector(CollectingOutputChannel):
    """Collects the answer; named after the channel so that responses
    can have voice variations (``channel: twilio_voice``)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL


# answers still being worked on when the hold message went out: CallSid -> task
_pending: Dict[str, "asyncio.Task"] = {}


def for_the_ear(text: str, language: str = "en") -> str:
    """Written text made speakable: no links, no markdown, long numbers
    digit by digit (an account number, not "forty million ..."), and in
    Spanish the amounts in words ("ciento cincuenta dólares")."""
    text = re.sub(r"https?://\S+", "", text)
    text = text.replace("(yes or no)", "Please say yes or no.").replace("(sí o no)", "Por favor diga sí o no.")
    text = re.sub(r"\b(\d{6,})\b", lambda m: " ".join(m.group(1)), text)
    text = re.sub(r"[*_#`]", "", text)
    return " ".join(speakable(text, language).split())


def _count(request: Request, name: str, most: int) -> int:
    """A small counter from our own (signed) URL; anything else is 0."""
    raw = request.args.get(name) or "0"
    return min(int(raw), most) if raw.isdigit() else 0


def _step(request: Request) -> int:
    """Which of the call's turns this request answers: every listening
    URL we hand Twilio carries the next step, so a request Twilio sends
    again (same CallSid, same step) is answered once."""
    return _count(request, "step", 100_000)


def _language(request: Request) -> str:
    """The call's language, carried in our own (signed) URLs."""
    return spoken(request.args.get("lang"))


def _url(request: Request, **query: str) -> str:
    query.setdefault("lang", _language(request))
    if "turn" in query:
        # a listening URL moves to the next step; the others (a hold, a payment) keep this one
        query.setdefault("step", str(_step(request) + (1 if query["turn"] == "gather" else 0)))
    return request.path + ("?" + urlencode(query) if query else "")


def _gather(request: Request, silence: int = 0, choices: Optional[List[str]] = None, language: Optional[str] = None,
            **extra: str) -> Gather:
    """Listen for speech and keys, in the call's language (es-US with Spanish hints)."""
    language = language or _language(request)
    query = {"turn": "gather", "silence": str(silence), "lang": language, **extra}
    if choices:
        # what each key means, carried in the (signed) action URL
        query["choices"] = json.dumps(choices)
    return Gather(
        input="speech dtmf", action=_url(request, **query), method="POST",
        action_on_empty_result=True, hints=HINTS_ES if language == "es" else HINTS, speech_model="phone_call",
        enhanced=True, speech_timeout="auto", timeout=6, finish_on_key="#", language=VOICES[spoken(language)][1],
    )


def _say(node, text: str, language: str = "en") -> None:
    if text:
        voice, spoken = VOICES.get(language, VOICES["en"])
        if language == "en":
            node.say(text, voice=voice)
        else:
            node.say(text, voice=voice, language=spoken)


def _outbound_attempt(attempt_id: str, client, to: str):
    """The outreach attempt this outbound call belongs to, with the patient's
    first name and language; None when the call is not ours to speak on."""
    if not attempt_id.isdigit():
        return None
    with db.session_scope() as session:
        attempt = session.get(OutreachAttempt, int(attempt_id))
        if attempt is None or attempt.client_id != client.id or attempt.to != normalise_phone(to or ""):
            return None
        patient = session.get(Patient, attempt.patient_id)
        return {"id": attempt.id, "first_name": patient.first_name, "language": attempt.language or "en"}


def _voicemail(client, language: str) -> str:
    """Limited content: the client's name and callback number, nothing about the account."""
    reply = VoiceResponse()
    _say(reply, script("utter_outreach_voicemail", client, language=language), language)
    reply.hangup()
    return str(reply)


def outbound_turn(request: Request, client, params: Dict[str, str]) -> str:
    """An outreach call was answered (Twilio asks with ``AnsweredBy``, machine
    detection on): a machine gets the limited-content voicemail; a person
    hears the client's greeting and the recording notice and is asked for by
    first name, before anything else is said."""
    attempt = _outbound_attempt(request.args.get("attempt", ""), client, params.get("To", ""))
    if attempt is None:
        logger.warning("outbound call %s names no outreach attempt of %s: ended", params.get("CallSid"), client.id)
        reply = VoiceResponse()
        reply.hangup()
        return str(reply)
    answered_by = (params.get("AnsweredBy") or "unknown").lower()
    outreach_status.record(str(attempt["id"]), params.get("CallSid") or "", "in-progress", answered_by=answered_by)
    language = attempt["language"]
    if answered_by.startswith("machine") or answered_by == "fax":
        return _voicemail(client, language)
    reply = VoiceResponse()
    gather = Gather(input="speech dtmf", num_digits=1, timeout=6, speech_timeout="auto", method="POST",
                    action=_url(request, turn="outbound_answer", attempt=str(attempt["id"])),
                    action_on_empty_result=True, language=VOICES.get(language, VOICES["en"])[1])
    _say(gather, script("utter_outreach_call_greeting", client, language=language, first_name=attempt["first_name"]), language)
    reply.append(gather)
    reply.redirect(_url(request, turn="outbound_answer", attempt=str(attempt["id"])), method="POST")
    return str(reply)


def outbound_answer(request: Request, client, params: Dict[str, str]) -> str:
    """The answer to "may I speak with ...": the patient goes on to the
    assistant (which verifies them before anything about the account);
    anyone else, or silence, hears only the client's name and number."""
    attempt = _outbound_attempt(request.args.get("attempt", ""), client, params.get("To", ""))
    language = attempt["language"] if attempt else "en"
    heard = (params.get("SpeechResult") or "").strip()
    if attempt is None or not ((params.get("Digits") or "").strip() == "1" or YES.search(heard)):
        return _voicemail(client, language)
    # the call was made in the patient's language: the assistant goes on in it (they may still say "english")
    return _language_set(request, client, spoken(language))


def render(request: Request, client, messages: List[Dict[str, Any]], call_sid: str, language: str = "en") -> str:
    """Rasa's messages as TwiML, in the conversation's language: speech,
    then what an action asked the channel to do, else listen again."""
    reply = VoiceResponse()
    command: Optional[Dict[str, Any]] = None
    said: List[str] = []
    choices: List[str] = []
    for message in messages:
        custom = message.get("custom") or {}
        if isinstance(custom, dict) and isinstance(custom.get("voice"), dict):
            command = custom["voice"]
        text = for_the_ear(message.get("text") or "", language)
        buttons = message.get("buttons") or []
        if buttons:
            text += " " + " ".join(PRESS[language].format(n=i, title=b.get("title")) for i, b in enumerate(buttons, start=1))
            choices = [str(b.get("payload") or b.get("title") or "") for b in buttons]
        if text:
            said.append(text)
    if command and command.get("transfer"):
        for text in said:
            _say(reply, text, language)
        transfer(reply, request, client, str(command["transfer"]), command.get("handoff"))
        return str(reply)
    if command and command.get("pay"):
        for text in said:
            _say(reply, text, language)
        keypad_pay(reply, request, client, command["pay"], language)
        return str(reply)
    if command and command.get("hangup"):
        for text in said:
            _say(reply, text, language)
        reply.hangup()
        return str(reply)
    gather = _gather(request, choices=choices, language=language)
    for text in said:
        _say(gather, text, language)
    reply.append(gather)
    return str(reply)


def keypad_pay(reply: VoiceResponse, request: Request, client, pay: Dict[str, Any], language: str) -> None:
    """``<Pay>`` in the call's language: its own language, and each step
    prompted with the approved script, in the caller's voice."""
    node = reply.pay(
        input="dtmf", charge_amount="0", token_type="reusable", payment_method="credit-card",
        action=_url(request, turn="pay", account=str(pay["account"]), amount=str(pay["amount"]), lang=language),
        timeout=10, max_attempts=2, language=VOICES[language][1], description=f"{client.name} bill payment",
    )
    for step in PAY_STEPS:
        _say(node.prompt(for_=step), script(f"utter_voice_pay_prompt_{step.replace('-', '_')}", client, language=language),
             language)


def transfer(reply: VoiceResponse, request: Request, client, department: str, handoff_id) -> None:
    """Warm transfer: the partner hears the summary before the caller is
    connected (a ``<Number url>`` whisper on a partner line; on a queue,
    the partner's dequeue call says it first, see ``partner_turn``)."""
    line = client.policy.partner_lines.get(department)
    if line:
        dial = Dial(action=_url(request, turn="after_transfer"), timeout=30)
        dial.number(line, url=_url(request, turn="whisper", handoff=str(handoff_id or "")), method="POST")
        reply.append(dial)
    else:
        reply.enqueue(f"{client.id}-{department}", action=_url(request, turn="after_transfer"), method="POST")


def whisper_turn(handoff_id: str) -> str:
    """What the partner hears on answering, before the caller is put through."""
    reply = VoiceResponse()
    with db.session_scope() as session:
        try:
            handoff = handoffs.get(session, handoff_id)
        except handoffs.HandoffError:
            return str(reply)
        client = get_client(session, handoff.client_id)
        _say(reply, script("utter_voice_partner_whisper", client) + " " + handoff.summary)
    return str(reply)


def partner_turn(client_id: str, department: str, partner_phone: str) -> str:
    """A partner's call into a department queue (their phone or TwiML
    app points here): the longest-waiting caller's summary, then connect."""
    reply = VoiceResponse()
    with db.session_scope() as session:
        try:
            client = get_client(session, client_id)
        except UnknownClient:
            reply.hangup()
            return str(reply)
        waiting = [h for h in handoffs.listing(session, status=HandoffStatus.WAITING, client_id=client.id)
                   if h.channel == CHANNEL and h.department == department]
        if not waiting:
            _say(reply, script("utter_voice_partner_none_waiting", client))
            reply.hangup()
            return str(reply)
        # Twilio queues are first in, first out: the oldest waiting call is the one connected
        handoff = handoffs.claim(session, waiting[0].id, f"phone:{partner_phone or 'unknown'}")
        _say(reply, script("utter_voice_partner_whisper", client) + " " + handoff.summary)
    dial = Dial()
    dial.queue(f"{client_id}-{department}")
    reply.append(dial)
    return str(reply)


def _transfers(messages: List[Dict[str, Any]]) -> bool:
    return any(isinstance((m.get("custom") or {}).get("voice"), dict) and m["custom"]["voice"].get("transfer") for m in messages)


def chosen(request: Request, digits: str) -> Optional[str]:
    """The button a key press picks, when the last answer offered some."""
    try:
        choices = json.loads(request.args.get("choices") or "[]")
        return choices[int(digits) - 1] if digits.isdigit() and 1 <= int(digits) <= len(choices) else None
    except (ValueError, TypeError, IndexError):
        return None


def _hang_up(words: str, language: str = "en") -> str:
    """Say this and end the call."""
    reply = VoiceResponse()
    _say(reply, words, language)
    reply.hangup()
    return str(reply)


def _reminder_answered(client_id: str, phone: str):
    """The reminder this caller is calling back about, if one went to this
    number in the last week (billing.outreach.reminder_answered)."""
    if not phone:
        return None
    with db.read_scope() as session:
        return outreach.reminder_answered(session, client_id=client_id, address=phone)


def _greeting(request: Request, client, reminder=None, language: str = "en") -> str:
    """The call's start: the client's greeting and recording notice (and,
    calling back about a reminder, that we reached out, in general words),
    the offer of the other language (Spanish: "para español, oprima 2", or
    say "español"), then the first question.  The record's language speaks
    only once the caller is verified (DESIGN.md, Languages)."""
    reply = VoiceResponse()
    _say(reply, script("utter_voice_greeting", client, language=language), language)
    if reminder is not None:
        _say(reply, script("utter_voice_call_back", client, language=language), language)
    gather = _gather(request, language=language, offer="1")
    other = "en" if language == "es" else "es"
    _say(gather, script("utter_voice_language_offer", client, language=other), other)
    _say(gather, script("utter_voice_how_can_i_help", client, language=language), language)
    reply.append(gather)
    reply.redirect(_url(request, turn="gather", silence="1", lang=language), method="POST")
    return str(reply)


def language_picked(request: Request, params: Dict[str, str]) -> Optional[str]:
    """At the greeting's question: the language the caller picked by key
    (2: the one offered) or by naming it ("español", "english"), else None."""
    if request.args.get("offer") != "1":
        return None
    digits, heard = (params.get("Digits") or "").strip(), (params.get("SpeechResult") or "").strip()
    if digits == SPANISH_KEY:
        return "en" if _language(request) == "es" else "es"
    return language_chosen(heard) if heard and len(heard.split()) <= 4 else None


def _language_set(request: Request, client, language: str) -> str:
    """The caller picked a language: the question again, in it; the next
    turn tells the assistant (``metadata.language``, the patient's choice)."""
    reply = VoiceResponse()
    gather = _gather(request, language=language, picked=language)
    _say(gather, script("utter_voice_how_can_i_help", client, language=language), language)
    reply.append(gather)
    reply.redirect(_url(request, turn="gather", silence="1", lang=language, picked=language), method="POST")
    return str(reply)


async def conversation_language(request: Request, sender: str, fallback: str) -> str:
    """The language the assistant settled on for this call (its ``language``
    slot: the caller's choice, their record once verified, or their first
    words), read from the tracker store after the turn."""
    agent = getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return fallback
    try:
        tracker = await store.retrieve(sender)
    except Exception:  # noqa: BLE001 - the call goes on in the language it had
        logger.exception("call %s: the conversation's language could not be read", sender)
        return fallback
    return spoken(tracker.get_slot("language")) if tracker is not None else fallback


class TwilioVoiceInput(TwilioInput):
    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def provider_status(self, params: Dict[str, str]) -> Dict[str, str]:
        return {"sid": params.get("CallSid") or "", "status": params.get("CallStatus") or "",
                "error_code": params.get("ErrorCode") or "", "answered_by": params.get("AnsweredBy") or ""}

    async def answer(self, request: Request, params: Dict[str, str], on_new_message) -> str:
        loop = request.app.loop
        turn = request.args.get("turn")
        if turn in ("whisper", "partner", "after_transfer"):
            return await self._partner_side(request, turn, params)
        call_sid, status = params.get("CallSid") or "", (params.get("CallStatus") or "").lower()
        # an outreach call is from the client's number to the patient's
        outbound = (params.get("Direction") or "").lower().startswith("outbound")
        ours, theirs = (params.get("From"), params.get("To")) if outbound else (params.get("To"), params.get("From"))
        client = await loop.run_in_executor(None, client_for, ours)
        if client is None:
            logger.warning("call to %s, which is no client's number", ours)
            return _hang_up(script("utter_channel_unknown_number"))
        if not call_sid:
            return str(VoiceResponse())
        if turn == "outbound" and status not in ENDED:
            return await loop.run_in_executor(None, outbound_turn, request, client, params)
        if turn == "outbound_answer" and status not in ENDED:
            return await loop.run_in_executor(None, outbound_answer, request, client, params)
        sender = conversation_id(Channel.VOICE, call_sid)
        metadata = {"client": client.id, "phone": theirs, "channel": Channel.VOICE.short}
        if status in ENDED:
            # the call is over: a new session forgets the caller's verification
            await on_new_message(UserMessage("/session_start", VoiceCollector(), sender, input_channel=CHANNEL, metadata=metadata))
            return str(VoiceResponse())
        if turn == "pay":
            return await self._pay_result(request, client, params, sender, metadata, on_new_message)
        if turn == "wait":
            return await self._collect(request, client, sender, call_sid)
        if turn is None:
            reminder = await loop.run_in_executor(None, _reminder_answered, client.id, params.get("From") or "")
            return _greeting(request, client, reminder)
        picked = language_picked(request, params)
        if picked is not None:
            return _language_set(request, client, picked)
        if request.args.get("picked") in SPOKEN:
            metadata["language"] = request.args.get("picked")  # the caller's choice at the greeting: the assistant keeps it
        reminder = await loop.run_in_executor(None, _reminder_answered, client.id, params.get("From") or "")
        if reminder is not None:
            metadata["outreach"] = reminder.as_metadata()  # the conversation knows why we reached out
        return await self._caller_turn(request, client, params, sender, metadata, on_new_message)

    async def _partner_side(self, request: Request, turn: str, params: Dict[str, str]) -> str:
        """The partner's side of a transfer (not a patient's call), or the end
        of the call once the caller left the queue or the partner line."""
        loop = request.app.loop
        if turn == "whisper":
            return await loop.run_in_executor(None, whisper_turn, request.args.get("handoff", ""))
        if turn == "partner":
            return await loop.run_in_executor(
                None, partner_turn, request.args.get("client", ""), request.args.get("department", "billing"), params.get("From") or "",
            )
        return str(VoiceResponse())

    async def _caller_turn(self, request: Request, client, params: Dict[str, str], sender: str, metadata: Dict[str, Any],
                           on_new_message) -> str:
        """What the caller said or keyed (or silence), answered once per turn."""
        loop = request.app.loop
        call_sid = params.get("CallSid") or ""
        heard = capped((params.get("SpeechResult") or "").strip() or (params.get("Digits") or "").strip())[0]
        if not heard:
            silence = _count(request, "silence", MAX_SILENCE)
            if silence < MAX_SILENCE:
                return self._silence(request, client, silence)
        # a turn Twilio sends again is answered from the first delivery, before its text is read
        turn_id = f"{call_sid}:{_step(request)}"
        if not await loop.run_in_executor(None, inbound.claim, CHANNEL, turn_id, client.id):
            again = await loop.run_in_executor(None, inbound.redelivered, CHANNEL, turn_id, TURN_BUDGET)
            if not again.ours:
                return await self._replayed(request, client, sender, call_sid, again.answer)
            logger.warning("call %s: turn delivered again, its first delivery never answered: answering it now", call_sid)
        with inbound.keep_alive(CHANNEL, turn_id):  # the claim stays ours while the turn runs (billing/inbound.py)
            answer = await self._turn(request, client, sender, call_sid, params, heard, metadata, turn_id, on_new_message)
        await loop.run_in_executor(None, inbound.record_answer, CHANNEL, turn_id, answer)
        return answer

    async def _turn(self, request: Request, client, sender: str, call_sid: str, params: Dict[str, str], heard: str,
                    metadata: Dict[str, Any], turn_id: str, on_new_message) -> str:
        if not heard:
            # still nothing heard: a partner takes the call (the handoff action decides)
            text, metadata = "/human_handoff", {**metadata, "handoff_reason": "voice_silence"}
        else:
            # a key press that picks an offered button sends that button's payload
            text = chosen(request, params.get("Digits") or "") or await safe_patient_text(request, sender, heard, key=turn_id)
        allowed, _wait = limiter(Channel.VOICE.short).allow(params.get("From") or call_sid)
        if not allowed:
            logger.warning("call %s: the calling number sends turns faster than a caller can speak; ending the call", call_sid)
            answer = _hang_up(script("utter_channel_trouble", client, language=_language(request)), _language(request))
        else:
            collector = VoiceCollector()
            saved_slots.expect(sender)  # the language the turn leaves, without reading the conversation back
            task = asyncio.ensure_future(on_new_message(UserMessage(text, collector, sender, input_channel=CHANNEL, metadata=metadata)))
            task.collector = collector  # type: ignore[attr-defined]
            _pending[call_sid] = task
            answer = await self._collect(request, client, sender, call_sid)
        return answer

    async def _replayed(self, request: Request, client, sender: str, call_sid: str, earlier: Optional[str]) -> str:
        """Twilio sent this turn again: the first answer, once it is there;
        while it is still being worked on, hold and pick it up."""
        logger.info("call %s: turn delivered again, answered from the first delivery", call_sid)
        if earlier is not None:
            return earlier
        return await self._collect(request, client, sender, call_sid)

    async def _collect(self, request: Request, client, sender: str, call_sid: str) -> str:
        task = _pending.get(call_sid)
        if task is None:
            reply = VoiceResponse()
            reply.append(_gather(request))
            return str(reply)
        try:
            await asyncio.wait_for(asyncio.shield(task), TURN_BUDGET)
        except asyncio.TimeoutError:
            reply = VoiceResponse()
            _say(reply, script("utter_voice_hold", client, language=_language(request)), _language(request))
            reply.pause(length=1)
            reply.redirect(_url(request, turn="wait"), method="POST")
            return str(reply)
        _pending.pop(call_sid, None)
        messages = task.collector.messages  # type: ignore[attr-defined]
        slots = saved_slots.take(sender)
        language = spoken(slots.get("language")) if slots is not None else await conversation_language(request, sender, _language(request))
        if _count(request, "silence", MAX_SILENCE) >= MAX_SILENCE and not _transfers(messages):
            # nobody to take a silent call (outside partner hours): end it politely
            return _hang_up(script("utter_voice_silence_goodbye", client, language=language), language)
        return render(request, client, messages, call_sid, language)

    def _silence(self, request: Request, client, silence: int) -> str:
        language = _language(request)
        reply = VoiceResponse()
        # a language picked at the greeting still goes to the assistant with the first words
        picked = {"picked": request.args.get("picked")} if request.args.get("picked") in SPOKEN else {}
        gather = _gather(request, silence + 1, **picked)
        _say(gather, script("utter_voice_reprompt", client, language=language), language)
        reply.append(gather)
        reply.redirect(_url(request, turn="gather", silence=str(silence + 1)), method="POST")
        return str(reply)

    async def _pay_result(self, request: Request, client, params: Dict[str, str], sender: str, metadata, on_new_message) -> str:
        outcome = await request.app.loop.run_in_executor(
            None, charge_keyed_card, params, request.args.get("account", ""), request.args.get("amount", ""), client.id,
        )
        language = _language(request)
        reply = VoiceResponse()
        if outcome is None:
            words = script("utter_voice_pay_failed", client, language=language)
        elif outcome.status == PaymentStatus.POSTED:
            words = script("utter_voice_pay_posted", client, language=language, amount=spoken_amount(outcome.amount, language),
                           confirmation=" ".join(outcome.confirmation_number or ""), balance=spoken_amount(outcome.balance, language))
        elif outcome.status == PaymentStatus.DECLINED:
            words = script("utter_voice_pay_declined", client, language=language, amount=spoken_amount(outcome.amount, language))
        else:
            words = script("utter_voice_pay_pending", client, language=language, amount=spoken_amount(outcome.amount, language))
        _say(reply, words, language)
        gather = _gather(request)
        _say(gather, script("utter_voice_anything_else", language=language), language)
        reply.append(gather)
        return str(reply)


def charge_keyed_card(params: Dict[str, str], account_number: str, amount_text: str, client_id: str) -> Optional[payments.PaymentOutcome]:
    """Charge the token <Pay> captured, once per call: Twilio may post
    the result again, and the call's SID is the idempotency key."""
    if (params.get("Result") or "").lower() != "success" or not params.get("PaymentToken"):
        logger.info("keypad payment on call %s did not capture a card: %s", params.get("CallSid"), params.get("Result"))
        return None
    with db.session_scope() as session:
        account = session.query(Account).filter_by(account_number=account_number, client_id=client_id).one_or_none()
        if account is None:
            return None
        try:
            # the amount the patient confirmed before the keypad capture; billing checks it
            return payments.pay_with_card_token(
                session, account, params["PaymentToken"], amount_text,
                idempotency_key=f"call:{params['CallSid']}:pay:{params['PaymentToken']}", actor="patient:keypad",
                channel=Channel.VOICE.short, conversation_id=conversation_id(Channel.VOICE, params["CallSid"]),
            )
        except payments.AmountRefused as refused:
            logger.warning("keypad payment on call %s refused: %s", params.get("CallSid"), refused.reason)
            return None
