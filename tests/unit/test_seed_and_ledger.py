"""Billing core on SQLite and PostgreSQL: the demo data loads with every
balance computed from an append-only ledger."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy import select

from billing import db, ledger, seed
from billing.accounts import overview
from billing.models import Account, ImmutableLedgerError, LedgerEntry, PaymentMethod
from tests.conftest import DEMO_FILE

EXPECTED = {
    a["account_number"]: Decimal(a["expected_balance"])
    for p in yaml.safe_load(DEMO_FILE.read_text())["patients"]
    for a in p["accounts"]
}


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def test_every_demo_balance_is_the_sum_of_its_ledger(seeded_url):
    with db.session_scope(seeded_url) as session:
        for number, expected in EXPECTED.items():
            assert ledger.balance(session, _account(session, number)) == expected, number


def test_maria_owes_412_50_from_charges_insurance_and_contractual_adjustment(seeded_url):
    with db.session_scope(seeded_url) as session:
        entries = ledger.entries(session, _account(session, "40012345"))
        kinds = sorted((e.kind, e.amount) for e in entries)
    assert ("insurance_payment", Decimal("-637.50")) in kinds
    assert ("contractual_adjustment", Decimal("-850.00")) in kinds
    assert sum(a for _, a in kinds) == Decimal("412.50")


def test_a_declined_payment_posts_nothing(seeded_url):
    with db.session_scope(seeded_url) as session:
        linda = _account(session, "40034567")
        payments = [e for e in ledger.entries(session, linda) if e.kind == "patient_payment"]
        declined = [p for p in linda.payments if p.status == "declined"]
    assert len(payments) == 5
    assert len(declined) == 1 and declined[0].decline_code == "insufficient_funds"


def test_every_entry_records_who_when_and_why(seeded_url):
    with db.session_scope(seeded_url) as session:
        for entry in session.execute(select(LedgerEntry)).scalars():
            assert entry.actor == "import:seed"
            assert entry.reason_code and entry.description and entry.posted_at and entry.effective_date


def test_ledger_entries_cannot_be_changed_through_the_orm(seeded_url):
    with db.session_scope(seeded_url) as session:
        entry = session.execute(select(LedgerEntry).limit(1)).scalar_one()
        entry.amount = Decimal("1.00")
        with pytest.raises(ImmutableLedgerError):
            session.flush()
        session.rollback()
        entry = session.execute(select(LedgerEntry).limit(1)).scalar_one()
        session.delete(entry)
        with pytest.raises(ImmutableLedgerError):
            session.flush()
        session.rollback()


def test_the_database_itself_refuses_to_change_a_ledger_entry(seeded_url):
    engine = db.get_engine(seeded_url)
    for statement in ("UPDATE ledger_entries SET amount = 0", "DELETE FROM ledger_entries"):
        with pytest.raises(sa.exc.DatabaseError):
            with engine.begin() as conn:
                conn.execute(sa.text(statement))
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _account(session, "40012345")) == Decimal("412.50")


def test_a_correction_is_a_new_entry_and_the_balance_follows(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, "40090123")
        ledger.post(session, account, kind="write_off", amount="-3.50", reason_code="SMALL-BAL",
                    description="small balance write-off", actor="test")
        assert ledger.balance(session, account) == Decimal("0.00")


def test_posting_the_same_source_twice_posts_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, "40012345")
        for _ in range(2):
            ledger.post(session, account, kind="patient_payment", amount="-10.00", reason_code="PAT-PAY",
                        description="payment", actor="test", source="payment:test-1")
        assert ledger.balance(session, account) == Decimal("402.50")


@pytest.mark.parametrize("kind,amount", [("charge", "-5.00"), ("patient_payment", "5.00"), ("charge", "0"), ("bogus", "1.00")])
def test_entries_with_the_wrong_sign_or_kind_are_refused(seeded_url, kind, amount):
    with db.session_scope(seeded_url) as session:
        with pytest.raises(ledger.LedgerError):
            ledger.post(session, _account(session, "40012345"), kind=kind, amount=amount, reason_code="X",
                        description="x", actor="test")


def test_cards_on_file_hold_a_token_never_the_number(seeded_url):
    numbers = {"4242424242424242", "5555555555554444", "4000000000000002", "4000000000009995"}
    engine = db.get_engine(seeded_url)
    with engine.connect() as conn:
        dump = " ".join(str(v) for table in ("payment_methods", "payments", "sandbox_vault")
                        for row in conn.execute(sa.text(f"SELECT * FROM {table}")) for v in row)
    assert not any(n in dump for n in numbers)
    with db.session_scope(seeded_url) as session:
        maria = session.execute(select(PaymentMethod).where(PaymentMethod.patient_id == "p-maria-garcia")).scalar_one()
    assert (maria.brand, maria.last4, maria.exp_month, maria.exp_year) == ("visa", "4242", 9, 2028)
    assert maria.token.startswith("tok_sbx_")


def test_loading_twice_is_refused_and_keeps_the_first_load(seeded_url):
    with db.session_scope(seeded_url) as session:
        with pytest.raises(seed.SeedError, match="already loaded"):
            seed.load(session, DEMO_FILE)
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _account(session, "40012345")) == Decimal("412.50")


def test_a_wrong_expected_balance_fails_loudly_and_loads_nothing(db_url, tmp_path):
    data = yaml.safe_load(DEMO_FILE.read_text())
    data["patients"][0]["accounts"][0]["expected_balance"] = "400.00"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(seed.SeedError, match="40012345: ledger gives 412.50, file expects 400.00"):
        with db.session_scope(db_url) as session:
            seed.load(session, broken)
    with db.session_scope(db_url) as session:
        assert seed.database_is_empty(session)


def test_overview_gives_balance_due_date_last_payment_and_plan(seeded_url):
    with db.session_scope(seeded_url) as session:
        (maria,) = overview(session, "p-maria-garcia", "riverside")
        (linda,) = overview(session, "p-linda-nguyen", "riverside")
        (aisha,) = overview(session, "p-aisha-khan", "riverside")
    assert (maria.balance, maria.due_date, maria.last_payment, maria.plan) == (Decimal("412.50"), dt.date(2026, 12, 10), None, None)
    assert linda.last_payment.amount == Decimal("100.00") and linda.last_payment.date == dt.date(2026, 10, 1)
    assert linda.plan.monthly_amount == Decimal("100.00") and linda.plan.missed_payments == 1
    assert linda.plan.next_due_date == dt.date(2026, 12, 1)
    assert aisha.is_credit and aisha.balance == Decimal("-85.00")


def test_overview_stays_within_the_client(seeded_url):
    with db.session_scope(seeded_url) as session:
        assert overview(session, "p-maria-garcia", "lakeside") == []


def test_an_account_with_no_entries_owes_nothing(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = Account(account_number="40099999", client_id="riverside", patient_id="p-maria-garcia")
        session.add(account)
        session.flush()
        assert ledger.balance(session, account) == Decimal("0.00")
