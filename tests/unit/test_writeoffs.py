"""Write-offs within the client's limits (SQLite and PostgreSQL)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import cli, db, ledger, writeoffs
from billing.models import Account, AccountEvent, LedgerEntry


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def test_grace_small_balance_is_written_off_once_and_nothing_else(seeded_url):
    with db.session_scope(seeded_url) as session:
        done = writeoffs.small_balance_write_off(session)
    assert done == [("40090123", Decimal("3.50"))]
    with db.session_scope(seeded_url) as session:
        assert writeoffs.small_balance_write_off(session) == []
        assert ledger.balance(session, _account(session, "40090123")) == Decimal("0.00")
        assert ledger.balance(session, _account(session, "40012345")) == Decimal("412.50")
        event = session.execute(select(AccountEvent).where(AccountEvent.action == "write_off")).scalar_one()
        assert event.actor == "job:small-balance" and event.before == {"balance": "3.50"}


def test_a_partner_writes_off_up_to_the_limit_and_a_supervisor_approves_more(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        with pytest.raises(writeoffs.WriteOffRefused) as caught:
            writeoffs.write_off(session, james, "300.00", reason_code="ADMIN", reason="service recovery", actor="agent:alex")
        assert caught.value.reason == "needs_supervisor" and caught.value.limit == Decimal("250.00")
        writeoffs.write_off(session, james, "250.00", reason_code="ADMIN", reason="service recovery", actor="agent:alex")
        writeoffs.write_off(session, james, "300.00", reason_code="ADMIN", reason="hardship", actor="agent:alex", approved_by="supervisor:sam")
        assert ledger.balance(session, james) == Decimal("1300.00")
        for amount, reason in (("0", "not_positive"), ("-5", "not_positive"), ("5000", "above_balance")):
            with pytest.raises(writeoffs.WriteOffRefused) as caught:
                writeoffs.write_off(session, james, amount, reason_code="ADMIN", reason="x", actor="agent:alex")
            assert caught.value.reason == reason


def test_the_command(seeded_sqlite, capsys):
    assert cli.main(["balances", "small-write-off"]) == 0
    assert "40090123: wrote off 3.50" in capsys.readouterr().out


def test_above_the_limit_a_request_waits_for_a_supervisor_and_posts_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        with pytest.raises(writeoffs.WriteOffRefused) as too_much:
            writeoffs.request_write_off(session, james, "1850.01", reason_code="hardship", reason="job loss", actor="alex")
        assert too_much.value.reason == "above_balance"
        request = writeoffs.request_write_off(session, james, "600.00", reason_code="hardship", reason="job loss", actor="alex")
        assert ledger.balance(session, james) == Decimal("1850.00")  # nothing posts before the approval
        writeoffs.approve_request(session, request, actor="sam", note="hardship letter on file")
        assert request.status == "approved" and ledger.balance(session, james) == Decimal("1250.00")
        with pytest.raises(writeoffs.WriteOffRefused):
            writeoffs.approve_request(session, request, actor="sam")
        entry = session.get(LedgerEntry, request.ledger_entry_id)
        assert entry.actor == "alex (approved by sam)" and entry.reason_code == "hardship"
        second = writeoffs.request_write_off(session, james, "300.00", reason_code="hardship", reason="again", actor="alex")
        writeoffs.deny_request(session, second, actor="sam", note="offer a plan first")
        assert second.status == "denied" and ledger.balance(session, james) == Decimal("1250.00")
