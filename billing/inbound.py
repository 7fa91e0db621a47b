"""Webhook deliveries seen before.  A channel claims a message id before
it processes the message; a retry of the same id gets the stored answer
(or, while the first delivery is still being answered, waits for it).

A claim is its receiver's while the receiver keeps it alive: every
receiver process refreshes the claims it is working on (``keep_alive``,
a thread, every quarter of ``INBOUND_CLAIM_LEASE_SECONDS``), so a turn
that takes long (a conversation lock left by a dead server, a loaded
machine) is still its first receiver's, and a retry waits for its answer
(at most ``INBOUND_RETRY_WAIT_SECONDS``; then the caller is told to send
again).  A receiver can die before it answers (a Rasa server killed
mid-turn, its conversation moved to another server): its claim is no
longer refreshed, and a retry that finds it unanswered a lease after its
last refresh takes it over, atomically, and answers the message itself
(the channel first looks whether the dead receiver had already saved the
turn: connectors/once.py), so a message is neither lost nor answered
twice.  A turn that could not be handled gives its claim up (``release``):
its retry runs it at once."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from billing import clock, db
from billing.models import InboundMessage
from selfpay import settings

logger = logging.getLogger(__name__)


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
    while its receiver keeps the claim alive (at most ``wait_seconds``, by
    default ``INBOUND_RETRY_WAIT_SECONDS``), and takes an unanswered claim
    over once a lease passed without a refresh (its receiver is gone)."""
    wait = float(settings.get("INBOUND_RETRY_WAIT_SECONDS")) if wait_seconds is None else wait_seconds
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


def release(channel: str, message_id: str) -> None:
    """Give up an unanswered claim (the turn could not be handled): a retry runs it at once."""
    with db.session_scope() as session:
        session.execute(delete(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.message_id == message_id, InboundMessage.response.is_(None)))


class _Keeper:
    """This process's claims being answered, refreshed by one thread."""

    def __init__(self):
        self.claims: dict = {}
        self.lock = threading.Lock()
        self.thread: Optional[threading.Thread] = None

    def add(self, key: tuple) -> None:
        with self.lock:
            self.claims[key] = self.claims.get(key, 0) + 1
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.run, name="inbound-keep-alive", daemon=True)
                self.thread.start()

    def discard(self, key: tuple) -> None:
        with self.lock:
            left = self.claims.get(key, 0) - 1
            if left > 0:
                self.claims[key] = left
            else:
                self.claims.pop(key, None)

    def refresh(self) -> None:
        with self.lock:
            keys = list(self.claims)
        if not keys:
            return
        with db.session_scope() as session:
            session.execute(update(InboundMessage).where(
                tuple_(InboundMessage.channel, InboundMessage.message_id).in_(keys), InboundMessage.response.is_(None),
            ).values(received_at=clock.utcnow()).execution_options(synchronize_session=False))

    def run(self) -> None:
        while True:
            time.sleep(max(lease().total_seconds() / 4, 0.05))
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - the database away for a moment: the next refresh tries again
                logger.warning("could not refresh this process's inbound claims", exc_info=True)


_keeper = _Keeper()


class keep_alive:
    """``with keep_alive(channel, id):`` the claim stays this receiver's while the block runs."""

    def __init__(self, channel: str, message_id: str):
        self.key = (channel, message_id)

    def __enter__(self):
        _keeper.add(self.key)
        return self

    def __exit__(self, *_):
        _keeper.discard(self.key)
        return False
