"""What every account rule shares: refusing with a reason, the audit
trail of account changes, and the references patients are given."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Account, AccountEvent, utcnow
from selfpay import settings


class Refused(ValueError):
    """A rule said no; ``reason`` is the machine-readable why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def account_event(session: Session, account: Account, actor: str, action: str, reason: str, before=None, after=None) -> None:
    """One line of the account's audit trail: who, what, why, before and after."""
    session.add(AccountEvent(
        actor=actor, client_id=account.client_id, patient_id=account.patient_id, account_id=account.id, action=action,
        reason=reason, before=before, after=after,
    ))


def patient_event(session: Session, patient, actor: str, action: str, reason: str, before=None, after=None) -> None:
    """An audit line about the patient rather than one account (contact
    details, insurance on file)."""
    session.add(AccountEvent(
        actor=actor, client_id=patient.client_id, patient_id=patient.id, account_id=None, action=action, reason=reason,
        before=before, after=after,
    ))


def new_reference(session: Session, column, prefix: str) -> str:
    """A short reference a patient can read out ("D-3F9A1C"), unique in ``column``."""
    while True:
        reference = f"{prefix}-{secrets.token_hex(3).upper()}"
        if session.execute(select(column).where(column == reference)).first() is None:
            return reference


def decide(row, status: str, actor: str, note: str = "") -> None:
    """Record a partner's decision on a request (status, who, when, why)."""
    row.status, row.decided_by, row.decided_at = status, actor, utcnow()
    row.decision_note = (note or "").strip()[:500] or None


def token_hash(raw_token: str) -> str:
    """What is stored of a one-time link's token (payment and statement links)."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def desk_url(path: str) -> str:
    """A page the desk serves to patients (payment and statement links)."""
    return settings.get("DESK_PUBLIC_URL").rstrip("/") + path
