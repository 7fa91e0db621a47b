"""The outbound call port's Twilio caller (billing.calls): calls placed
through Twilio's Calls API with twilio's own client, machine detection
on (Twilio asks the voice webhook with ``AnsweredBy`` once it knows a
person or a machine answered, after a machine's greeting ends so a
voicemail is heard whole), retried on Twilio's or the network's failures."""
from __future__ import annotations

import logging
import time
from typing import Optional

from twilio.base.exceptions import TwilioRestException

from billing.calls import Call
from connectors.sms_sender import SmsSender

logger = logging.getLogger(__name__)

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class CallSender:
    def __init__(self, account_sid: Optional[str] = None, auth_token: Optional[str] = None,
                 base_url: Optional[str] = None, attempts: int = 3, backoff: float = 0.5):
        # the same credentials and API base as the texts
        self._twilio = SmsSender(account_sid, auth_token, base_url)
        self.attempts, self.backoff = attempts, backoff

    def call(self, call: Call) -> str:
        twilio = self._twilio._client()
        extra = {"machine_detection": "DetectMessageEnd", "machine_detection_timeout": 30} if call.machine_detection else {}
        for attempt in range(1, self.attempts + 1):
            try:
                return twilio.calls.create(
                    to=call.to, from_=call.from_number, url=call.url, method="POST",
                    status_callback=call.status_callback, status_callback_method="POST", status_callback_event=STATUS_EVENTS,
                    **extra,
                ).sid
            except TwilioRestException as exc:
                if exc.status < 500 and exc.status != 429 or attempt == self.attempts:
                    raise
                logger.warning("Twilio answered %s; retrying the call (attempt %s)", exc.status, attempt)
            except OSError as exc:
                if attempt == self.attempts:
                    raise
                logger.warning("could not reach Twilio (%s); retrying the call (attempt %s)", exc.__class__.__name__, attempt)
            time.sleep(self.backoff * attempt)
        raise RuntimeError("unreachable")
