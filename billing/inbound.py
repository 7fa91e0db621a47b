"""Webhook deliveries seen before.  A channel claims a message id before
it processes the message; a retry of the same id gets the stored answer
(or, while the first delivery is still being answered, waits for it).

A claim is its receiver's for ``INBOUND_CLAIM_LEASE_SECONDS`` (a turn takes
well under that; Twilio gives a whole webhook 15 s).  A receiver can die
before it answers (a Rasa server killed mid-turn, its conversation moved to
another server): a retry that finds the claim unanswered after its lease
takes it over, atomically, and answers the message itself, so a message is
neither lost nor answered twice."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from billing import clock, db
from billing.models import InboundMessage
from selfpay import settings


def claim(channel: str, message_id: str, client_id: Optional[str] = None) -> bool:
    """True if this delivery is the first with this id (process it)."""
    try:
        with db.session_scope() as session:
            session.add(InboundMessage(channel=channel, message_id=message_id, client_id=client_id))
        return True
    except IntegrityError:
        return False


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.get("INBOUND_CLAIM_LEASE_SECONDS")))


@dataclass(frozen=True)
class Redelivery:
    """What a delivery of an id claimed before gets: the first delivery's
    answer, or ``ours`` (its receiver never answered: answer it now), or
    neither (still being answered when the wait ran out)."""

    answer: Optional[str]
    ours: bool = False


def redelivered(channel: str, message_id: str, wait_seconds: Optional[float] = None) -> Redelivery:
    """A delivery whose id was claimed before: waits for the first answer
    while the claim's lease runs (at most ``wait_seconds``, by default the
    lease and a second), then takes an unanswered claim over."""
    wait = lease().total_seconds() + 1 if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    where = (InboundMessage.channel == channel, InboundMessage.message_id == message_id)
    while True:
        with db.session_scope() as session:
            row = session.execute(select(InboundMessage.response, InboundMessage.received_at).where(*where)).one_or_none()
            if row is None:
                return Redelivery(None)
            if row.response is not None:
                return Redelivery(row.response)
            now = clock.utcnow()
            if now >= row.received_at + lease():
                # the first receiver is gone: this delivery's, if no other retry took it first
                taken = session.execute(
                    update(InboundMessage).where(*where, InboundMessage.response.is_(None),
                                                 InboundMessage.received_at <= now - lease()).values(received_at=now)
                ).rowcount
                if taken == 1:
                    return Redelivery(None, ours=True)
        if time.monotonic() >= deadline:
            return Redelivery(None)
        time.sleep(0.2)


def record_answer(channel: str, message_id: str, response: str) -> None:
    with db.session_scope() as session:
        row = session.execute(
            select(InboundMessage).where(InboundMessage.channel == channel, InboundMessage.message_id == message_id)
        ).scalar_one()
        row.response = response
