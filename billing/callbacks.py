"""Callback requests a partner works from the queue."""
from __future__ import annotations

from sqlalchemy.orm import Session

from billing.models import CallbackRequest


def request_callback(
    session: Session,
    *,
    client_id: str,
    conversation_id: str,
    phone: str,
    preferred_time: str | None,
    channel: str | None = None,
    patient_id: str | None = None,
) -> CallbackRequest:
    request = CallbackRequest(
        client_id=client_id,
        conversation_id=conversation_id,
        phone=phone,
        preferred_time=(preferred_time or "")[:200] or None,
        channel=channel,
        patient_id=patient_id,
    )
    session.add(request)
    session.flush()
    return request
