"""Insurance a patient reports, a partner's check of it, and the insurance
balance transfer: while a claim is re-billed to the right payer, the
patient's responsibility moves back to insurance (a ledger transfer out),
statements and collection reminders are held, and when the re-billed claim
is settled the same amount comes back (what the payer paid meanwhile has
been posted by the 835 import and stays)."""
from __future__ import annotations

import datetime as dt
import re
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import ledger
from billing.models import Account, InsurancePolicy, InsuranceTransfer, Patient, utcnow
from billing.records import Refused, account_event, patient_event
from billing.vocabulary import CoverageStatus, TransferStatus

TRANSFER_OUT = "INS-REBILL"
TRANSFER_BACK = "INS-REBILL-RETURN"


class InsuranceError(Refused):
    """reason: missing_field, not_pending, not_verified, inactive, nothing_owed, transfer_open, not_open"""


# --- what a reported policy may hold --------------------------------------------

MEMBER_ID_FORMAT = re.compile(r"[A-Z0-9-]{4,20}")
GROUP_NUMBER_FORMAT = re.compile(r"[A-Z0-9-]{2,20}")
EARLIEST_START = dt.date(1990, 1, 1)
LATEST_START_AHEAD = dt.timedelta(days=366)


def member_id_ok(member_id: str) -> bool:
    """A member id: 4 to 20 letters, digits or dashes, at least two of them digits."""
    return bool(MEMBER_ID_FORMAT.fullmatch(member_id or "")) and len(re.findall(r"\d", member_id)) >= 2


def group_number_ok(group_number: str) -> bool:
    return bool(GROUP_NUMBER_FORMAT.fullmatch(group_number or ""))


def start_date_ok(day: dt.date, today: dt.date) -> bool:
    """When coverage may start: not before 1990, at most a year ahead."""
    return EARLIEST_START <= day <= today + LATEST_START_AHEAD


def policy_view(policy: InsurancePolicy) -> dict:
    return {"id": policy.id, "payer": policy.payer, "member_id": policy.member_id, "group_number": policy.group_number,
            "subscriber": policy.subscriber, "priority": policy.priority, "active": policy.active, "status": policy.status,
            "effective_date": policy.effective_date.isoformat() if policy.effective_date else None,
            "termination_date": policy.termination_date.isoformat() if policy.termination_date else None,
            "reported_by": policy.reported_by, "verified_by": policy.verified_by, "status_note": policy.status_note}


def report_policy(session: Session, patient: Patient, *, payer: str, member_id: str, group_number: Optional[str],
                  subscriber: str, effective_date: dt.date, actor: str, conversation_id: Optional[str] = None) -> InsurancePolicy:
    """Store coverage the patient gave us, pending a partner's check: it is
    not used for anything until verified."""
    payer, member_id, subscriber = (payer or "").strip(), (member_id or "").strip().upper(), (subscriber or "").strip()
    if not payer or not member_id or not subscriber or effective_date is None:
        raise InsuranceError("missing_field")
    policy = InsurancePolicy(
        patient=patient, payer=payer[:200], member_id=member_id[:64], group_number=((group_number or "").strip().upper() or None),
        subscriber=subscriber[:200], effective_date=effective_date, priority="primary", active=False,
        status=CoverageStatus.PENDING_VERIFICATION, reported_at=utcnow(), reported_by=actor, conversation_id=conversation_id,
    )
    session.add(policy)
    session.flush()
    patient_event(session, patient, actor, "insurance_reported", f"{payer} member {member_id} reported, pending verification",
                  None, policy_view(policy))
    return policy


def pending_policies(session: Session) -> List[InsurancePolicy]:
    return list(session.execute(
        select(InsurancePolicy).where(InsurancePolicy.status == CoverageStatus.PENDING_VERIFICATION).order_by(InsurancePolicy.id)).scalars())


def verify_policy(session: Session, policy: InsurancePolicy, *, actor: str, note: str = "") -> InsurancePolicy:
    """A partner confirmed the coverage with the payer: it becomes the
    active primary; an earlier active primary ends the day before it starts."""
    if policy.status != CoverageStatus.PENDING_VERIFICATION:
        raise InsuranceError("not_pending")
    before = policy_view(policy)
    for earlier in session.execute(select(InsurancePolicy).where(
            InsurancePolicy.patient_id == policy.patient_id, InsurancePolicy.id != policy.id, InsurancePolicy.active.is_(True),
            InsurancePolicy.priority == policy.priority)).scalars():
        earlier.active = False
        if policy.effective_date and (earlier.termination_date is None or earlier.termination_date >= policy.effective_date):
            earlier.termination_date = policy.effective_date - dt.timedelta(days=1)
    policy.status, policy.active, policy.verified_by, policy.verified_at = CoverageStatus.VERIFIED, True, actor, utcnow()
    policy.status_note = (note or "").strip()[:500] or None
    patient_event(session, policy.patient, actor, "insurance_verified", f"{policy.payer} member {policy.member_id} verified",
                  before, policy_view(policy))
    return policy


