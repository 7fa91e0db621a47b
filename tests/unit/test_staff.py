"""Desk users: hashed passwords, roles, the lockout on repeated failures,
sessions, and demo users only with the demo data."""
from __future__ import annotations

import datetime as dt

import pytest

from billing import db, seed, staff
from billing.models import StaffUser


def test_demo_users_come_with_the_demo_data(seeded_url):
    with db.session_scope(seeded_url) as session:
        users = {u.username: u for u in session.query(StaffUser)}
        assert users["alex"].role == "agent" and users["sam"].role == "supervisor"
        assert "alex-demo-pass" not in users["alex"].password_hash
        assert staff.authenticate(session, "alex", "alex-demo-pass", "10.0.0.1").username == "alex"
        assert staff.authenticate(session, "alex", "wrong-password", "10.0.0.1") is None


def test_no_demo_users_in_production(db_url, monkeypatch):
    from tests.conftest import DEMO_FILE

    monkeypatch.setenv("SELFPAY_MODE", "production")
    with db.session_scope(db_url) as session:
        seed.load(session, DEMO_FILE)
        assert session.query(StaffUser).count() == 0


def test_add_user_checks(db_url):
    with db.session_scope(db_url) as session:
        for args, reason in ((("bad name!", "X", "agent", "long-enough-pw"), "bad_username"),
                             (("jo", "Jo", "boss", "long-enough-pw"), "bad_role"),
                             (("jo", "Jo", "agent", "short"), "weak_password")):
            with pytest.raises(staff.StaffError) as refused:
                staff.add_user(session, *args, created_by="test")
            assert refused.value.reason == reason
        staff.add_user(session, "Jo", "Jo Park", "agent", "long-enough-pw", created_by="test")
        with pytest.raises(staff.StaffError):
            staff.add_user(session, "jo", "Jo", "agent", "long-enough-pw", created_by="test")


def test_five_failures_lock_sign_in_for_the_window(db_url):
    with db.session_scope(db_url) as session:
        staff.add_user(session, "jo", "Jo", "agent", "long-enough-pw", created_by="test")
        now = dt.datetime(2026, 11, 28, 12, 0)
        for _ in range(staff.MAX_FAILURES):
            assert staff.authenticate(session, "jo", "guess", "10.0.0.9", now=now) is None
        with pytest.raises(staff.TooManyAttempts):
            staff.authenticate(session, "jo", "long-enough-pw", "10.0.0.9", now=now)
        # the right password works again once the window has passed
        later = now + staff.FAILURE_WINDOW + dt.timedelta(seconds=1)
        assert staff.authenticate(session, "jo", "long-enough-pw", "10.0.0.9", now=later) is not None


def test_sessions_expire_and_end(db_url):
    with db.session_scope(db_url) as session:
        user = staff.add_user(session, "jo", "Jo", "agent", "long-enough-pw", created_by="test")
        token = staff.start_session(session, user)
        assert staff.signed_in(session, token).username == "jo"
        assert staff.signed_in(session, "not-a-token") is None
        assert staff.signed_in(session, token, now=dt.datetime.utcnow() + dt.timedelta(hours=staff.SESSION_HOURS + 1)) is None
        staff.end_session(session, token)
        assert staff.signed_in(session, token) is None


def test_users_add_command(tmp_path, monkeypatch, capsys):
    from billing import cli
    import io

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    assert cli.main(["users", "add", "kim", "--role", "supervisor", "--name", "Kim Lee", "--password-stdin"]) == 0
    assert "added supervisor kim" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["users", "add", "lee", "--role", "agent", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
