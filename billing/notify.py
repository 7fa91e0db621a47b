"""The notification port: tell this patient, or this number or address,
this message on this channel.

Billing decides here, once, whether a message may go out: a number or
address that opted out of the client's messages on that channel is never
sent to, and a message to the patient's own contact details needs the
consent on file.  How a message travels is the outside world's business:
``connectors`` implements a ``Sender`` per channel (Twilio SMS, SMTP email,
the web chat's conversation), and each process installs them at start-up
(``connectors.wiring.install``).  The desk, the bot's actions, and later
outreach call ``tell_address`` or ``tell_patient``, never an adapter."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Protocol

from billing import db, outreach
from billing.models import Patient
from billing.vocabulary import NoticeChannel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One message to one address.  ``sender_number`` is the client's own
    number (a text goes out from it); ``author`` says who speaks in a
    conversation line (``bot`` or a partner's username)."""
    client_id: str
    channel: NoticeChannel
    to: str
    text: str
    sender_number: str = ""
    subject: str = ""
    author: str = "bot"
    # where the provider reports delivery (a text: Twilio's StatusCallback)
    status_callback: str = ""


class Sender(Protocol):
    def send(self, message: Message) -> List[str]:
        """Deliver now; return the provider's ids.  Raise NoRoute when the
        channel is not configured; any other error is a failed delivery."""


class NotSent(Exception):
    """The message did not go out; ``reason`` says why in a few words."""
    reason = "not sent"


class OptedOut(NotSent):
    reason = "opted out"


class NoConsent(NotSent):
    reason = "no consent on file"


class NoRoute(NotSent):
    """No way to send on this channel (nothing installed, no server, no
    address on file)."""
    reason = "no route"


class DeliveryFailed(NotSent):
    reason = "delivery failed"
    code = None   # the provider's error code, when it gave one (Twilio 21610: the number opted out)


_senders: Dict[NoticeChannel, Sender] = {}


def install(channel: NoticeChannel | str, sender: Sender) -> None:
    """A composition root installs the adapter for a channel."""
    _senders[NoticeChannel(channel)] = sender


def installed(channel: NoticeChannel | str) -> Optional[Sender]:
    return _senders.get(NoticeChannel(channel))


def may_send(client_id: str, channel: NoticeChannel | str, to: str) -> bool:
    """The one opt-out decision: has this address withdrawn consent for this
    client's messages on this channel (or on all of them)?"""
    channel = NoticeChannel(channel)
    if channel is NoticeChannel.CHAT:
        return True  # a line in the patient's own open conversation
    with db.session_scope() as session:
        return not outreach.is_opted_out(session, client_id=client_id, channel=channel.value, address=to)


def tell_address(client, channel: NoticeChannel | str, to: str, text: str, *, subject: str = "", author: str = "bot",
                 status_callback: str = "", before_send: Optional[Callable[[], None]] = None) -> List[str]:
    """Send ``text`` to a number, an email address or (chat) a conversation
    id of ``client``'s.  Reads consent in its own transaction: the caller
    must not hold a write transaction on SQLite.  ``before_send`` runs last
    before the provider is called (outreach waits there for its send slot).
    Raises a NotSent."""
    channel = NoticeChannel(channel)
    if not to:
        raise NoRoute(f"no {channel.value} address")
    if not may_send(client.id, channel, to):
        logger.info("%s to an opted-out address for %s not sent", channel.value, client.id)
        raise OptedOut(to)
    sender = _senders.get(channel)
    if sender is None:
        raise NoRoute(f"no {channel.value} sender is installed in this process")
    message = Message(client_id=client.id, channel=channel, to=to, text=text, sender_number=client.phone_number,
                      subject=subject, author=author, status_callback=status_callback)
    if before_send is not None:
        before_send()
    try:
        return sender.send(message)
    except NotSent:
        raise
    except Exception as exc:  # the provider failed after its own retries
        logger.error("%s to a patient failed: %s", channel.value, exc)
        failed = DeliveryFailed(str(exc))
        failed.code = getattr(exc, "code", None)
        raise failed from exc


def tell_patient(client, patient_id: str, channel: NoticeChannel | str, text: str, *, subject: str = "") -> tuple[str, List[str]]:
    """Send ``text`` to the patient's own phone (sms) or email on file, only
    with their consent for that channel.  Returns (address, provider ids);
    raises a NotSent."""
    channel = NoticeChannel(channel)
    with db.session_scope() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NoRoute("no such patient")
        if channel is NoticeChannel.SMS:
            to, consent = patient.phone, patient.consent_sms
        elif channel is NoticeChannel.EMAIL:
            to, consent = patient.email, bool(patient.email)
        else:
            raise NoRoute(f"a patient is not told on {channel.value} outside a conversation")
    if not to:
        raise NoRoute(f"no {channel.value} address on file")
    if not consent:
        raise NoConsent(channel.value)
    return to, tell_address(client, channel, to, text, subject=subject)
