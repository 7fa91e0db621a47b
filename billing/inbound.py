"""Webhook deliveries seen before.  A channel claims a message id before
it processes the message; a retry of the same id gets the stored answer
(or, while the first delivery is still being answered, waits for it)."""
from __future__ import annotations

import time
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing import db
from billing.models import InboundMessage


def claim(channel: str, message_id: str, client_id: Optional[str] = None) -> bool:
    """True if this delivery is the first with this id (process it)."""
    try:
        with db.session_scope() as session:
            session.add(InboundMessage(channel=channel, message_id=message_id, client_id=client_id))
        return True
    except IntegrityError:
        return False


def answer_of(channel: str, message_id: str, wait_seconds: float = 10.0) -> Optional[str]:
    """The answer given to the first delivery; None if it never came."""
    deadline = time.monotonic() + wait_seconds
    while True:
        with db.session_scope() as session:
            response = session.execute(
                select(InboundMessage.response).where(InboundMessage.channel == channel, InboundMessage.message_id == message_id)
            ).scalar_one_or_none()
        if response is not None or time.monotonic() >= deadline:
            return response
        time.sleep(0.2)


def record_answer(channel: str, message_id: str, response: str) -> None:
    with db.session_scope() as session:
        row = session.execute(
            select(InboundMessage).where(InboundMessage.channel == channel, InboundMessage.message_id == message_id)
        ).scalar_one()
        row.response = response
