"""Desk users: hashed passwords, roles, the lockout on repeated failures,
sessions, and demo users only with the demo data."""
from __future__ import annotations

import datetime as dt

import pytest

from billing import clock, db, seed, staff
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
        assert staff.signed_in(session, token, now=clock.utcnow() + dt.timedelta(hours=staff.SESSION_HOURS + 1)) is None
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


def test_a_locked_user_name_refuses_even_its_right_password_but_not_the_others_on_that_address(db_url):
    with db.session_scope(db_url) as session:
        staff.add_user(session, "jo", "Jo", "agent", "long-enough-pw", created_by="test")
        staff.add_user(session, "kim", "Kim", "agent", "another-good-pw", created_by="test")
        now = dt.datetime(2026, 11, 28, 12, 0)
        for _ in range(staff.MAX_FAILURES):
            assert staff.authenticate(session, "jo", "guess", "10.0.0.9", now=now) is None
        with pytest.raises(staff.TooManyAttempts) as locked:
            staff.authenticate(session, " JO ", "long-enough-pw", "10.0.0.77", now=now)  # any address, any spelling
        assert locked.value.until == now + staff.LOCK_DURATION
        # kim, behind the same address, is not locked out by jo's failures
        assert staff.authenticate(session, "kim", "another-good-pw", "10.0.0.9", now=now).username == "kim"
        # tries while locked do not lengthen the lock
        for _ in range(10):
            with pytest.raises(staff.TooManyAttempts):
                staff.authenticate(session, "jo", "guess", "10.0.0.9", now=now + dt.timedelta(minutes=10))
        assert staff.authenticate(session, "jo", "long-enough-pw", "10.0.0.9", now=now + staff.LOCK_DURATION) is not None


def test_a_success_starts_the_count_again(db_url):
    with db.session_scope(db_url) as session:
        staff.add_user(session, "jo", "Jo", "agent", "long-enough-pw", created_by="test")
        now = dt.datetime(2026, 11, 28, 12, 0)
        for _ in range(staff.MAX_FAILURES - 1):
            staff.authenticate(session, "jo", "guess", "10.0.0.9", now=now)
        assert staff.authenticate(session, "jo", "long-enough-pw", "10.0.0.9", now=now) is not None
        for _ in range(staff.MAX_FAILURES - 1):
            staff.authenticate(session, "jo", "guess", "10.0.0.9", now=now)
        assert staff.authenticate(session, "jo", "long-enough-pw", "10.0.0.9", now=now) is not None


def test_many_failures_from_one_address_slow_it_but_a_right_password_still_signs_in(db_url):
    with db.session_scope(db_url) as session:
        staff.add_user(session, "kim", "Kim", "agent", "another-good-pw", created_by="test")
        now = dt.datetime(2026, 11, 28, 12, 0)
        assert not staff.address_limited(session, "10.0.0.9", now)
        # an attacker behind a shared address sprays many names (none reaching its own limit)
        for n in range(staff.ADDRESS_FAILURES):
            assert staff.authenticate(session, f"name{n}", "guess", "10.0.0.9", now=now) is None
        assert staff.address_limited(session, "10.0.0.9", now)
        assert not staff.address_limited(session, "10.0.0.10", now)
        assert not staff.address_limited(session, "10.0.0.9", now + staff.FAILURE_WINDOW + dt.timedelta(seconds=1))
        # the legitimate user behind that address is never refused the right password
        assert staff.authenticate(session, "kim", "another-good-pw", "10.0.0.9", now=now).username == "kim"


def test_agents_read_transcripts_they_handle_or_that_wait_in_their_queues(seeded_url):
    from billing.models import Handoff

    with db.session_scope(seeded_url) as session:
        dana = staff.add_user(session, "dana", "Dana", "agent", "long-enough-pw", created_by="test", departments=["insurance"])
        assert dana.departments == "insurance"
        with pytest.raises(staff.StaffError) as refused:
            staff.add_user(session, "lee", "Lee", "agent", "long-enough-pw", created_by="test", departments=["parking"])
        assert refused.value.reason == "bad_department"
        sam = staff.signed_in(session, staff.start_session(session, session.query(StaffUser).filter_by(username="sam").one()))
        alex = staff.signed_in(session, staff.start_session(session, session.query(StaffUser).filter_by(username="alex").one()))
        dana = staff.signed_in(session, staff.start_session(session, dana))
        assert dana.departments == ("insurance",) and alex.departments == ()

        def handoff(conversation, department, status="waiting", claimed_by=None):
            session.add(Handoff(client_id="riverside", conversation_id=conversation, channel="rest", department=department,
                                reason="asked_for_person", summary="-", status=status, claimed_by=claimed_by))
            session.flush()

        handoff("c-insurance-waiting", "insurance")
        handoff("c-billing-waiting", "billing")
        handoff("c-billing-dana", "billing", "active", "dana")
        handoff("c-insurance-alex", "insurance", "active", "alex")
        handoff("c-insurance-closed", "insurance", "closed", "alex")
        readable = {c: staff.may_read_conversation(session, dana, c) for c in
                    ("c-insurance-waiting", "c-billing-waiting", "c-billing-dana", "c-insurance-alex", "c-insurance-closed",
                     "c-never-handed-off")}
        assert readable == {"c-insurance-waiting": True, "c-billing-waiting": False, "c-billing-dana": True,
                            "c-insurance-alex": False, "c-insurance-closed": False, "c-never-handed-off": False}
        # alex works every queue (no departments named); sam is a supervisor and reads all
        assert staff.may_read_conversation(session, alex, "c-billing-waiting")
        assert not staff.may_read_conversation(session, alex, "c-billing-dana")
        assert not staff.may_read_conversation(session, alex, "c-never-handed-off")
        assert staff.may_read_conversation(session, sam, "c-never-handed-off")
        assert staff.serves(dana, "insurance") and not staff.serves(dana, "billing") and staff.serves(alex, "billing")