def reject_policy(session: Session, policy: InsurancePolicy, *, actor: str, note: str) -> InsurancePolicy:
    if policy.status != CoverageStatus.PENDING_VERIFICATION:
        raise InsuranceError("not_pending")
    before = policy_view(policy)
    policy.status, policy.verified_by, policy.verified_at = CoverageStatus.REJECTED, actor, utcnow()
    policy.status_note = (note or "").strip()[:500] or None
    patient_event(session, policy.patient, actor, "insurance_rejected", f"{policy.payer} member {policy.member_id}: {note}",
                  before, policy_view(policy))
    return policy


def current_policy(session: Session, patient_id: str) -> Optional[InsurancePolicy]:
    """The coverage a balance can go back to: the latest verified, active policy."""
    return session.execute(select(InsurancePolicy).where(
        InsurancePolicy.patient_id == patient_id, InsurancePolicy.active.is_(True),
        InsurancePolicy.status == CoverageStatus.VERIFIED).order_by(InsurancePolicy.id.desc())).scalars().first()


def open_transfers(session: Session, account: Account) -> List[InsuranceTransfer]:
    return list(session.execute(select(InsuranceTransfer).where(
        InsuranceTransfer.account_id == account.id, InsuranceTransfer.status == TransferStatus.OPEN).order_by(InsuranceTransfer.id)).scalars())


def transfer_to_insurance(session: Session, account: Account, policy: InsurancePolicy, *, actor: str, reason: str) -> InsuranceTransfer:
    """Move the whole patient balance back to insurance for re-billing."""
    if policy.patient_id != account.patient_id or policy.status != CoverageStatus.VERIFIED:
        raise InsuranceError("not_verified")
    if not policy.active:
        raise InsuranceError("inactive")
    if open_transfers(session, account):
        raise InsuranceError("transfer_open")
    owed = ledger.balance(session, account)
    if owed <= 0:
        raise InsuranceError("nothing_owed")
    transfer = InsuranceTransfer(account=account, policy=policy, amount=owed, status=TransferStatus.OPEN, reason=reason.strip()[:300],
                                 opened_by=actor)
    session.add(transfer)
    session.flush()
    entry = ledger.post(session, account, kind="transfer", amount=-owed, reason_code=TRANSFER_OUT,
                        description=f"Balance moved to {policy.payer} for re-billing", actor=actor,
                        source=f"insurance_transfer:{transfer.id}:out")
    transfer.ledger_entry_id = entry.id
    account_event(session, account, actor, "insurance_transfer", f"{owed} moved to {policy.payer}: {reason.strip()}",
                  {"balance": str(owed)}, {"balance": str(ledger.balance(session, account)), "transfer": transfer.id})
    return transfer


def close_transfer(session: Session, transfer: InsuranceTransfer, *, actor: str, note: str) -> InsuranceTransfer:
    """The re-billed claim is settled: the transferred amount comes back to
    the patient's side.  The payer's payment and adjustments were posted on
    their own (835 import), so the balance is then what is left to pay."""
    if transfer.status != TransferStatus.OPEN:
        raise InsuranceError("not_open")
    account = transfer.account
    before = str(ledger.balance(session, account))
    entry = ledger.post(session, account, kind="transfer", amount=transfer.amount, reason_code=TRANSFER_BACK,
                        description=f"Re-billed to {transfer.policy.payer}: remaining balance back to patient responsibility",
                        actor=actor, source=f"insurance_transfer:{transfer.id}:back")
    transfer.status, transfer.closed_at, transfer.closed_by = TransferStatus.CLOSED, utcnow(), actor
    transfer.close_note, transfer.return_entry_id = (note or "").strip()[:500] or None, entry.id
    account_event(session, account, actor, "insurance_transfer_closed", note or "re-billed claim settled",
                  {"balance": before}, {"balance": str(ledger.balance(session, account)), "transfer": transfer.id})
    return transfer


def transfer_view(transfer: InsuranceTransfer) -> dict:
    return {"id": transfer.id, "account_number": transfer.account.account_number, "payer": transfer.policy.payer,
            "amount": str(transfer.amount), "status": transfer.status, "reason": transfer.reason,
            "opened_at": transfer.opened_at.isoformat() + "Z", "opened_by": transfer.opened_by,
            "closed_by": transfer.closed_by, "close_note": transfer.close_note}


def group_words(group: Optional[str], language: str = "en") -> str:
    """A reported policy's group as the read-back says it: 'group G402',
    'no group number'; 'grupo G402', 'sin número de grupo'."""
    from billing.scripts import script

    return script("utter_insurance_group", language=language, group=group) if group else script("utter_insurance_no_group", language=language)

