"""Desk use cases about the patient's record: checking insurance a patient
reported, the insurance balance transfer, legal name changes and change
notices that did not go out, itemized statements (sent by text, queued
for mail, printed), and lifting a patient's verification lock.  Rules
stay in billing/; this module translates and tells the patient
(desk/work.py's notify_patient)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from sqlalchemy import select

from billing import contact, db, identity, insurance, ledger, staff, statements
from billing.clients import get_client
from billing.contact import display_phone, normalise_phone
from billing.models import Account, ContactChange, InsurancePolicy, InsuranceTransfer, Patient, StatementDelivery
from billing import notify
from billing.notices import send_contact_notice, text_statement_link
from billing.scripts import script
from billing.vocabulary import ChangeStatus, CoverageStatus, TransferStatus, channel_of_conversation
from desk.common import DeskError, apply_decision, find_account, find_row, notify_patient, text_refused


def _first_account(patient) -> Optional[Account]:
    return patient.accounts[0] if patient.accounts else None


def _change_view(c: ContactChange) -> Dict[str, Any]:
    return {"id": c.id, "field": c.field, "old_value": c.old_value, "new_value": c.new_value, "status": c.status,
            "requested_at": c.requested_at.isoformat() + "Z", "requested_by": c.requested_by, "channel": c.channel,
            "notice_to": c.notice_to, "notice_status": c.notice_status, "decided_by": c.decided_by,
            "decision_note": c.decision_note, "patient": c.patient.full_name}


def _statement_view(s: StatementDelivery) -> Dict[str, Any]:
    return {"reference": s.reference, "account_number": s.account.account_number, "delivery": s.delivery, "status": s.status,
            "sent_to": display_phone(s.sent_to) if s.delivery == "sms" and s.sent_to else s.sent_to,
            "created_at": s.created_at.isoformat() + "Z", "created_by": s.created_by,
            "downloaded_at": s.downloaded_at.isoformat() + "Z" if s.downloaded_at else None, "mailed_by": s.mailed_by}


def _policy_work_view(p: InsurancePolicy) -> Dict[str, Any]:
    account = _first_account(p.patient)
    return {**insurance.policy_view(p), "patient": p.patient.full_name, "client": p.patient.client_id,
            "account_number": account.account_number if account else None,
            "reported_at": p.reported_at.isoformat() + "Z" if p.reported_at else None}


def account_record(session, account: Account) -> Dict[str, Any]:
    """What account_view adds about the record: insurance with its checks,
    transfers, contact changes and statements."""
    patient = account.patient
    return {
        "insurance": [insurance.policy_view(p) for p in session.execute(
            select(InsurancePolicy).where(InsurancePolicy.patient_id == patient.id).order_by(InsurancePolicy.id)).scalars()],
        "insurance_transfers": [insurance.transfer_view(t) for t in session.execute(
            select(InsuranceTransfer).where(InsuranceTransfer.account_id == account.id).order_by(InsuranceTransfer.id)).scalars()],
        "contact_changes": [_change_view(c) for c in session.execute(
            select(ContactChange).where(ContactChange.patient_id == patient.id).order_by(ContactChange.id)).scalars()],
        "statements": [_statement_view(s) for s in session.execute(
            select(StatementDelivery).where(StatementDelivery.account_id == account.id).order_by(StatementDelivery.id)).scalars()],
        "mailing_address": contact.current_value(patient, "address"),
        "identity_lock": identity.lock_view(session, patient.id),
    }


def pending() -> Dict[str, Any]:
    """Record work waiting for a partner."""
    with db.session_scope() as session:
        return {
            "insurance_to_verify": [_policy_work_view(p) for p in insurance.pending_policies(session)],
            "insurance_transfers": [insurance.transfer_view(t) for t in session.execute(
                select(InsuranceTransfer).where(InsuranceTransfer.status == TransferStatus.OPEN).order_by(InsuranceTransfer.id)).scalars()],
            "name_changes": [_change_view(c) for c in contact.pending_name_changes(session)],
            "unsent_notices": [_change_view(c) for c in contact.unsent_notices(session)],
            "statements_to_mail": [_statement_view(s) for s in statements.mail_queue(session)],
        }


# --- insurance ----------------------------------------------------------------

INSURANCE_PROBLEMS = {
    "not_pending": (409, "This insurance has already been checked."),
    "not_verified": (409, "Verify the patient's insurance before moving the balance to it."),
    "inactive": (409, "This coverage is not active."),
    "nothing_owed": (409, "There is no patient balance to move to insurance."),
    "transfer_open": (409, "This account's balance is already with insurance for re-billing."),
    "not_open": (409, "This transfer is already closed."),
    "missing_field": (400, "Payer, member id, policyholder and start date are all needed."),
}


def _insurance_error(error: insurance.InsuranceError) -> DeskError:
    status, message = INSURANCE_PROBLEMS.get(error.reason, (400, error.reason))
    return DeskError(status, message, error.reason)


def decide_insurance(policy_id, user: staff.SignedIn, decision: str, note: str = "") -> Dict[str, Any]:
    with db.session_scope() as session:
        policy = find_row(session, InsurancePolicy, policy_id, "There is no such insurance policy.")
        before = {"status": policy.status}
        try:
            apply_decision({"verify": "approve", "reject": "deny"}.get(decision, decision), note,
                            lambda: insurance.verify_policy(session, policy, actor=user.username, note=note),
                            lambda: insurance.reject_policy(session, policy, actor=user.username, note=note), "insurance")
        except insurance.InsuranceError as error:
            raise _insurance_error(error)
        staff.record(session, user.username, f"insurance.{policy.status}", f"insurance:{policy.id}", before, {"status": policy.status})
        view = _policy_work_view(policy)
        client = get_client(session, policy.patient.client_id)
        if policy.status == CoverageStatus.VERIFIED:
            notice = script("utter_notice_insurance_verified", client, language=policy.patient.language, payer=policy.payer)
        else:
            notice = script("utter_notice_insurance_rejected", client, language=policy.patient.language, payer=policy.payer, explanation=note.strip().rstrip(".") + ".")
        conversation_id = policy.conversation_id
    if view["account_number"]:
        view["patient_told"] = notify_patient(view["account_number"], conversation_id, channel_of_conversation(conversation_id), notice, user.username)
    return view


def transfer(account_number: str, user: staff.SignedIn, reason: str, policy_id=None) -> Dict[str, Any]:
    if not (reason or "").strip():
        raise DeskError(400, "Say why the balance goes back to insurance (for example: new coverage verified, claim to re-bill).")
    with db.session_scope() as session:
        account = find_account(session, account_number)
        if policy_id not in (None, ""):
            policy = find_row(session, InsurancePolicy, policy_id, "There is no such insurance policy on this patient.")
            if policy.patient_id != account.patient_id:
                raise DeskError(404, "There is no such insurance policy on this patient.")
        else:
            policy = insurance.current_policy(session, account.patient_id)
            if policy is None:
                raise DeskError(409, "This patient has no verified, active insurance to move the balance to.", "not_verified")
        try:
            moved = insurance.transfer_to_insurance(session, account, policy, actor=user.username, reason=reason)
        except insurance.InsuranceError as error:
            raise _insurance_error(error)
        view = insurance.transfer_view(moved)
        staff.record(session, user.username, "account.insurance_transfer", f"account:{account_number}", None, view)
        view["balance"] = str(ledger.balance(session, account))
        return view


def close_transfer(transfer_id, user: staff.SignedIn, note: str) -> Dict[str, Any]:
    if not (note or "").strip():
        raise DeskError(400, "Say how the re-billed claim was settled (for example: Aetna paid, claim 12345).")
    with db.session_scope() as session:
        row = find_row(session, InsuranceTransfer, transfer_id, "There is no such insurance transfer.")
        try:
            insurance.close_transfer(session, row, actor=user.username, note=note)
        except insurance.InsuranceError as error:
            raise _insurance_error(error)
        view = insurance.transfer_view(row)
        staff.record(session, user.username, "account.insurance_transfer_closed", f"insurance_transfer:{row.id}",
                     {"status": "open"}, view)
        view["balance"] = str(ledger.balance(session, row.account))
        return view


# --- contact changes ---------------------------------------------------------

def decide_name_change(change_id, user: staff.SignedIn, decision: str, note: str = "") -> Dict[str, Any]:
    with db.session_scope() as session:
        row = find_row(session, ContactChange, change_id, "There is no such contact change.")
        try:
            apply_decision(decision, note, lambda: contact.decide_name_change(session, row, approve=True, actor=user.username, note=note),
                            lambda: contact.decide_name_change(session, row, approve=False, actor=user.username, note=note),
                            "name change")
        except contact.ContactError:
            raise DeskError(409, "This name change has already been decided.")
        staff.record(session, user.username, f"contact.name_{row.status}", f"contact_change:{row.id}", {"status": "pending_review"},
                     {"status": row.status})
        view = _change_view(row)
        client = get_client(session, row.client_id)
        account = _first_account(row.patient)
        if row.status == ChangeStatus.APPROVED:
            notice = script("utter_notice_name_change_approved", client, language=row.patient.language, value=row.new_value)
        else:
            notice = script("utter_notice_name_change_denied", client, language=row.patient.language, explanation=note.strip().rstrip(".") + ".")
        conversation_id, channel = row.conversation_id, row.channel
    if account is not None:
        view["patient_told"] = notify_patient(account.account_number, conversation_id, channel, notice, user.username)
    return view


def settle_notice(change_id, user: staff.SignedIn, how: str) -> Dict[str, Any]:
    """A change notice that did not go out: send it again, or record the letter a partner sent."""
    with db.session_scope() as session:
        row = find_row(session, ContactChange, change_id, "There is no such change notice.")
        if not row.notice_to:
            raise DeskError(404, "There is no such change notice.")
        if (row.notice_status or "").startswith("sent"):
            raise DeskError(409, "This notice has already been sent.")
        if how == "letter":
            contact.record_notice(row, f"sent: letter by {user.username}")
        elif how != "retry":
            raise DeskError(400, "Choose retry or letter.")
    if how == "retry":
        send_contact_notice(int(change_id))
    with db.session_scope() as session:
        row = session.get(ContactChange, int(change_id))
        staff.record(session, user.username, f"contact.notice_{how}", f"contact_change:{row.id}", None, {"notice_status": row.notice_status})
        return _change_view(row)


# --- statements ----------------------------------------------------------------

def send_statement(account_number: str, user: staff.SignedIn, delivery: str, phone: Optional[str] = None) -> Dict[str, Any]:
    if delivery not in ("sms", "mail"):
        raise DeskError(400, "Send the statement by sms or mail.")
    with db.session_scope() as session:
        account = find_account(session, account_number)
        client = get_client(session, account.client_id)
        to = None
        if delivery == "sms":
            to = normalise_phone(phone or account.patient.phone or "")
            if not to:
                raise DeskError(400, "Give a phone number to text the link to.")
        try:
            row, raw = statements.send(session, account, delivery, actor=user.username, to=to)
        except statements.StatementError as error:
            raise DeskError(409, "There is no mailing address on file: update it first." if error.reason == "no_address" else error.reason,
                            error.reason)
        view = _statement_view(row)
        staff.record(session, user.username, f"statement.{delivery}", f"account:{account_number}", None, {"reference": row.reference})
    if raw:
        try:
            text_statement_link(client, account_number, view["reference"], to, raw)
        except notify.NotSent as problem:
            raise text_refused(problem) from problem
    return view


def statement_pdf(account_number: str, user: staff.SignedIn) -> bytes:
    with db.session_scope() as session:
        account = find_account(session, account_number)
        pdf = statements.render_pdf(statements.build(session, account))
        staff.record(session, user.username, "statement.print", f"account:{account_number}", None, None)
        return pdf


def mark_mailed(reference: str, user: staff.SignedIn) -> Dict[str, Any]:
    with db.session_scope() as session:
        row = statements.by_reference(session, reference)
        if row is None:
            raise DeskError(404, f"There is no statement {reference}.")
        try:
            statements.mark_mailed(session, row, actor=user.username)
        except statements.StatementError:
            raise DeskError(409, "This statement is not waiting to be mailed.")
        staff.record(session, user.username, "statement.mailed", f"statement:{reference}", {"status": "queued"}, {"status": "mailed"})
        return _statement_view(row)


# --- identity: a patient's self-service verification lock ----------------------

IDENTITY_PROBLEMS = {
    "note_required": (400, "Say how you verified the caller (for example: called back on the number on file, "
                           "date of birth and address confirmed)."),
    "not_locked": (409, "Self-service verification of this patient is not locked."),
}


def unlock_identity(user: staff.SignedIn, note: str, *, patient_id: Optional[str] = None,
                    account_number: Optional[str] = None) -> Dict[str, Any]:
    """A partner who has verified the caller lifts the patient's lock
    (billing.identity.unlock), by patient or by account; audited with the note."""
    with db.session_scope() as session:
        if account_number is not None:
            if not account_number.strip():
                raise DeskError(400, "Give the patient's account number.")
            patient = find_account(session, account_number.strip()).patient
        else:
            patient = session.get(Patient, str(patient_id or ""))
            if patient is None:
                raise DeskError(404, "There is no such patient.")
        before = identity.lock_view(session, patient.id)
        try:
            lock = identity.unlock(session, patient.id, actor=user.username, note=note)
        except identity.IdentityError as error:
            status, message = IDENTITY_PROBLEMS[error.reason]
            raise DeskError(status, message, error.reason)
        view = {"patient_id": patient.id, "status": "unlocked", "unlocked_at": lock.unlocked_at.isoformat() + "Z",
                "unlocked_by": lock.unlocked_by, "note": lock.unlock_note}
        staff.record(session, user.username, "identity.unlock", f"patient:{patient.id}", before, view)
        return view
