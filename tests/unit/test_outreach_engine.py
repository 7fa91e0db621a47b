"""Beat's own runs under `make run` with no Twilio account configured:
nothing is recorded or sent (an attempt that could only fail would use up
the reminder and count against the patient's cap); with an account, the
same run records what is due."""
from __future__ import annotations

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
