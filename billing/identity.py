"""Identity verification: date of birth AND (account number OR full name),
matched only within the conversation's client."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import Account, IdentityCheck, Patient, utcnow


@dataclass(frozen=True)
class VerifiedPatient:
    patient_id: str
    client_id: str
    first_name: str
    account_numbers: tuple[str, ...]


def normalise_name(name: str) -> list[str]:
    """'  García-López,  MARIA ' -> ['garcia', 'lopez', 'maria']."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.findall(r"[a-z]+", text)


def names_match(given: str, patient: Patient) -> bool:
    """First and last name must both match; a middle name or initial in
    between is allowed.  Order "last, first" is accepted too."""
    words = normalise_name(given)
    first = normalise_name(patient.first_name)
    last = normalise_name(patient.last_name)
    if len(words) < len(first) + len(last):
        return False
    if words[: len(first)] == first and words[-len(last):] == last:
        return True
    return words[: len(last)] == last and words[-len(first):] == first


def normalise_account_number(value: str) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def verify(
    session: Session,
    client_id: str,
    date_of_birth: dt.date,
    *,
    account_number: str | None = None,
    full_name: str | None = None,
) -> VerifiedPatient | None:
    """The patient matching every answer, or None.  Never says which
    answer was wrong: a caller learns nothing from a failed attempt."""
    if not account_number and not full_name:
        return None
    query = select(Patient).where(Patient.client_id == client_id, Patient.date_of_birth == date_of_birth)
    candidates = list(session.execute(query).scalars())
    matches = []
    for patient in candidates:
        if account_number:
            wanted = normalise_account_number(account_number)
            if any(a.account_number == wanted and a.client_id == client_id for a in patient.accounts):
                matches.append(patient)
        elif names_match(full_name, patient):
            matches.append(patient)
    if len(matches) != 1:
        # two patients with the same name and birthday: ask for the account number instead
        return None
    patient = matches[0]
    return VerifiedPatient(
        patient_id=patient.id,
        client_id=patient.client_id,
        first_name=patient.first_name,
        account_numbers=tuple(a.account_number for a in patient.accounts if a.client_id == client_id),
    )


def record_check(
    session: Session,
    *,
    client_id: str,
    conversation_id: str,
    outcome: str,
    channel: str | None = None,
    patient_id: str | None = None,
) -> None:
    """Keep the outcome of an attempt for audit; the answers are never stored."""
    session.add(
        IdentityCheck(
            client_id=client_id,
            conversation_id=conversation_id,
            outcome=outcome,
            channel=channel,
            patient_id=patient_id,
        )
    )


def account_belongs_to(session: Session, patient_id: str, account_number: str) -> Account | None:
    account = session.execute(
        select(Account).where(Account.account_number == normalise_account_number(account_number))
    ).scalar_one_or_none()
    return account if account is not None and account.patient_id == patient_id else None


LOCKOUT_PERIOD = dt.timedelta(hours=24)


def is_locked(session: Session, *, client_id: str, conversation_id: str, now: dt.datetime | None = None) -> bool:
    """A conversation that used up its attempts stays locked for a day,
    so waiting for a new session does not buy more guesses."""
    since = (now or utcnow()) - LOCKOUT_PERIOD
    return (
        session.execute(
            select(IdentityCheck.id).where(
                IdentityCheck.client_id == client_id,
                IdentityCheck.conversation_id == conversation_id,
                IdentityCheck.outcome == "locked",
                IdentityCheck.at >= since,
            ).limit(1)
        ).first()
        is not None
    )
