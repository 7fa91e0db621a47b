"""Beat's own runs under `make run` with no Twilio account configured:
nothing is recorded or sent (an attempt that could only fail would use up
the reminder and count against the patient's cap); with an account, the
same run records what is due."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing import db
from billing.models import OutreachAttempt
from connectors import outreach_engine


def attempts(url) -> int:
    with db.session_scope(url) as session:
        return session.execute(select(func.count(OutreachAttempt.id))).scalar_one()


def test_beat_sends_nothing_without_a_twilio_account(seeded_sqlite, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    result = outreach_engine.plan_and_send()
    assert result["send"] == 0 and result["not_sent"] == "twilio_not_configured"
    assert attempts(seeded_sqlite) == 0


def test_beat_records_what_is_due_when_twilio_is_configured(seeded_sqlite, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "test-token")
    handed = []
    outreach_engine.outreach_run.install_dispatcher(handed.extend)   # the worker's queue, here a list
    try:
        result = outreach_engine.plan_and_send()   # the demo's moment: three reminders are due
    finally:
        outreach_engine.outreach_run.install_dispatcher(None)
    assert result["send"] == 3 and attempts(seeded_sqlite) == 3 and len(handed) == 3


def set_plan_every(url, client_id, minutes):
    from billing.models import Client

    with db.session_scope(url) as session:
        client = session.get(Client, client_id)
        outreach = {**client.policy["outreach"], "plan_every_minutes": minutes}
        client.policy = {**client.policy, "outreach": outreach}


def test_each_client_is_planned_on_its_own_schedule(seeded_sqlite):
    set_plan_every(seeded_sqlite, "lakeside", 60)            # riverside keeps the default, every 300 s
    due = outreach_engine.outreach_run.claim_due_clients
    assert due(1_000.0, 300) == ["lakeside", "riverside"]    # nobody planned yet
    assert due(1_060.0, 300) == []
    assert due(1_300.0, 300) == ["riverside"]
    assert due(4_600.0, 300) == ["lakeside", "riverside"]


def test_a_clients_period_is_claimed_once(seeded_sqlite):
    due = outreach_engine.outreach_run.claim_due_clients
    assert due(1_000.0, 300) == ["lakeside", "riverside"]
    assert due(1_000.0, 300) == []                            # a second beat, or the tick delivered twice
    # beat's tick may start a period a little early, never stretch it by a tick
    assert due(1_270.0, 300, slack=30) == ["lakeside", "riverside"]


def test_a_beat_tick_plans_only_the_clients_that_are_due(seeded_sqlite, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "test-token")
    set_plan_every(seeded_sqlite, "lakeside", 60)
    handed = []
    outreach_engine.outreach_run.install_dispatcher(handed.extend)
    try:
        first = outreach_engine.tick(at=1_000.0)
        assert set(first) == {"lakeside", "riverside"} and attempts(seeded_sqlite) == 3
        assert outreach_engine.tick(at=1_030.0) == {}           # neither period has come round
        again = outreach_engine.tick(at=4_600.0)                 # both have: planned again, nothing sent twice
    finally:
        outreach_engine.outreach_run.install_dispatcher(None)
    assert set(again) == {"lakeside", "riverside"} and all(r["send"] == 0 for r in again.values())
    assert attempts(seeded_sqlite) == 3 and len(handed) == 3


@pytest.mark.parametrize("minutes", [0, 1441, "5", 2.5, True])
def test_a_plan_period_that_is_not_minutes_is_refused_when_the_policy_is_read(minutes):
    import yaml

    from billing.policy import ClientPolicy
    from tests.conftest import DEMO_FILE

    policy = yaml.safe_load(open(DEMO_FILE))["clients"][0]["policy"]
    policy["outreach"]["plan_every_minutes"] = minutes
    with pytest.raises(ValueError, match="plan_every_minutes is a whole number of minutes from 1 to 1440"):
        ClientPolicy.from_dict(policy)
