"""Identity verification: date of birth AND (account number OR full name),
matched only within the conversation's client.

Failed attempts are limited twice (DESIGN.md, Identity): per conversation
(the client's ``max_identity_attempts``, then the conversation is locked)
and per patient, across conversations and channels: 3 x the client's
attempts within 24 hours against one patient lock self-service
verification of that patient for 24 hours, unless a partner who has
verified the caller lifts the lock in the desk (``unlock``).  ``check`` is
the one place both rules are applied."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import Account, IdentityCheck, IdentityFailure, IdentityLock, Patient, utcnow
from billing.refused import Refused


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
    at: dt.datetime | None = None,
) -> None:
    """Keep the outcome of an attempt for audit; the answers are never stored."""
    session.add(
        IdentityCheck(
            at=at or utcnow(),
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


# --- failures counted per patient -------------------------------------------

PATIENT_LOCK_MULTIPLE = 3                    # the client's attempts, three times over
PATIENT_WINDOW = dt.timedelta(hours=24)      # ... within 24 hours
PATIENT_LOCK_PERIOD = dt.timedelta(hours=24)  # lock self-service verification for 24 hours


class IdentityError(Refused):
    """An unlock refused: ``reason`` is note_required or not_locked."""


@dataclass(frozen=True)
class Attempt:
    """What one verification attempt came to.  ``outcome``: verified,
    no_match, locked (this conversation used up its attempts) or
    patient_locked (the patient the answer names is locked: refused, right
    answer or wrong, so a refusal says nothing about the answers)."""

    outcome: str
    match: VerifiedPatient | None
    attempts: int           # this conversation's failed attempts, this one included
    max_attempts: int
    locked_until: dt.datetime | None = None  # the patient's lock, when patient_locked

    @property
    def attempts_left(self) -> int:
        return max(self.max_attempts - self.attempts, 0)

    @property
    def verified(self) -> bool:
        return self.outcome == "verified"

    @property
    def lock(self) -> str | None:
        """Whose lock ended verification: "patient" (the patient's, across
        conversations), "conversation" (its attempts are used up), or None."""
        return {"patient_locked": "patient", "locked": "conversation"}.get(self.outcome)


def _naive_utc(now: dt.datetime | None) -> dt.datetime:
    moment = now or utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def patients_named(session: Session, client_id: str, *, account_number: str | None = None,
                   full_name: str | None = None) -> list[Patient]:
    """The client's patients the account number (or else the full name)
    names, whatever the date of birth."""
    if account_number:
        account = session.execute(
            select(Account).where(Account.account_number == normalise_account_number(account_number),
                                  Account.client_id == client_id)
        ).scalar_one_or_none()
        return [account.patient] if account is not None and account.patient.client_id == client_id else []
    if full_name:
        # names are compared without accents or case, so in Python: read only the names
        rows = session.execute(select(Patient.id, Patient.first_name, Patient.last_name).where(Patient.client_id == client_id))
        return [session.get(Patient, row.id) for row in rows if names_match(full_name, row)]
    return []


def patient_lock(session: Session, patient_id: str, now: dt.datetime | None = None) -> IdentityLock | None:
    """The patient's lock in force now, or None."""
    moment = _naive_utc(now)
    return session.execute(
        select(IdentityLock).where(
            IdentityLock.patient_id == patient_id,
            IdentityLock.locked_at <= moment,
            IdentityLock.locked_until > moment,
            IdentityLock.unlocked_at.is_(None),
        ).order_by(IdentityLock.locked_until.desc()).limit(1)
    ).scalar_one_or_none()


def _counting_since(session: Session, patient_id: str, moment: dt.datetime) -> dt.datetime:
    """Failures count from 24 hours ago, or from when the last lock ended
    (expired or lifted), if later: a lifted lock starts the count again."""
    since = moment - PATIENT_WINDOW
    for lock in session.execute(select(IdentityLock).where(IdentityLock.patient_id == patient_id)).scalars():
        ended = lock.unlocked_at or lock.locked_until
        if ended <= moment and ended > since:
            since = ended
    return since


def failures_counted(session: Session, patient_id: str, now: dt.datetime | None = None) -> int:
    """Failures against the patient that count towards a lock now."""
    moment = _naive_utc(now)
    since = _counting_since(session, patient_id, moment)
    return session.execute(
        select(func.count(IdentityFailure.id)).where(
            IdentityFailure.patient_id == patient_id, IdentityFailure.at > since, IdentityFailure.at <= moment)
    ).scalar_one()


