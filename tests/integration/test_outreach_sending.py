"""Outreach runs against a local server that speaks Twilio's REST API:
texts through the Messages API with a status callback, calls through the
Calls API with the voice webhook's outbound turn and machine detection;
a second run sends nothing; a failed send is retried, then kept failed
with Twilio's error; 21610 records an opt-out."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from billing import clock, db, outreach, outreach_plan, outreach_run, outreach_send
from billing.models import OutreachAttempt
from tests.conftest import DEMO_NOW
from tests.twilio_rest import twilio_rest

PUBLIC = "https://selfpay.example.test"


@pytest.fixture(scope="module")
def rest_api():
    with twilio_rest() as state:
        yield state


@pytest.fixture
def twilio(rest_api, seeded_sqlite, monkeypatch):
    rest_api.reset()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "outreach-test-token")
    monkeypatch.setenv("TWILIO_API_BASE_URL", rest_api.url)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("OUTREACH_SENDS_PER_SECOND", "50")
    # the worker's job in this process: what the Celery task does
    outreach_run.install_dispatcher(lambda ids: [outreach_send.send(i) for i in ids])
    yield rest_api
    outreach_run.install_dispatcher(None)


def planned(client):
    with db.session_scope() as session:
        return outreach_plan.plan(session, clock.parse(DEMO_NOW), client)


def run(moment=DEMO_NOW, client=None):
    return outreach_run.run(clock.parse(moment), client, wait=5)


def test_the_demo_days_reminders_go_out_as_texts_with_a_status_callback(twilio):
    rows = run()
    sent = [r for r in rows if r["decision"] == "send"]
    assert {(r["account"], r["status"]) for r in sent} == {("40023456", "sent"), ("40034567", "sent"), ("40078901", "sent")}
    by_to = {m["To"]: m for m in twilio.messages}
    assert set(by_to) == {"+15550101002", "+15550101003", "+15550101007"}
    assert by_to["+15550101002"]["From"] == "+15550100100" and by_to["+15550101007"]["From"] == "+15550100200"
    for row in sent:
        message = by_to[row["to"]]
        assert message["StatusCallback"] == f"{PUBLIC}/webhooks/twilio_sms/status?attempt={row['attempt']}"
        body = message["Body"]
        # limited content: who we are and how to answer, no amount, service or diagnosis
        assert "$" not in body and not any(ch.isdigit() for ch in body.split("call")[0])
        assert "Reply STOP to opt out." in body and "HELP" in body
    assert "Lakeside Medical Center" in by_to["+15550101007"]["Body"]
    with db.session_scope() as session:
        attempts = session.execute(select(OutreachAttempt)).scalars().all()
        assert all(a.provider_sid and a.provider_sid.startswith("SM") and a.sent_at for a in attempts)


def test_a_second_run_sends_nothing(twilio):
    run()
    first = len(twilio.messages)
    rows = run()
    assert len(twilio.messages) == first == 3
    assert {r["reason"] for r in rows} == {"already_sent"} and {r["status"] for r in rows} == {"sent"}


def test_a_task_delivered_twice_sends_once(twilio):
    contacts = outreach_run.record(planned("riverside"))
    ids = [c.attempt_id for c in contacts if c.attempt_id]
    for attempt_id in ids + ids:
        outreach_send.send(attempt_id)
    assert len(twilio.messages) == len(ids) == 2


def claimed_by_a_worker(attempt_id, minutes_ago):
    """The attempt as a worker leaves it right after claiming it."""
    with db.session_scope() as session:
        row = session.get(OutreachAttempt, attempt_id)
        row.status, row.status_at = "sending", clock.utcnow() - dt.timedelta(minutes=minutes_ago)


def test_an_attempt_another_worker_is_sending_now_is_left_to_it(twilio):
    contacts = outreach_run.record(planned("lakeside"))
    attempt_id = contacts[0].attempt_id
    claimed_by_a_worker(attempt_id, minutes_ago=0)
    assert outreach_send.send(attempt_id) == "sending"      # the task delivered again while the first still sends
    assert twilio.messages == []
    with db.session_scope() as session:
        row = session.get(OutreachAttempt, attempt_id)
        assert row.status == "sending" and row.error is None


def test_an_attempt_a_stopped_worker_was_sending_is_not_sent_again(twilio):
    contacts = outreach_run.record(planned("lakeside"))
    attempt_id = contacts[0].attempt_id
    claimed_by_a_worker(attempt_id, minutes_ago=11)          # the worker died after claiming it
    assert outreach_send.send(attempt_id) == "failed"
    assert twilio.messages == []
    with db.session_scope() as session:
        assert "never sent twice" in session.get(OutreachAttempt, attempt_id).error


def test_the_next_run_fails_what_a_stopped_worker_left_sending(twilio):
    contacts = outreach_run.record(planned("lakeside"))
    attempt_id = contacts[0].attempt_id
    claimed_by_a_worker(attempt_id, minutes_ago=11)
    rows = run(client="lakeside")
    assert [(r["attempt"], r["reason"], r["status"]) for r in rows if r["attempt"] == attempt_id] == [
        (attempt_id, "already_sent", "failed")]
    assert twilio.messages == []


def test_a_stop_between_the_plan_and_the_send_cancels_it(twilio):
    contacts = outreach_run.record(planned("lakeside"))
    with db.session_scope() as session:
        outreach.set_opt_out(session, client_id="lakeside", channel="sms", address="+15550101007", opted_out=True, source="sms keyword")
    assert outreach_send.send(contacts[0].attempt_id) == "canceled"
    assert twilio.messages == []


def test_a_call_goes_through_the_calls_api_with_machine_detection(twilio):
    rows = run("2026-12-06T15:00:00Z", "riverside")   # James: past due, [voice, sms]
    james = next(r for r in rows if r["account"] == "40023456")
    assert (james["channel"], james["status"]) == ("voice", "sent")
    call, = twilio.calls
    assert (call["To"], call["From"]) == ("+15550101002", "+15550100100")
    assert call["Url"] == f"{PUBLIC}/webhooks/twilio_voice/webhook?turn=outbound&attempt={james['attempt']}"
    assert call["StatusCallback"] == f"{PUBLIC}/webhooks/twilio_voice/status?attempt={james['attempt']}"
    assert call["MachineDetection"] == "DetectMessageEnd"
    assert set(call["StatusCallbackEvent"]) >= {"answered", "completed"}


def test_a_spanish_speaker_gets_the_spanish_text(twilio):
    run("2026-12-09T15:00:00Z", "lakeside")   # Carlos: past due, language es
    message, = [m for m in twilio.messages if m["To"] == "+15550101008"]
    assert "Responda" in message["Body"] and "PARAR" in message["Body"]


def test_twilio_failing_once_is_retried(twilio):
    twilio.fail_next.extend([500, 429])
    rows = run(client="lakeside")
    assert rows[0]["status"] == "sent" and len(twilio.messages) == 1


def test_twilio_failing_every_try_leaves_the_attempt_failed_with_the_error(twilio):
    twilio.fail_next.extend([503, 503, 503])
    rows = run(client="lakeside")
    assert rows[0]["status"] == "failed" and twilio.messages == []
    with db.session_scope() as session:
        attempt = session.get(OutreachAttempt, rows[0]["attempt"])
        assert "delivery failed" in attempt.error and attempt.sent_at is None
    # failed, not forgotten: a second run does not send it behind the record's back
    assert run(client="lakeside")[0]["reason"] == "already_sent"


def test_twilio_21610_records_an_opt_out(twilio):
    twilio.refuse["+15550101007"] = (400, 21610)
    rows = run(client="lakeside")
    assert rows[0]["status"] == "failed"
    with db.session_scope() as session:
        assert session.get(OutreachAttempt, rows[0]["attempt"]).error_code == "21610"
        assert outreach.is_opted_out(session, client_id="lakeside", channel="sms", address="+15550101007")


def test_texts_from_one_number_keep_the_send_rate(twilio, monkeypatch):
    monkeypatch.setenv("OUTREACH_SENDS_PER_SECOND", "4")
    run(client="riverside")   # two texts from Riverside's number
    first, second = sorted(m["at"] for m in twilio.messages)
    assert second - first >= 0.24


def test_without_an_engine_the_run_says_so(seeded_sqlite):
    outreach_run.install_dispatcher(None)
    with pytest.raises(outreach_run.NoEngine):
        run()
