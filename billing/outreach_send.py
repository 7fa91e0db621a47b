"""Sending one outreach attempt (the worker's job): a reminder text through
the notification port, or a call through the call port, once.

An attempt is claimed before it is sent (``queued`` -> ``sending`` in one
conditional update), so a task delivered twice, or run by two workers,
sends it once; an attempt found ``sending`` belonged to a worker that
stopped mid-send, and is marked failed rather than sent again (never
twice).  Just before sending, the number's opt-outs are read again (a
STOP may have arrived since the plan).  Texts and calls from one number
keep the configured pace across every worker (billing.outreach_pace).
What a text says is the campaign's approved script in the patient's
language, with "Reply STOP to opt out" in the first text to a number."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from sqlalchemy import select, update

from billing import calls, clock, db, notify, outreach, outreach_pace
from billing.clients import get_client
from billing.models import OutreachAttempt
from billing.records import account_event
from billing.scripts import script
from billing.vocabulary import NoticeChannel, OutreachChannel, OutreachStatus
from selfpay import settings

logger = logging.getLogger(__name__)

ACTOR = "outreach"
OPTED_OUT_ERROR = "21610"        # Twilio: the number replied STOP to this sender
FIRST_TEXT_WINDOW = dt.timedelta(days=30)
SMS_STATUS_PATH = "/webhooks/twilio_sms/status"
VOICE_STATUS_PATH = "/webhooks/twilio_voice/status"
VOICE_PATH = "/webhooks/twilio_voice/webhook"
# an attempt "sending" for longer than this belonged to a worker that stopped
# mid-send (a send, with Twilio retries, takes seconds): it is failed, not sent again
SENDING_STALE_AFTER = dt.timedelta(minutes=10)
STOPPED_MID_SEND = "the worker stopped while sending; not sent again, so it is never sent twice"


def public_url(path: str, **query) -> str:
    base = (settings.get("PUBLIC_URL") or "").rstrip("/")
    return base + path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _claim(attempt_id: int) -> Optional[OutreachAttempt]:
    """This worker's claim on a queued attempt; None when another has it or it is done."""
    with db.session_scope() as session:
        claimed = session.execute(
            update(OutreachAttempt).where(OutreachAttempt.id == attempt_id, OutreachAttempt.status == OutreachStatus.QUEUED)
            .values(status=OutreachStatus.SENDING, tries=OutreachAttempt.tries + 1, status_at=clock.utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        attempt = session.get(OutreachAttempt, attempt_id)
        if attempt is None:
            logger.warning("outreach attempt %s does not exist", attempt_id)
            return None
        if not claimed:
            if _stale(attempt):
                # delivered again after a worker stopped while sending: it may have gone out, so it is not sent again
                _finish(session, attempt, OutreachStatus.FAILED, error=STOPPED_MID_SEND)
            return None   # done, or another worker is sending it now
        session.expunge(attempt)
        return attempt


def _stale(attempt: OutreachAttempt) -> bool:
    return (attempt.status == OutreachStatus.SENDING and attempt.sent_at is None and attempt.provider_sid is None
            and attempt.status_at is not None and attempt.status_at < clock.utcnow() - SENDING_STALE_AFTER)


def fail_stale_sends() -> int:
    """Fail the attempts whose worker stopped mid-send (beat does this before
    each plan, so none stays "sending"); how many."""
    with db.session_scope() as session:
        stale = [a for a in session.execute(select(OutreachAttempt).where(
            OutreachAttempt.status == OutreachStatus.SENDING,
            OutreachAttempt.status_at < clock.utcnow() - SENDING_STALE_AFTER)).scalars() if _stale(a)]
        for attempt in stale:
            _finish(session, attempt, OutreachStatus.FAILED, error=STOPPED_MID_SEND)
    return len(stale)


def _finish(session, attempt: OutreachAttempt, status: OutreachStatus, *, sid: Optional[str] = None, error: str = "",
            code=None) -> None:
    attempt.status, attempt.status_at = status, clock.utcnow()
    if sid:
        attempt.provider_sid, attempt.sent_at = sid, clock.utcnow()
    if error:
        attempt.error, attempt.error_code = error[:500], (str(code) if code else None)
    account_event(session, attempt.account, ACTOR, f"outreach_{status.value.replace('-', '_')}",
                  f"{attempt.campaign} {attempt.step} by {attempt.channel}" + (f": {error[:200]}" if error else ""),
                  after={"attempt": attempt.id, "status": status.value, "sid": sid})


def _first_text(attempt: OutreachAttempt) -> bool:
    """No earlier outreach text to this number from this client in the last 30 days."""
    with db.session_scope() as session:
        since = clock.utcnow() - FIRST_TEXT_WINDOW
        return session.execute(select(OutreachAttempt.id).where(
            OutreachAttempt.client_id == attempt.client_id, OutreachAttempt.to == attempt.to,
            OutreachAttempt.channel == OutreachChannel.SMS.value, OutreachAttempt.id != attempt.id,
            OutreachAttempt.sent_at.is_not(None), OutreachAttempt.sent_at > since)).first() is None


def text_of(client, attempt: OutreachAttempt, first: bool) -> str:
    words = script(f"utter_outreach_sms_{attempt.campaign}", client, language=attempt.language)
    if first:
        words += " " + script("utter_outreach_sms_opt_out_line", client, language=attempt.language)
    return words


def send(attempt_id: int) -> Optional[str]:
    """Send the attempt once; its status after (None: not this call's to send)."""
    attempt = _claim(attempt_id)
    if attempt is None:
        with db.session_scope() as session:
            row = session.get(OutreachAttempt, attempt_id)
            return row.status if row else None
    with db.session_scope() as session:
        client = get_client(session, attempt.client_id)
        opted_out = any(outreach.is_opted_out(session, client_id=client.id, channel=c, address=attempt.to) for c in ("sms", "voice"))
    sid, status, error, code = None, OutreachStatus.SENT, "", None
    if opted_out:
        status, error = OutreachStatus.CANCELED, "the number opted out after the plan; not sent"
    else:
        # the send slot is taken last before Twilio is called: the pace is what the carrier sees
        def take_slot():
            outreach_pace.wait_for_slot(client.phone_number)
        try:
            if attempt.channel == OutreachChannel.SMS.value:
                sids = notify.tell_address(client, NoticeChannel.SMS, attempt.to, text_of(client, attempt, _first_text(attempt)),
                                           status_callback=public_url(SMS_STATUS_PATH, attempt=attempt.id), before_send=take_slot)
                sid = sids[0] if sids else None
            else:
                take_slot()
                sid = calls.place(calls.Call(
                    client_id=client.id, to=attempt.to, from_number=client.phone_number,
                    url=public_url(VOICE_PATH, turn="outbound", attempt=attempt.id),
                    status_callback=public_url(VOICE_STATUS_PATH, attempt=attempt.id)))
        except notify.NotSent as exc:
            status, error, code = OutreachStatus.FAILED, f"{exc.reason}: {exc}", getattr(exc, "code", None)
    with db.session_scope() as session:
        row = session.get(OutreachAttempt, attempt.id)
        _finish(session, row, status, sid=sid, error=error, code=code)
        if code is not None and str(code) == OPTED_OUT_ERROR:
            outreach.set_opt_out(session, client_id=row.client_id, channel="sms", address=row.to, opted_out=True,
                                 source=f"twilio {OPTED_OUT_ERROR} (attempt {row.id})")
    logger.info("outreach attempt %s (%s, %s): %s", attempt.id, attempt.campaign, attempt.channel, status.value)
    return status.value
