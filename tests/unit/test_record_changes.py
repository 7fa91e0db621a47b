"""The patient's record, on SQLite and PostgreSQL: insurance a patient
reports and the insurance balance transfer (Emily, whose Humana coverage
ended), contact changes with notices to the old phone or email, and the
itemized statement PDF behind a one-time link."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from billing import contact, db, insurance, ledger, outreach, refunds, statements
from billing.models import Account, AccountEvent, InsurancePolicy, LedgerEntry, utcnow


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- insurance -----------------------------------------------------------------------

def test_emilys_new_insurance_is_checked_then_her_balance_waits_for_the_rebill(seeded_url):
    with db.session_scope(seeded_url) as session:
        emily = _account(session, "40078901")
        patient = emily.patient
        with pytest.raises(insurance.InsuranceError) as missing:
            insurance.report_policy(session, patient, payer="Aetna", member_id=" ", group_number=None, subscriber="Emily Chen",
                                    effective_date=dt.date(2026, 7, 1), actor="patient:bot")
        assert missing.value.reason == "missing_field"
        policy = insurance.report_policy(session, patient, payer="Aetna", member_id="w123456789", group_number="7001",
                                         subscriber="Emily Chen", effective_date=dt.date(2026, 7, 1), actor="patient:bot",
                                         conversation_id="c-emily")
        assert (policy.status, policy.active, policy.member_id) == ("pending_verification", False, "W123456789")
        # unverified coverage moves nothing
        with pytest.raises(insurance.InsuranceError) as unverified:
            insurance.transfer_to_insurance(session, emily, policy, actor="alex", reason="new coverage")
        assert unverified.value.reason == "not_verified"

        insurance.verify_policy(session, policy, actor="alex", note="called Aetna, active from July 1")
        assert (policy.status, policy.active, policy.verified_by) == ("verified", True, "alex")
        with pytest.raises(insurance.InsuranceError):
            insurance.verify_policy(session, policy, actor="alex")

        moved = insurance.transfer_to_insurance(session, emily, policy, actor="alex", reason="rebill CLM-26-000301 to Aetna")
        assert moved.amount == Decimal("980.00") and ledger.balance(session, emily) == Decimal("0.00")
        assert outreach.collection_holds(session, emily) == ["balance with Aetna for re-billing"]
        with pytest.raises(insurance.InsuranceError) as twice:
            insurance.transfer_to_insurance(session, emily, policy, actor="alex", reason="again")
        assert twice.value.reason == "transfer_open"

        # Aetna pays while the transfer is open: that is not the patient's credit
        ledger.post(session, emily, kind="insurance_payment", amount="-784.00", reason_code="INS-PAY",
                    description="Aetna payment on the re-billed claim", actor="import:835")
        assert ledger.balance(session, emily) == Decimal("-784.00")
        assert refunds.credit(session, emily) == Decimal("0.00")
        with pytest.raises(refunds.RefundError) as no_refund:
            refunds.request_refund(session, emily, "784.00", "check", actor="bot")
        assert no_refund.value.reason == "no_credit"

        insurance.close_transfer(session, moved, actor="alex", note="Aetna paid 784.00 on the re-bill")
        assert ledger.balance(session, emily) == Decimal("196.00")  # what Aetna left to Emily
        assert outreach.collection_holds(session, emily) == []
        with pytest.raises(insurance.InsuranceError) as closed:
            insurance.close_transfer(session, moved, actor="alex", note="again")
        assert closed.value.reason == "not_open"
        transfers = session.execute(select(LedgerEntry).where(LedgerEntry.account_id == emily.id, LedgerEntry.kind == "transfer")
                                    .order_by(LedgerEntry.id)).scalars().all()
        assert [(e.amount, e.reason_code, e.actor) for e in transfers] == [
            (Decimal("-980.00"), "INS-REBILL", "alex"), (Decimal("980.00"), "INS-REBILL-RETURN", "alex")]
        actions = [e.action for e in session.execute(select(AccountEvent).where(AccountEvent.patient_id == patient.id)
                                                     .order_by(AccountEvent.id)).scalars()]
        assert actions == ["insurance_reported", "insurance_verified", "insurance_transfer", "insurance_transfer_closed"]


def test_a_verified_policy_ends_the_earlier_primary_and_a_rejected_one_moves_nothing(seeded_url):
    with db.session_scope(seeded_url) as session:
        maria = _account(session, "40012345")
        old = session.execute(select(InsurancePolicy).where(InsurancePolicy.patient_id == maria.patient_id)).scalar_one()
        wrong = insurance.report_policy(session, maria.patient, payer="Cigna", member_id="ZZ000111", group_number=None,
                                        subscriber="Maria Garcia", effective_date=dt.date(2026, 11, 1), actor="patient:bot")
        insurance.reject_policy(session, wrong, actor="alex", note="Cigna has no member ZZ000111")
        assert wrong.status == "rejected" and old.active
        new = insurance.report_policy(session, maria.patient, payer="Aetna", member_id="AET100", group_number="G1",
                                      subscriber="Maria Garcia", effective_date=dt.date(2026, 11, 1), actor="patient:bot")
        insurance.verify_policy(session, new, actor="alex")
        assert not old.active and old.termination_date == dt.date(2026, 10, 31)
        assert ledger.balance(session, maria) == Decimal("412.50")  # verifying coverage posts nothing by itself


def test_nothing_to_move_when_the_patient_owes_nothing(seeded_url):
    with db.session_scope(seeded_url) as session:
        aisha = _account(session, "40056789")
        policy = session.execute(select(InsurancePolicy).where(InsurancePolicy.patient_id == aisha.patient_id)).scalar_one()
        with pytest.raises(insurance.InsuranceError) as nothing:
            insurance.transfer_to_insurance(session, aisha, policy, actor="alex", reason="rebill")
        assert nothing.value.reason == "nothing_owed"


# --- contact details ------------------------------------------------------------------

@pytest.mark.parametrize("said, expected", [
    ("12 Oak Street, Springfield, IL 62704", "12 Oak Street, Springfield, IL 62704"),
    ("my new address is 45 oak avenue apt 3 riverside california 92501", "45 Oak Avenue Apt 3, Riverside, CA 92501"),
    ("po box 12 dayton ohio 45402", "PO Box 12, Dayton, OH 45402"),
    ("1400 W 18th St, Chicago, IL 60608-1234", "1400 W 18th St, Chicago, IL 60608"),
])
def test_addresses_as_patients_give_them(said, expected):
    assert contact.read_value("address", said) == expected


@pytest.mark.parametrize("field, said, reason", [
    ("address", "main street", "bad_address"),
    ("address", "12 Oak Street Springfield", "bad_address"),
    ("phone", "12345", "bad_phone"),
    ("email", "maria at example", "bad_email"),
    ("name", "x", "bad_name"),
    ("name", "4242 4242", "bad_name"),
    ("fax", "555", "bad_field"),
])
def test_contact_details_that_are_not_valid_are_refused_with_the_reason(field, said, reason):
    with pytest.raises(contact.ContactError) as refused:
        contact.read_value(field, said)
    assert refused.value.reason == reason


def test_spoken_email_and_phone():
    assert contact.read_value("email", "maria dot garcia at example dot com") == "maria.garcia@example.com"
    assert contact.read_value("phone", "(555) 010-2233") == "+15550102233"


def test_a_new_phone_is_applied_at_once_and_the_old_one_gets_a_notice(seeded_url):
    with db.session_scope(seeded_url) as session:
        maria = _account(session, "40012345").patient
        change = contact.change(session, maria, "phone", "555-010-2233", actor="patient:bot", channel="rest", conversation_id="c1")
        assert maria.phone == "+15550102233"
        assert (change.old_value, change.new_value, change.notice_to, change.notice_status) == (
            "+15550101001", "+15550102233", "+15550101001", "to_send")
        assert [c.id for c in contact.unsent_notices(session)] == [change.id]
        contact.record_notice(change, "sent")
        assert contact.unsent_notices(session) == []
        with pytest.raises(contact.ContactError) as same:
            contact.change(session, maria, "phone", "+1 555 010 2233", actor="patient:bot")
        assert same.value.reason == "unchanged"
        event = session.execute(select(AccountEvent).where(AccountEvent.action == "contact_phone_changed")).scalar_one()
        assert (event.actor, event.before, event.after) == ("patient:bot", {"phone": "+15550101001"}, {"phone": "+15550102233"})


def test_a_new_address_changes_the_mailing_address_without_a_notice(seeded_url):
    with db.session_scope(seeded_url) as session:
        robert = _account(session, "40045678").patient
        change = contact.change(session, robert, "address", "12 Oak Street, Springfield, IL 62704", actor="alex")
        assert (robert.address_line1, robert.city, robert.state, robert.zip_code) == ("12 Oak Street", "Springfield", "IL", "62704")
        assert change.old_value == "77 Mill Lane, Marietta, GA 30060" and change.notice_to is None


def test_a_legal_name_waits_for_a_partner_who_has_seen_proof(seeded_url):
    with db.session_scope(seeded_url) as session:
        emily = _account(session, "40078901").patient
        change = contact.change(session, emily, "name", "my new name is emily park", actor="patient:bot")
        assert change.status == "pending_review" and emily.full_name == "Emily Chen"
        assert [c.id for c in contact.pending_name_changes(session)] == [change.id]
        contact.decide_name_change(session, change, approve=True, actor="alex", note="marriage certificate seen")
        assert emily.full_name == "Emily Park" and change.decided_by == "alex"
        with pytest.raises(contact.ContactError):
            contact.decide_name_change(session, change, approve=False, actor="alex", note="again")
        denied = contact.change(session, emily, "name", "Emily Wong", actor="patient:bot")
        contact.decide_name_change(session, denied, approve=False, actor="alex", note="no document received")
        assert emily.full_name == "Emily Park"


# --- itemized statements -----------------------------------------------------------------

def test_marias_itemized_statement_lists_lines_claims_adjustments_and_balance(seeded_url):
    with db.session_scope(seeded_url) as session:
        maria = _account(session, "40012345")
        text = _pdf_text(statements.render_pdf(statements.build(session, maria, today=dt.date(2026, 11, 28))))
    for expected in ("Riverside Health", "Maria Garcia", "40012345", "November 28, 2026", "99284", "Emergency department visit",
                     "$1,450.00", "71046", "CLM-26-000101", "allowed $1,050.00", "paid $637.50", "PR-1", "$300.00",
                     "the deductible", "PR-2", "$112.50", "CO-45", "Balance due: $412.50"):
        assert expected in text, expected


def test_emilys_statement_says_the_claim_was_denied_because_coverage_ended(seeded_url):
    with db.session_scope(seeded_url) as session:
        text = _pdf_text(statements.render_pdf(statements.build(session, _account(session, "40078901"))))
    assert "(denied)" in text and "PR-27" in text and "after your coverage ended" in text and "Balance due: $980.00" in text


def test_a_statement_link_opens_once_for_the_right_date_of_birth(seeded_url):
    with db.session_scope(seeded_url) as session:
        maria = _account(session, "40012345")
        row, raw = statements.send(session, maria, "link", actor="patient:bot", channel="rest", conversation_id="c1")
        assert row.token_hash != raw and len(raw) >= 30
        with pytest.raises(statements.StatementError) as wrong:
            statements.download(session, raw, dt.date(1985, 3, 4))
        assert wrong.value.reason == "wrong_date_of_birth" and row.downloaded_at is None
        _, pdf = statements.download(session, raw, dt.date(1985, 3, 3))
        assert pdf.startswith(b"%PDF") and row.status == "downloaded"
        with pytest.raises(statements.StatementError) as again:
            statements.download(session, raw, dt.date(1985, 3, 3))
        assert again.value.reason == "used"
        with pytest.raises(statements.StatementError) as unknown:
            statements.open_link(session, "not-a-token")
        assert unknown.value.reason == "unknown"


def test_a_statement_link_expires_and_locks_after_five_wrong_dates(seeded_url):
    with db.session_scope(seeded_url) as session:
        maria = _account(session, "40012345")
        _, old = statements.send(session, maria, "link", actor="bot", now=utcnow() - dt.timedelta(hours=73))
        with pytest.raises(statements.StatementError) as expired:
            statements.download(session, old, dt.date(1985, 3, 3))
        assert expired.value.reason == "expired"
        _, raw = statements.send(session, maria, "sms", actor="bot", to="+15550101001")
        reasons = []
        for _ in range(5):
            with pytest.raises(statements.StatementError) as wrong:
                statements.download(session, raw, dt.date(2000, 1, 1))
            reasons.append(wrong.value.reason)
        assert reasons == ["wrong_date_of_birth"] * 4 + ["locked"]
        with pytest.raises(statements.StatementError) as locked:
            statements.download(session, raw, dt.date(1985, 3, 3))
        assert locked.value.reason == "expired"


def test_a_mailed_statement_goes_to_the_address_on_file_and_is_marked_mailed_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _account(session, "40067890")
        row, raw = statements.send(session, david, "mail", actor="patient:bot")
        assert raw is None and row.sent_to == "18 Birch Court, Smyrna, GA 30080" and row.status == "queued"
        assert [r.reference for r in statements.mail_queue(session)] == [row.reference]
        statements.mark_mailed(session, row, actor="alex")
        assert row.status == "mailed" and statements.mail_queue(session) == []
        with pytest.raises(statements.StatementError):
            statements.mark_mailed(session, row, actor="alex")
        with pytest.raises(statements.StatementError) as bad:
            statements.send(session, david, "fax", actor="bot")
        assert bad.value.reason == "bad_delivery"
        david.patient.address_line1 = None
        with pytest.raises(statements.StatementError) as nowhere:
            statements.send(session, david, "mail", actor="bot")
        assert nowhere.value.reason == "no_address"
