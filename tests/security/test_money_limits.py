"""Money limits hold in total (issue 12, item 6), attacked through the
real desk API and the real assistant: write-offs at the agent limit fired
at once, dispute adjustments above the disputed charge and at once, a
second dispute of a charge, and a partner approving a refund or an
assistance application.  Each attack runs on an account of its own (a
Riverside patient added here), so no demo balance another test reads
moves.  The same limits under PostgreSQL's concurrency are proven in
tests/unit (test_writeoffs, test_disputes, test_refunds_and_applications)."""
from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing import assistance, clock, db, disputes, ledger, refunds
from billing.models import Account, Client, Encounter, LedgerEntry, Patient, ServiceLine
from billing.policy import policy_of
from tests.concurrency import at_once
from tests.integration.helpers import call, joined, login

pytestmark = pytest.mark.integration

BIRTH = dt.date(1971, 3, 14)


@pytest.fixture(scope="module")
def tokens(assistant):
    return {"alex": login(assistant, "alex", "alex-demo-pass"), "sam": login(assistant, "sam", "sam-demo-pass")}


def new_account(assistant, charges=("2000.00", "300.00"), paid: str | None = None) -> str:
    """A Riverside patient with one account: a visit with these service
    lines (and, paid, a payment that may leave a credit)."""
    number = "49" + "".join(secrets.choice("0123456789") for _ in range(6))
    with db.session_scope(assistant.database) as session:
        patient = Patient(id=f"p-limits-{number}", client_id="riverside", first_name="Morgan", last_name=f"Limits{number}",
                          date_of_birth=BIRTH, language="en")
        session.add(patient)
        session.flush()
        account = Account(account_number=number, client_id="riverside", patient_id=patient.id, statement_date=clock.today())
        session.add(account)
        session.flush()
        visit = Encounter(account_id=account.id, date_of_service=dt.date(2026, 9, 1), kind="outpatient_surgery")
        session.add(visit)
        session.flush()
        for n, charge in enumerate(charges):
            session.add(ServiceLine(encounter_id=visit.id, code=f"9900{n}", description=f"Knee arthroscopy part {n + 1}", charge=Decimal(charge)))
            ledger.post(session, account, kind="charge", amount=charge, reason_code="SVC-TEST", description="test charge", actor="test")
        if paid:
            ledger.post(session, account, kind="patient_payment", amount=f"-{paid}", reason_code="PAT-PAY", description="paid",
                        actor="test")
    return number


def _account(session, number) -> Account:
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def balance(assistant, number) -> Decimal:
    with db.session_scope(assistant.database) as session:
        return ledger.balance(session, _account(session, number))


def write_off(assistant, token, number, amount):
    status, body, _ = call(assistant, "POST", f"/api/accounts/{number}/write-off",
                           {"amount": amount, "reason_code": "ADMIN", "reason": "service recovery"}, token=token)
    return status, body


def test_five_write_offs_at_the_agent_limit_at_once_post_the_limit_once(assistant, tokens):
    number = new_account(assistant)
    results = at_once(5, lambda _: write_off(assistant, tokens["alex"], number, "250.00"))
    assert sorted(status for status, _ in results) == [200, 202, 202, 202, 202], results
    assert balance(assistant, number) == Decimal("2050.00")  # 2,300.00 less Riverside's $250.00, once
    waiting = [w for w in call(assistant, "GET", "/api/work", token=tokens["sam"])[1]["write_off_requests"] if w["account_number"] == number]
    assert len(waiting) == 4 and all(w["status"] == "requested" for w in waiting)
    assert all(body["remaining_today"] == "0.00" for status, body in results if status == 202)


def test_write_offs_split_small_stop_at_the_limit_for_the_day(assistant, tokens):
    number = new_account(assistant)
    for amount in ("100.00", "100.00", "50.00"):
        assert write_off(assistant, tokens["alex"], number, amount)[0] == 200
    status, body = write_off(assistant, tokens["alex"], number, "0.01")
    assert status == 202 and body["status"] == "awaiting_supervisor" and body["remaining_today"] == "0.00"
    assert "$250.00 a day" in body["message"]
    # a supervisor's own write-off is not bound by the agent limit
    assert write_off(assistant, tokens["sam"], number, "400.00")[0] == 200
    assert balance(assistant, number) == Decimal("1650.00")


def _open_dispute(assistant, number, line: int = 1) -> str:
    with db.session_scope(assistant.database) as session:
        account = _account(session, number)
        service_line = disputes.service_lines(session, account)[line]
        return disputes.open_dispute(session, account, "amount_wrong", actor="patient:bot", service_line_id=service_line.id).reference


def adjust(assistant, token, reference, amount):
    status, body, _ = call(assistant, "POST", f"/api/disputes/{reference}/resolve",
                           {"outcome": "adjust", "amount": amount, "explanation": "priced wrong"}, token=token)
    return status, body


