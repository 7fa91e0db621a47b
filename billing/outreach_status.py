"""What Twilio's status callbacks say of an outreach attempt: a text
delivered, undelivered or failed; a call answered (by a person or a
machine), completed, unanswered or busy.  Callbacks may arrive late or out
of order: a status never moves back (a delivered text stays delivered).
Twilio's error 21610 (the number replied STOP to the client's number)
records the opt-out.  A callback for no attempt we know is ignored and
logged."""
from __future__ import annotations

import logging
from typing import Optional

from billing import clock, db, outreach
from billing.models import OutreachAttempt
from billing.records import account_event
from billing.vocabulary import OutreachChannel, OutreachStatus

logger = logging.getLogger(__name__)

OPTED_OUT_ERROR = "21610"
SMS = {"sent": OutreachStatus.SENT, "delivered": OutreachStatus.DELIVERED, "undelivered": OutreachStatus.UNDELIVERED,
       "failed": OutreachStatus.FAILED}
VOICE = {"in-progress": OutreachStatus.ANSWERED, "answered": OutreachStatus.ANSWERED, "completed": OutreachStatus.COMPLETED,
         "busy": OutreachStatus.BUSY, "no-answer": OutreachStatus.NO_ANSWER, "failed": OutreachStatus.FAILED,
         "canceled": OutreachStatus.CANCELED}
# how far along each status is: a callback never moves an attempt back
RANK = {OutreachStatus.QUEUED: 0, OutreachStatus.SENDING: 1, OutreachStatus.SENT: 2, OutreachStatus.ANSWERED: 3}
FINAL = 4


def _rank(status) -> int:
    return RANK.get(OutreachStatus(status), FINAL)


def record(attempt_id: Optional[str], sid: str, provider_status: str, *, error_code: str = "",
           answered_by: str = "") -> Optional[str]:
    """Record one callback; the attempt's status after, or None when the
    callback names no attempt of ours (or one with another SID)."""
    if not attempt_id or not attempt_id.isdigit() or not sid:
        logger.warning("status callback without an attempt or a SID: ignored")
        return None
    with db.session_scope() as session:
        attempt = session.get(OutreachAttempt, int(attempt_id))
        if attempt is None or (attempt.provider_sid and attempt.provider_sid != sid and attempt.channel == OutreachChannel.VOICE.value):
            logger.warning("status callback for an unknown attempt %s (%s): ignored", attempt_id, sid)
            return None
        table = SMS if attempt.channel == OutreachChannel.SMS.value else VOICE
        status = table.get((provider_status or "").lower())
        if answered_by:
            attempt.answered_by = answered_by[:32]
        if error_code:
            attempt.error_code = error_code[:16]
        if error_code == OPTED_OUT_ERROR:
            outreach.set_opt_out(session, client_id=attempt.client_id, channel="sms", address=attempt.to, opted_out=True,
                                 source=f"twilio {OPTED_OUT_ERROR} (attempt {attempt.id})")
        if status is None or _rank(status) <= _rank(attempt.status):
            return str(attempt.status)   # not news, or older news than we have (the first final word stands)
        before = attempt.status
        attempt.status, attempt.status_at = status, clock.utcnow()
        if attempt.provider_sid is None:
            attempt.provider_sid = sid
        account_event(session, attempt.account, "twilio", f"outreach_{status.value.replace('-', '_')}",
                      f"{attempt.campaign} {attempt.step} by {attempt.channel}: {provider_status}"
                      + (f" (error {error_code})" if error_code else ""),
                      before={"status": str(before)}, after={"status": status.value, "sid": sid})
        return status.value
