"""The notification port's SMS sender (billing.notify): texts sent outside
a reply (a partner's answer, a notice, a reminder) through Twilio's REST
API with twilio's own client, in SMS-sized parts, retried on Twilio's or
the network's failures.  Whether a text may go out at all (opt-outs,
consent) is billing.notify's decision, taken before this is called."""
from __future__ import annotations

import logging
import time
from typing import Callable, List, Optional

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from billing.notify import Message
from connectors.twilio_sms import split_sms
from selfpay import settings

logger = logging.getLogger(__name__)


class SmsSender:
    def __init__(self, account_sid: Optional[str] = None, auth_token: Optional[str] = None,
                 base_url: Optional[str] = None, attempts: int = 3, backoff: float = 0.5):
        # given here (tests), or read from the settings at each send
        self.account_sid, self.auth_token, self.base_url = account_sid, auth_token, base_url
        self.attempts = attempts
        self.backoff = backoff

    def _client(self) -> Client:
        account_sid = self.account_sid or settings.get("TWILIO_ACCOUNT_SID")
        auth_token = self.auth_token or settings.secret("TWILIO_AUTH_TOKEN")
        base_url = self.base_url or settings.get("TWILIO_API_BASE_URL")
        if not account_sid or not auth_token:
            raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to send texts")
        client = Client(account_sid, auth_token)
        if base_url:  # a local server that speaks Twilio's REST API (tests)
            client.api.base_url = base_url
        return client

    def send(self, message: Message) -> List[str]:
        """Send now, from the client's number; returns the message SIDs.
        Raises the last error once the attempts are spent."""
        twilio = self._client()
        sids = []
        for part in split_sms([message.text]):
            sids.append(self._send_part(twilio, message.sender_number, message.to, part, message.status_callback))
        return sids

    def _send_part(self, twilio: Client, from_number: str, to: str, body: str, status_callback: str = "") -> str:
        extra = {"status_callback": status_callback} if status_callback else {}
        return retried(lambda: twilio.messages.create(to=to, from_=from_number, body=body, **extra).sid, "text",
                       self.attempts, self.backoff)


def retried(create: Callable[[], str], what: str, attempts: int, backoff: float) -> str:
    """``create()`` (a Twilio REST call), tried again on Twilio's 5xx and
    429 answers and on network errors, ``attempts`` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except TwilioRestException as exc:
            if exc.status < 500 and exc.status != 429 or attempt == attempts:
                raise
            logger.warning("Twilio answered %s; retrying the %s (attempt %s)", exc.status, what, attempt)
        except OSError as exc:
            if attempt == attempts:
                raise
            logger.warning("could not reach Twilio (%s); retrying the %s (attempt %s)", exc.__class__.__name__, what, attempt)
        time.sleep(backoff * attempt)
    raise RuntimeError("unreachable")
