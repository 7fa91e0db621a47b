"""Texts the bot sends outside a reply (a partner's answer, a reminder):
through Twilio's REST API with twilio's own client, in SMS-sized parts,
retried on Twilio's or the network's failures, never to a number that
opted out of this client's texts."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import List, Optional

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from billing import db, outreach
from connectors.twilio_sms import split_sms
from selfpay import settings

logger = logging.getLogger(__name__)


class OptedOut(Exception):
    """The number has withdrawn consent for this client's texts."""


class SmsSender:
    def __init__(self, account_sid: Optional[str] = None, auth_token: Optional[str] = None,
                 base_url: Optional[str] = None, attempts: int = 3, backoff: float = 0.5):
        self.account_sid = account_sid or settings.get("TWILIO_ACCOUNT_SID")
        self.auth_token = auth_token or settings.secret("TWILIO_AUTH_TOKEN")
        self.base_url = base_url or settings.get("TWILIO_API_BASE_URL")
        self.attempts = attempts
        self.backoff = backoff

    def _client(self) -> Client:
        if not self.account_sid or not self.auth_token:
            raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to send texts")
        client = Client(self.account_sid, self.auth_token)
        if self.base_url:  # a local server that speaks Twilio's REST API (tests)
            client.api.base_url = self.base_url
        return client

    def send(self, client_id: str, from_number: str, to: str, text: str) -> List[str]:
        """Send now; returns the message SIDs.  Raises OptedOut, or the
        last error once the attempts are spent."""
        with db.session_scope() as session:
            if outreach.is_opted_out(session, client_id=client_id, channel="sms", address=to):
                logger.info("text to an opted-out number for %s not sent", client_id)
                raise OptedOut(to)
        twilio = self._client()
        sids = []
        for part in split_sms([text]):
            sids.append(self._send_part(twilio, from_number, to, part))
        return sids

    def _send_part(self, twilio: Client, from_number: str, to: str, body: str) -> str:
        for attempt in range(1, self.attempts + 1):
            try:
                return twilio.messages.create(to=to, from_=from_number, body=body).sid
            except TwilioRestException as exc:
                if exc.status < 500 and exc.status != 429 or attempt == self.attempts:
                    raise
                logger.warning("Twilio answered %s; retrying the text (attempt %s)", exc.status, attempt)
            except OSError as exc:
                if attempt == self.attempts:
                    raise
                logger.warning("could not reach Twilio (%s); retrying the text (attempt %s)", exc.__class__.__name__, attempt)
            time.sleep(self.backoff * attempt)
        raise RuntimeError("unreachable")

    async def send_later(self, client_id: str, from_number: str, to: str, text: str) -> List[str]:
        """The same, off the event loop, for a web handler."""
        return await asyncio.get_running_loop().run_in_executor(None, self.send, client_id, from_number, to, text)
