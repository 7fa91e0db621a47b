"""What every account rule shares: refusing with a reason, the audit
trail of account changes, and the references patients are given."""
from __future__ import annotations

import hashlib
import secrets
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Account, AccountEvent, utcnow
from billing.refused import Refused  # noqa: F401 (every rule's refusal; reached as billing.records.Refused too)
from selfpay import settings


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


class Decision(str, Enum):
    """A partner's answer to a request (refund, write-off, assistance, name
    change, insurance to verify)."""
    APPROVE = "approve"
    DENY = "deny"


def read_decision(decision: str, note: str = "") -> Decision:
    """The decision a partner made; a denial needs a reason, since someone
    is told why.  Refused("bad_decision") or Refused("denial_needs_reason")."""
    try:
        chosen = Decision(decision)
    except ValueError:
        raise Refused("bad_decision") from None
    if chosen is Decision.DENY and not (note or "").strip():
        raise Refused("denial_needs_reason")
    return chosen


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