def test_a_dispute_adjustment_is_at_most_the_disputed_charge_in_total_and_at_once(assistant, tokens):
    number = new_account(assistant)
    reference = _open_dispute(assistant, number)  # the $300.00 line
    status, body = adjust(assistant, tokens["alex"], reference, "300.01")
    assert status == 400 and body["reason"] == "above_charge" and "At most $300.00" in body["error"]
    results = at_once(3, lambda _: adjust(assistant, tokens["alex"], reference, "300.00"))
    assert sorted(status for status, _ in results) == [200, 409, 409], results
    assert balance(assistant, number) == Decimal("2000.00")
    # a second dispute of the same charge cannot take off more than is left of it (nothing)
    again = _open_dispute(assistant, number)
    status, body = adjust(assistant, tokens["alex"], again, "0.01")
    assert status == 400 and body["reason"] == "above_charge" and "At most $0.00" in body["error"]
    assert balance(assistant, number) == Decimal("2000.00")


def _to_the_read_back(assistant, number) -> str:
    sender = assistant.new_sender()
    assistant.say(sender, "i want to dispute a charge")
    assistant.say(sender, "march 14 1971")
    assert "Which charge would you like to dispute?" in joined(assistant.say(sender, number))
    assert "What is wrong" in joined(assistant.say(sender, "2"))
    assert "a wrong amount" in joined(assistant.say(sender, "3"))
    return sender


def test_two_disputes_of_one_charge_at_once_open_one_and_the_other_is_told_its_reference(assistant, tokens):
    number = new_account(assistant)
    senders = [_to_the_read_back(assistant, number) for _ in range(2)]
    replies = at_once(2, lambda i: joined(assistant.say(senders[i], "yes")))
    opened = [r for r in replies if "Your reference is D-" in r]
    assert len(opened) == 1, replies
    reference = opened[0].split("Your reference is ", 1)[1][:8]
    told = [r for r in replies if r not in opened]
    assert len(told) == 1 and f"Your dispute {reference}" in told[0] and "still with a billing partner" in told[0], replies
    account = call(assistant, "GET", f"/api/accounts/{number}", token=tokens["alex"])[1]
    assert [d["reference"] for d in account["disputes"] if d["status"] == "open"] == [reference]
    # and later, in a new conversation, the same
    later = joined(assistant.say(_to_the_read_back(assistant, number), "yes"))
    assert f"Your dispute {reference}" in later and "Your reference is" not in later


def _refund_and_application(assistant):
    number = new_account(assistant, charges=("100.00",), paid="150.00")  # a $50.00 credit
    with db.session_scope(assistant.database) as session:
        account = _account(session, number)
        refund = refunds.request_refund(session, account, "50.00", "check", actor="patient:bot").id
        policy = policy_of(session.get(Client, "riverside")).financial_assistance
        application = assistance.apply(session, account, assistance.screen(policy, 4, "38000"), actor="patient:bot").reference
    return number, refund, application


def test_a_partner_may_not_approve_a_refund_or_an_assistance_application(assistant, tokens):
    number, refund, application = _refund_and_application(assistant)
    status, body, _ = call(assistant, "POST", f"/api/refunds/{refund}/approve", {}, token=tokens["alex"])
    assert status == 403 and body["reason"] == "not_approver" and "Only a supervisor approves refunds" in body["error"]
    status, body, _ = call(assistant, "POST", f"/api/assistance/{application}/approve", {}, token=tokens["alex"])
    assert status == 403 and body["reason"] == "not_approver" and "Only a supervisor approves assistance" in body["error"]
    assert balance(assistant, number) == Decimal("-50.00")  # nothing moved
    account = call(assistant, "GET", f"/api/accounts/{number}", token=tokens["alex"])[1]
    assert account["refund_requests"][-1]["status"] == "requested" and account["assistance_applications"][-1]["status"] == "open"
    assert call(assistant, "POST", f"/api/refunds/{refund}/approve", {}, token=tokens["sam"])[0] == 200
    assert call(assistant, "POST", f"/api/assistance/{application}/approve", {}, token=tokens["sam"])[0] == 200
    assert balance(assistant, number) == Decimal("0.00")


def test_a_refund_approved_at_once_is_paid_once(assistant, tokens):
    number, refund, _ = _refund_and_application(assistant)
    results = at_once(3, lambda _: call(assistant, "POST", f"/api/refunds/{refund}/approve", {}, token=tokens["sam"])[0])
    assert sorted(results) == [200, 409, 409], results
    with db.session_scope(assistant.database) as session:
        account = _account(session, number)
        refunds_posted = session.execute(select(func.count(LedgerEntry.id)).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == "refund")).scalar_one()
        assert refunds_posted == 1 and ledger.balance(session, account) == Decimal("0.00")
