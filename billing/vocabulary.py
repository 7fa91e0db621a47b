"""One vocabulary for every room: the channels a conversation arrives on,
the channels a notice goes out on, and the conversation id each channel's
connector makes from its address (and the desk reads back).

Values are the strings already stored in the databases and trackers, so
an enum member compares equal to the stored text."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional


class Channel(str, Enum):
    """A conversation's channel: the Rasa input channel's name."""
    SMS = "twilio_sms"
    VOICE = "twilio_voice"
    WEBCHAT = "webchat"
    REST = "rest"

    @property
    def short(self) -> str:
        """The short name in settings, rate limits and consent rows."""
        return _SHORT[self]

    @property
    def words(self) -> str:
        """How a partner reads it in a handoff summary."""
        return _WORDS[self]

    @classmethod
    def named(cls, name: Optional[str]) -> Optional["Channel"]:
        """The channel for a Rasa name or a short name ("voice", "sms"), or None."""
        if not name:
            return None
        for channel in cls:
            if name in (channel.value, channel.short):
                return channel
        return None


_SHORT = {Channel.SMS: "sms", Channel.VOICE: "voice", Channel.WEBCHAT: "webchat", Channel.REST: "rest"}
_WORDS = {Channel.SMS: "SMS", Channel.VOICE: "phone call", Channel.WEBCHAT: "web chat", Channel.REST: "chat"}
# the prefix of each channel's conversation ids; REST senders carry none
_PREFIX = {Channel.SMS: "sms", Channel.VOICE: "voice", Channel.WEBCHAT: "web"}


class NoticeChannel(str, Enum):
    """How a message reaches a patient outside a reply (billing.notify)."""
    SMS = "sms"
    EMAIL = "email"
    CHAT = "chat"  # a line in the patient's open web chat or REST conversation


@dataclass(frozen=True)
class ConversationRef:
    channel: Channel
    address: str                 # the phone number, CallSid, browser id or REST sender
    client_id: Optional[str] = None


def conversation_id(channel: Channel, address: str, client_id: Optional[str] = None) -> str:
    """The one way a conversation id is made: ``sms:<client>:<phone>``,
    ``voice:<CallSid>``, ``web:<client>:<browser id>``, or the REST sender."""
    channel = Channel(channel)
    if channel is Channel.REST:
        return address
    if channel is Channel.VOICE:
        return f"voice:{address}"
    if not client_id:
        raise ValueError(f"a {channel.short} conversation id needs its client")
    return f"{_PREFIX[channel]}:{client_id}:{address}"


def read_conversation_id(conversation: Optional[str]) -> Optional[ConversationRef]:
    """The channel, client and address a conversation id holds (None for none)."""
    if not conversation:
        return None
    prefix, _, rest = conversation.partition(":")
    if prefix == "voice" and rest:
        return ConversationRef(Channel.VOICE, rest)
    for channel, known in _PREFIX.items():
        if prefix == known and ":" in rest:
            client_id, _, address = rest.partition(":")
            return ConversationRef(channel, address, client_id)
    return ConversationRef(Channel.REST, conversation)


def channel_of_conversation(conversation: Optional[str]) -> Optional[Channel]:
    ref = read_conversation_id(conversation)
    return ref.channel if ref else None


# --- the statuses the billing database stores, one enum per table ------------

class Status(str, Enum):
    """A stored status: compares equal to its text and prints as it."""

    def __str__(self) -> str:
        return self.value


class PaymentStatus(Status):
    SCHEDULED = "scheduled"   # charged on its date by the daily run
    PENDING = "pending"       # sent to the processor, no answer yet
    POSTED = "posted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class PlanStatus(Status):
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"


class InstallmentStatus(Status):
    DUE = "due"
    PAID = "paid"
    MISSED = "missed"
    REPLACED = "replaced"     # the plan's terms changed


class HandoffStatus(Status):
    WAITING = "waiting"
    ACTIVE = "active"         # a partner claimed it
    CLOSED = "closed"


class DisputeStatus(Status):
    OPEN = "open"
    ADJUSTED = "adjusted"
    UPHELD = "upheld"


class RequestStatus(Status):
    """A refund or write-off request."""
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"
    REFUNDED = "refunded"
    FAILED = "failed"


class ApplicationStatus(Status):
    OPEN = "open"
    APPROVED = "approved"
    DENIED = "denied"


class CoverageStatus(Status):
    """Insurance a patient reported."""
    PENDING_VERIFICATION = "pending_verification"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ChangeStatus(Status):
    """A change of contact details or name."""
    APPLIED = "applied"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    DENIED = "denied"


class DeliveryStatus(Status):
    """An itemized statement's delivery."""
    SENT = "sent"
    QUEUED = "queued"
    MAILED = "mailed"
    DOWNLOADED = "downloaded"
    FAILED = "failed"
    LOCKED = "locked"


class TransferStatus(Status):
    """A balance moved back to insurance."""
    OPEN = "open"
    CLOSED = "closed"


class OutreachChannel(str, Enum):
    """How a campaign reaches a patient: a text or a call."""
    SMS = "sms"
    VOICE = "voice"


class OutreachDecision(str, Enum):
    """What the planner decided for one contact that is due."""
    SEND = "send"
    SKIP = "skip"
    DEFER = "defer"


class OutreachReason(str, Enum):
    """Why the planner sends, skips or defers a contact."""
    DUE = "due"                                  # sent: the campaign's day, every rule allows it
    ALREADY_SENT = "already_sent"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    CHANNEL_DISABLED = "channel_disabled"
    NO_ADDRESS = "no_address"                    # no usable phone number on file
    QUIET_HOURS = "quiet_hours"
    CAP_REACHED = "cap_reached"
    RECENT_CONVERSATION = "recent_conversation"
    HOLD = "hold"
    SMALL_BALANCE = "small_balance"
    NOTHING_OWED = "nothing_owed"
    WRONG_NUMBER = "wrong_number"
    PAUSED = "paused"                            # a supervisor paused the campaign


class OutreachStatus(Status):
    """An outreach attempt: recorded, handed to the provider, and what the
    provider's status callbacks said of it."""
    QUEUED = "queued"            # recorded; the worker has it
    SENDING = "sending"          # the worker is handing it to Twilio
    SENT = "sent"                # Twilio accepted it (a text sent, a call placed)
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    ANSWERED = "answered"        # a call someone (or a machine) picked up
    COMPLETED = "completed"      # a call that ended after being answered
    CANCELED = "canceled"


# an attempt the provider has not finished with
OUTREACH_OPEN = (OutreachStatus.QUEUED, OutreachStatus.SENDING)
