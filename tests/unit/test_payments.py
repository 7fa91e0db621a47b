"""Payments on SQLite and PostgreSQL: card on file, idempotency under
retries and concurrent requests, gateway failures and reconciliation,
declines and reprocessing, links, scheduled payments, credits."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing import clock, db, ledger, payments, runs
from billing.gateway import SandboxGateway
from billing.models import Account, AccountEvent, LedgerEntry, Payment, PaymentMethod, PaymentPlan
from billing.payments import AmountRefused, LinkError, PaymentRefused, check_amount

MARIA, JAMES, LINDA, AISHA, DAVID = "40012345", "40023456", "40034567", "40056789", "40067890"


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def _card(session, number, last4):
    account = _account(session, number)
    return next(m for m in account.patient.payment_methods if m.last4 == last4)


def _balance(url, number):
    with db.session_scope(url) as session:
        return ledger.balance(session, _account(session, number))


def _payment_entries(url, number):
    with db.session_scope(url) as session:
        account = _account(session, number)
        return session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account.id, LedgerEntry.kind == "patient_payment")
        ).scalar_one()


def _pay(url, number, amount, key, gateway=None, last4=None):
    with db.session_scope(url) as session:
        account = _account(session, number)
        method = _card(session, number, last4) if last4 else next(m for m in account.patient.payment_methods if m.is_default)
        return payments.pay_with_card_on_file(
            session, account, method.id, amount, idempotency_key=key, actor="test", channel="rest",
            conversation_id="conv-1", gateway=gateway,
        )


# --- amounts ------------------------------------------------------------------

@pytest.mark.parametrize("value, reason", [
    ("-50", "negative"), ("0", "zero"), ("0.00", "zero"), ("10.555", "too_many_places"),
    ("5000", "above_balance"), ("fifty", "not_a_number"), ("", "not_a_number"), ("NaN", "not_a_number"),
])
def test_an_amount_the_patient_may_not_pay_is_refused_with_the_reason(value, reason):
    with pytest.raises(AmountRefused) as caught:
        check_amount(value, Decimal("1850.00"))
    assert caught.value.reason == reason
    assert caught.value.balance == Decimal("1850.00")


def test_the_full_amount_means_the_balance_and_dollar_strings_are_read():
    assert check_amount("full", Decimal("412.50")) == Decimal("412.50")
    assert check_amount("$1,850.00", Decimal("1850.00")) == Decimal("1850.00")
    assert check_amount(Decimal("100"), Decimal("412.50")) == Decimal("100.00")


def test_nothing_can_be_paid_on_a_credit():
    with pytest.raises(AmountRefused) as caught:
        check_amount("10", Decimal("-85.00"))
    assert caught.value.reason == "nothing_owed"


# --- card on file ---------------------------------------------------------------

def test_maria_pays_100_with_her_visa_once_even_when_the_request_is_repeated(seeded_url):
    first = _pay(seeded_url, MARIA, "100", "conv-1:confirm-1")
    again = _pay(seeded_url, MARIA, "100", "conv-1:confirm-1")
    assert first.status == "posted" and first.card == "Visa ending 4242"
    assert first.confirmation_number and again.confirmation_number == first.confirmation_number
    assert first.balance == Decimal("312.50")
    assert _balance(seeded_url, MARIA) == Decimal("312.50")
    assert _payment_entries(seeded_url, MARIA) == 1
    with db.session_scope(seeded_url) as session:
        receipt = session.execute(select(AccountEvent).where(AccountEvent.action == "payment_posted")).scalar_one()
        assert receipt.after["conversation_id"] == "conv-1" and receipt.after["balance"] == "312.50"


def test_concurrent_requests_with_one_key_charge_once(seeded_url):
    results, errors = [], []
    barrier = threading.Barrier(4)

    def attempt():
        try:
            barrier.wait()
            results.append(_pay(seeded_url, MARIA, "100", "conv-1:same-key"))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({r.confirmation_number for r in results}) == 1
    assert _balance(seeded_url, MARIA) == Decimal("312.50")
    assert _payment_entries(seeded_url, MARIA) == 1
    with db.session_scope(seeded_url) as session:
        from billing.gateway import SandboxCharge

        assert session.execute(select(func.count()).select_from(SandboxCharge)).scalar_one() == 1


def test_a_declined_card_posts_nothing_and_says_why(seeded_url):
    outcome = _pay(seeded_url, DAVID, "50", "conv-d:1")
    assert outcome.status == "declined" and outcome.decline_code == "do_not_honor"
    assert outcome.confirmation_number is None
    assert _balance(seeded_url, DAVID) == Decimal("230.00")


def test_a_gateway_timeout_leaves_the_payment_pending_and_reconcile_posts_it_once(seeded_url):
    outcome = _pay(seeded_url, MARIA, "100", "conv-1:t", gateway=SandboxGateway(mode="timeout"))
    assert outcome.status == "pending"
    assert _balance(seeded_url, MARIA) == Decimal("412.50")
    with db.session_scope(seeded_url) as session:
        report = runs.reconcile(session, SandboxGateway())
    assert len(report.posted) == 1 and not report.pending
    with db.session_scope(seeded_url) as session:
        report = runs.reconcile(session, SandboxGateway())
    assert report.posted == []
    assert _balance(seeded_url, MARIA) == Decimal("312.50")
    assert _payment_entries(seeded_url, MARIA) == 1


def test_an_unavailable_gateway_loses_nothing_and_reconcile_charges_under_the_same_key(seeded_url):
    outcome = _pay(seeded_url, MARIA, "100", "conv-1:u", gateway=SandboxGateway(mode="unavailable"))
    assert outcome.status == "pending"
    with db.session_scope(seeded_url) as session:
        still = runs.reconcile(session, SandboxGateway(mode="unavailable"))
    assert len(still.pending) == 1
    with db.session_scope(seeded_url) as session:
        report = runs.reconcile(session, SandboxGateway())
    assert len(report.posted) == 1
    assert _balance(seeded_url, MARIA) == Decimal("312.50")
    # the original request retried after the outage gives the settled payment back
    assert _pay(seeded_url, MARIA, "100", "conv-1:u").status == "posted"
    assert _payment_entries(seeded_url, MARIA) == 1


def test_a_payment_above_the_balance_on_a_card_becomes_a_credit(seeded_url):
    outcome = _pay(seeded_url, MARIA, "500", "conv-1:credit")
    assert outcome.status == "posted"
    assert outcome.balance == Decimal("-87.50") and outcome.credit == Decimal("87.50")


# --- declines and reprocessing ----------------------------------------------------

def test_linda_declined_november_installment_is_paid_with_her_mastercard_and_the_plan_catches_up(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, LINDA)
        declined = payments.latest_declined(session, account)
        assert declined.decline_code == "insufficient_funds" and declined.amount == Decimal("100.00")
        same_card, others = payments.retry_options(session, declined)
        assert same_card is False and [m.last4 for m in others] == ["4444"]
        with pytest.raises(PaymentRefused):
            payments.retry_declined(session, declined, declined.payment_method_id, idempotency_key="r0", actor="test")
        outcome = payments.retry_declined(session, declined, others[0].id, idempotency_key="conv-l:r1", actor="test")
        assert outcome.status == "posted" and outcome.card == "Mastercard ending 4444"
    assert _balance(seeded_url, LINDA) == Decimal("600.00")
    with db.session_scope(seeded_url) as session:
        account = _account(session, LINDA)
        plan = session.execute(select(PaymentPlan).where(PaymentPlan.account_id == account.id)).scalar_one()
        assert plan.status == "active" and plan.missed_payments == 0
        november = next(i for i in plan.installments if i.due_date == dt.date(2026, 11, 1))
        assert november.status == "paid"
        assert payments.latest_declined(session, account) is None


def test_a_processing_error_allows_one_immediate_retry_of_the_same_card(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        tok = SandboxGateway().tokenize(session, "4000000000000119", 1, 2030)
        method = PaymentMethod(patient_id=account.patient_id, gateway="sandbox", token=tok.token, brand="visa", last4="0119", exp_month=1, exp_year=2030)
        session.add(method)
        session.flush()
        first = payments.pay_with_card_on_file(session, account, method.id, "20", idempotency_key="pe:1", actor="test")
        assert first.decline_code == "processing_error"
        declined = session.get(Payment, first.payment_id)
        assert payments.retry_options(session, declined)[0] is True
        second = payments.retry_declined(session, declined, method.id, idempotency_key="pe:2", actor="test")
        assert second.status == "declined"
        assert payments.retry_options(session, declined)[0] is False
        with pytest.raises(PaymentRefused):
            payments.retry_declined(session, declined, method.id, idempotency_key="pe:3", actor="test")


# --- payment links --------------------------------------------------------------

def _tokenize(url, number):
    with db.session_scope(url) as session:
        return SandboxGateway().tokenize(session, number, 12, 2030).token


def test_a_link_payment_posts_once_and_the_link_then_closes(seeded_url):
    with db.session_scope(seeded_url) as session:
        _link, raw = payments.create_link(session, _account(session, MARIA), "412.50", actor="bot", conversation_id="c")
    card = _tokenize(seeded_url, "4242424242424242")
    with db.session_scope(seeded_url) as session:
        outcome = payments.pay_link(session, raw, card)
        assert outcome.status == "posted" and outcome.balance == Decimal("0.00")
    with db.session_scope(seeded_url) as session:  # the same form sent twice
        assert payments.pay_link(session, raw, card).confirmation_number == outcome.confirmation_number
    with db.session_scope(seeded_url) as session, pytest.raises(LinkError) as caught:
        payments.open_link(session, raw)
    assert caught.value.reason == "used"
    assert _payment_entries(seeded_url, MARIA) == 1


def test_a_declined_link_payment_posts_nothing_and_the_link_stays_open(seeded_url):
    with db.session_scope(seeded_url) as session:
        _link, raw = payments.create_link(session, _account(session, MARIA), "100", actor="bot")
    with db.session_scope(seeded_url) as session:
        outcome = payments.pay_link(session, raw, _tokenize(seeded_url, "4000000000000002"))
        assert outcome.status == "declined" and outcome.decline_code == "do_not_honor"
    assert _balance(seeded_url, MARIA) == Decimal("412.50")
    with db.session_scope(seeded_url) as session:
        assert payments.open_link(session, raw).amount == Decimal("100.00")


def test_an_expired_or_unknown_link_is_refused(seeded_url):
    with db.session_scope(seeded_url) as session:
        _link, raw = payments.create_link(session, _account(session, MARIA), "100", actor="bot")
    later = clock.utcnow() + dt.timedelta(hours=25)  # the clock the product reads (SELFPAY_NOW)
    with db.session_scope(seeded_url) as session:
        with pytest.raises(LinkError) as caught:
            payments.open_link(session, raw, now=later)
        assert caught.value.reason == "expired"
        with pytest.raises(LinkError) as caught:
            payments.open_link(session, "not-a-token")
        assert caught.value.reason == "unknown"


# --- scheduled payments -----------------------------------------------------------

def test_a_scheduled_payment_is_charged_by_run_due_on_its_day_only(seeded_url):
    today = dt.date(2026, 11, 28)
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        method = _card(session, MARIA, "4242")
        outcome = payments.schedule_payment(session, account, method.id, "75", dt.date(2026, 12, 15), idempotency_key="s1", actor="test", today=today)
        assert outcome.status == "scheduled" and outcome.confirmation_number
    with db.session_scope(seeded_url) as session:
        assert runs.run_due(session, today=dt.date(2026, 12, 14)).posted == []
    with db.session_scope(seeded_url) as session:
        assert len(runs.run_due(session, today=dt.date(2026, 12, 15)).posted) == 1
    with db.session_scope(seeded_url) as session:
        assert runs.run_due(session, today=dt.date(2026, 12, 15)).posted == []
    assert _balance(seeded_url, MARIA) == Decimal("337.50")


def test_a_cancelled_scheduled_payment_is_never_charged(seeded_url):
    today = dt.date(2026, 11, 28)
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        outcome = payments.schedule_payment(session, account, _card(session, MARIA, "4242").id, "75", dt.date(2026, 12, 15),
                                            idempotency_key="s2", actor="test", today=today)
        payments.cancel_scheduled(session, account, outcome.payment_id, actor="patient", reason="patient cancelled in chat")
    with db.session_scope(seeded_url) as session:
        runs.run_due(session, today=dt.date(2026, 12, 20))
    assert _balance(seeded_url, MARIA) == Decimal("412.50")


def test_a_payment_cannot_be_scheduled_in_the_past(seeded_url):
    with db.session_scope(seeded_url) as session:
        account = _account(session, MARIA)
        with pytest.raises(PaymentRefused):
            payments.schedule_payment(session, account, _card(session, MARIA, "4242").id, "75", dt.date(2026, 11, 1),
                                      idempotency_key="s3", actor="test", today=dt.date(2026, 11, 28))
