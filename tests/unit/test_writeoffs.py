"""Write-offs within the client's limits (SQLite and PostgreSQL)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import cli, db, ledger, staff, writeoffs
from billing.models import Account, AccountEvent, LedgerEntry, WriteOffRequest
from tests.concurrency import at_once, slowed


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
        writeoffs.write_off(session, james, "300.00", reason_code="ADMIN", reason="hardship", actor="agent:alex", approved_by="sam")
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


def test_the_agent_limit_is_what_one_agent_writes_off_on_one_account_in_a_day(seeded_url, monkeypatch):
    monkeypatch.setenv("SELFPAY_NOW", "2026-12-01T15:00:00Z")
    with db.session_scope(seeded_url) as session:
        staff.add_user(session, "casey", "Casey Lin", "agent", "casey-demo-pass", created_by="test")
        james, maria = _account(session, "40023456"), _account(session, "40012345")
        writeoffs.write_off(session, james, "100.00", reason_code="ADMIN", reason="service recovery", actor="alex")
        writeoffs.write_off(session, james, "150.00", reason_code="ADMIN", reason="service recovery", actor="alex")
        # Riverside's $250.00 is spent for alex on James's account today
        with pytest.raises(writeoffs.WriteOffRefused) as caught:
            writeoffs.write_off(session, james, "0.01", reason_code="ADMIN", reason="again", actor="alex")
        assert caught.value.reason == "needs_supervisor"
        assert (caught.value.limit, caught.value.remaining) == (Decimal("250.00"), Decimal("0.00"))
        assert writeoffs.written_off_today(session, james, "alex") == Decimal("250.00")
        # what a supervisor approved is not the agent's own allowance
        writeoffs.write_off(session, james, "300.00", reason_code="ADMIN", reason="hardship", actor="alex", approved_by="sam")
        assert writeoffs.written_off_today(session, james, "alex") == Decimal("250.00")
        # another agent, and another account, have their own
        writeoffs.write_off(session, james, "250.00", reason_code="ADMIN", reason="service recovery", actor="casey")
        writeoffs.write_off(session, maria, "250.00", reason_code="ADMIN", reason="service recovery", actor="alex")
        assert ledger.balance(session, james) == Decimal("1050.00")
    monkeypatch.setenv("SELFPAY_NOW", "2026-12-02T15:00:00Z")
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        with pytest.raises(writeoffs.WriteOffRefused) as caught:
            writeoffs.write_off(session, james, "250.01", reason_code="ADMIN", reason="next day", actor="alex")
        assert caught.value.remaining == Decimal("250.00")
        writeoffs.write_off(session, james, "250.00", reason_code="ADMIN", reason="next day", actor="alex")


def test_only_a_supervisor_approves_above_the_limit(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        for approver in ("alex", "nobody", "supervisor:sam"):
            with pytest.raises(writeoffs.WriteOffRefused) as caught:
                writeoffs.write_off(session, james, "300.00", reason_code="ADMIN", reason="x", actor="alex", approved_by=approver)
            assert caught.value.reason == "not_approver"
        request = writeoffs.request_write_off(session, james, "600.00", reason_code="hardship", reason="job loss", actor="alex")
        with pytest.raises(writeoffs.WriteOffRefused) as caught:
            writeoffs.approve_request(session, request, actor="alex")
        assert caught.value.reason == "not_approver" and request.status == "requested"
        assert ledger.balance(session, james) == Decimal("1850.00")


def test_four_write_offs_at_the_limit_at_once_post_the_limit_once(seeded_url, monkeypatch):
    monkeypatch.setattr(ledger, "post", slowed(ledger.post))

    def write_off(_):
        with db.session_scope(seeded_url) as session:
            james = _account(session, "40023456")
            return writeoffs.write_off(session, james, "250.00", reason_code="ADMIN", reason="service recovery", actor="alex").id

    results = at_once(4, write_off)
    posted = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, writeoffs.WriteOffRefused)]
    assert len(posted) == 1 and len(refused) == 3, results
    assert all(r.reason == "needs_supervisor" and r.remaining == Decimal("0.00") for r in refused)
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        assert ledger.balance(session, james) == Decimal("1600.00")
        assert writeoffs.written_off_today(session, james, "alex") == Decimal("250.00")


def test_one_request_approved_twice_at_once_posts_once(seeded_url, monkeypatch):
    with db.session_scope(seeded_url) as session:
        request_id = writeoffs.request_write_off(session, _account(session, "40023456"), "600.00", reason_code="hardship",
                                                 reason="job loss", actor="alex").id
    monkeypatch.setattr(ledger, "post", slowed(ledger.post))

    def approve(_):
        with db.session_scope(seeded_url) as session:
            return writeoffs.approve_request(session, session.get(WriteOffRequest, request_id), actor="sam").status

    results = at_once(2, approve)
    assert results.count("approved") == 1, results
    assert [r.reason for r in results if isinstance(r, writeoffs.WriteOffRefused)] == ["not_requested"], results
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _account(session, "40023456")) == Decimal("1250.00")
