"""The one clock (billing.clock): SELFPAY_NOW sets every "now" and
"today", and what the patient hears follows it.  The rest of the suite
runs at the demo's moment (tests/conftest.py); these tests move the clock
90 and 200 days past it on purpose."""
from __future__ import annotations

import datetime as dt

import pytest

from billing import clock


def near(moment: dt.datetime, expected: dt.datetime) -> bool:
    """The set clock runs from the moment it was set: a test sees it a little later."""
    return dt.timedelta(0) <= moment - expected < dt.timedelta(seconds=30)


def test_selfpay_now_sets_now_and_today_in_utc(monkeypatch):
    monkeypatch.setenv("SELFPAY_NOW", "2027-03-01T23:30:00-05:00")
    assert near(clock.utcnow(), dt.datetime(2027, 3, 2, 4, 30))
    assert clock.today() == dt.date(2027, 3, 2)
    monkeypatch.setenv("SELFPAY_NOW", "2027-06-19")
    assert near(clock.now_aware(), dt.datetime(2027, 6, 19, tzinfo=dt.timezone.utc))
    monkeypatch.setenv("SELFPAY_NOW", "2027-06-19T10:00:00Z")
    assert near(clock.utcnow(), dt.datetime(2027, 6, 19, 10, 0))


def test_a_set_clock_runs_on_from_its_moment(monkeypatch):
    import time

    monkeypatch.setenv("SELFPAY_NOW", "2027-01-05T12:00:00Z")
    first = clock.utcnow()
    time.sleep(0.05)
    assert clock.utcnow() - first >= dt.timedelta(seconds=0.05)


def test_without_selfpay_now_it_is_the_machines_clock(monkeypatch):
    monkeypatch.delenv("SELFPAY_NOW")
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert before <= clock.utcnow() <= dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def test_a_malformed_selfpay_now_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SELFPAY_NOW", "next tuesday")
    with pytest.raises(clock.ClockError, match="SELFPAY_NOW"):
        clock.now_aware()


@pytest.mark.parametrize("moment, response", [
    ("2026-11-28T15:00:00Z", "utter_balance"),           # the demo's moment: due December 10
    ("2027-02-26T15:00:00Z", "utter_balance_past_due"),  # 90 days on
    ("2027-06-16T15:00:00Z", "utter_balance_past_due"),  # 200 days on
])
def test_marias_balance_is_said_as_due_or_past_due_by_the_clock(seeded_sqlite, monkeypatch, moment, response):
    from bot.actions.balance import ActionCheckBalance
    from tests.actions.helpers import run, tracker

    monkeypatch.setenv("SELFPAY_NOW", moment)
    messages, _ = run(ActionCheckBalance(), tracker(slots={"identity": "verified", "patient_id": "p-maria-garcia"}, intent="check_balance"))
    assert messages[0]["response"] == response and messages[0]["balance"] == "$412.50"


@pytest.mark.parametrize("moment", ["2027-02-26T15:00:00Z", "2027-06-16T15:00:00Z"])
def test_a_payment_link_expires_by_the_clock_not_the_machine(seeded_url, monkeypatch, moment):
    from billing import db, payments
    from billing.models import Account
    from sqlalchemy import select

    monkeypatch.setenv("SELFPAY_NOW", moment)
    with db.session_scope(seeded_url) as session:
        account = session.execute(select(Account).where(Account.account_number == "40012345")).scalar_one()
        link, token = payments.create_link(session, account, "50.00", actor="test")
        assert payments.open_link(session, token).id == link.id
    later = (clock.parse(moment) + dt.timedelta(hours=25)).isoformat()
    monkeypatch.setenv("SELFPAY_NOW", later)
    with db.session_scope(seeded_url) as session, pytest.raises(payments.LinkError):
        payments.open_link(session, token)
