"""`selfpay payments run-due|reconcile` on the default database."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from billing import cli, db, ledger, payments
from billing.gateway import SandboxGateway
from billing.models import Account


def _maria(session):
    return session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()


def test_run_due_reports_what_it_charged_and_missed(seeded_sqlite, capsys):
    assert cli.main(["payments", "run-due", "--date", "2026-12-02"]) == 0
    out = capsys.readouterr().out
    # Linda's December autopay on the visa that lacks funds is declined and missed
    assert "declined: 1 (40034567#7)" in out and "installments missed: 1 (40034567#7)" in out
    assert "plans defaulted: 1 (40034567)" in out


def test_reconcile_settles_a_pending_payment_and_exits_0(seeded_sqlite, capsys):
    with db.session_scope() as session:
        account = _maria(session)
        card = account.patient.payment_methods[0]
        outcome = payments.pay_with_card_on_file(session, account, card.id, "100", idempotency_key="cli:1", actor="test",
                                                 gateway=SandboxGateway(mode="unavailable"))
        assert outcome.status == "pending"
    assert cli.main(["payments", "reconcile"]) == 0
    assert "posted: 1" in capsys.readouterr().out
    with db.session_scope() as session:
        assert ledger.balance(session, _maria(session)) == Decimal("312.50")


def test_reconcile_exits_1_while_the_gateway_is_down(seeded_sqlite, capsys, monkeypatch):
    with db.session_scope() as session:
        account = _maria(session)
        payments.pay_with_card_on_file(session, account, account.patient.payment_methods[0].id, "100", idempotency_key="cli:2",
                                       actor="test", gateway=SandboxGateway(mode="timeout"))
    monkeypatch.setenv("SANDBOX_GATEWAY_MODE", "unavailable")
    assert cli.main(["payments", "reconcile"]) == 1
    assert "left pending: 1" in capsys.readouterr().out