def check(
    session: Session,
    client_id: str,
    date_of_birth: dt.date,
    *,
    account_number: str | None = None,
    full_name: str | None = None,
    conversation_id: str,
    channel: str | None = None,
    failed_before: int = 0,
    max_attempts: int = 3,
    now: dt.datetime | None = None,
) -> Attempt:
    """One verification attempt, with both limits applied and audited
    (outcomes in ``identity_checks``, failures per patient in
    ``identity_failures``; never the answers)."""
    moment = _naive_utc(now)
    named = patients_named(session, client_id, account_number=account_number, full_name=full_name)
    match = verify(session, client_id, date_of_birth, account_number=account_number, full_name=full_name)

    # A patient the answer names who is locked refuses the attempt, whether the date of
    # birth is right or wrong (a different answer would tell a guesser which date is right).
    # Only a match with another, unlocked patient of the same name still verifies.
    locks = [lock for lock in (patient_lock(session, p.id, moment) for p in named) if lock is not None]
    if locks and (match is None or any(lock.patient_id == match.patient_id for lock in locks)):
        lock = max(locks, key=lambda lk: lk.locked_until)
        record_check(session, client_id=client_id, conversation_id=conversation_id, outcome="patient_locked",
                     channel=channel, patient_id=lock.patient_id, at=moment)
        return Attempt("patient_locked", None, failed_before, max_attempts, lock.locked_until)

    if match is not None:
        record_check(session, client_id=client_id, conversation_id=conversation_id, outcome="verified",
                     channel=channel, patient_id=match.patient_id, at=moment)
        return Attempt("verified", match, failed_before, max_attempts)

    attempts = failed_before + 1
    outcome = "locked" if attempts >= max_attempts else "no_match"
    record_check(session, client_id=client_id, conversation_id=conversation_id, outcome=outcome, channel=channel, at=moment)

    # Which patients the failure counts against: those the account number or the full name
    # names, when their date of birth is not the one given.  A failure that names nobody
    # (an account or a name that is no one's, or another client's) cannot count against a
    # patient: the date of birth alone is no one's identity, thousands share a birthday, and
    # counting it against all of them would let a stranger lock out patients nobody named.
    # The per-conversation limit still stops it.  A name that is several patients'
    # counts against each of them: the guess was aimed at them all.  The right date of birth
    # with a name that is two patients' is not a wrong answer (ask for the account number).
    locked_until = None
    for patient in named:
        if patient.date_of_birth == date_of_birth:
            continue
        session.add(IdentityFailure(at=moment, client_id=client_id, patient_id=patient.id,
                                    conversation_id=conversation_id, channel=channel))
        session.flush()
        if failures_counted(session, patient.id, moment) >= PATIENT_LOCK_MULTIPLE * max_attempts:
            lock = IdentityLock(client_id=client_id, patient_id=patient.id, locked_at=moment,
                                locked_until=moment + PATIENT_LOCK_PERIOD)
            session.add(lock)
            session.flush()
            locked_until = max(locked_until or lock.locked_until, lock.locked_until)
    if locked_until is not None:
        # this failure locked the patient: from now on every answer naming them is refused
        return Attempt("patient_locked", None, attempts, max_attempts, locked_until)
    return Attempt(outcome, None, attempts, max_attempts)


def unlock(session: Session, patient_id: str, *, actor: str, note: str, now: dt.datetime | None = None) -> IdentityLock:
    """A partner who has verified the caller lifts the patient's lock; the
    note says how the caller was verified.  The count starts again."""
    if not (note or "").strip():
        raise IdentityError("note_required")
    moment = _naive_utc(now)
    lock = patient_lock(session, patient_id, moment)
    if lock is None:
        raise IdentityError("not_locked")
    for active in session.execute(
        select(IdentityLock).where(IdentityLock.patient_id == patient_id, IdentityLock.unlocked_at.is_(None),
                                   IdentityLock.locked_until > moment)
    ).scalars():
        active.unlocked_at, active.unlocked_by, active.unlock_note = moment, actor[:64], note.strip()[:500]
    session.flush()
    return lock


def lock_view(session: Session, patient_id: str, now: dt.datetime | None = None) -> dict | None:
    """The patient's lock for the desk, or None when not locked."""
    moment = _naive_utc(now)
    lock = patient_lock(session, patient_id, moment)
    if lock is None:
        return None
    failures = session.execute(
        select(func.count(IdentityFailure.id)).where(
            IdentityFailure.patient_id == patient_id, IdentityFailure.at > lock.locked_at - PATIENT_WINDOW,
            IdentityFailure.at <= lock.locked_at)
    ).scalar_one()
    return {"locked_at": lock.locked_at.isoformat() + "Z", "locked_until": lock.locked_until.isoformat() + "Z",
            "failures": failures}
