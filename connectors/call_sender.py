"""The outbound call port's Twilio caller (billing.calls): calls placed
through Twilio's Calls API with twilio's own client, machine detection
on (Twilio asks the voice webhook with ``AnsweredBy`` once it knows a
person or a machine answered, after a machine's greeting ends so a
voicemail is heard whole), retried on Twilio's or the network's failures."""
from __future__ import annotations

from typing import Optional

from billing.calls import Call
from connectors.sms_sender import SmsSender, retried

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
        return retried(lambda: twilio.calls.create(
            to=call.to, from_=call.from_number, url=call.url, method="POST",
            status_callback=call.status_callback, status_callback_method="POST", status_callback_event=STATUS_EVENTS,
            **extra,
        ).sid, "call", self.attempts, self.backoff)
