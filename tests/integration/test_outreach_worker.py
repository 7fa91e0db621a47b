"""The outreach engine with a real Celery worker on the filesystem broker
(no server): `selfpay outreach run` hands the attempts to the worker,
which sends them through Twilio's REST API (a local server), and the run
waits and prints each attempt's status; a second run sends nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from selfpay.settings import PROJECT_ROOT, environment
from tests.conftest import DEMO_NOW
from tests.twilio_rest import twilio_rest

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(seeded_sqlite, tmp_path):
    with twilio_rest() as api:
        env = environment({
            "DATABASE_URL": seeded_sqlite, "OUTREACH_BROKER_URL": "filesystem://",
            "OUTREACH_BROKER_FOLDER": str(tmp_path / "broker"), "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
            "TWILIO_AUTH_TOKEN": "worker-test-token", "TWILIO_API_BASE_URL": api.url, "PUBLIC_URL": "https://selfpay.example.test",
            "OUTREACH_SENDS_PER_SECOND": "50", "SELFPAY_NOW": DEMO_NOW,
        })
        env.pop("SELFPAY_NOW_SINCE", None)
        log = open(tmp_path / "worker.log", "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "connectors.outreach_engine", "worker", "--pool", "solo", "--loglevel", "INFO"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield api, env, tmp_path
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=20)


def selfpay(env, *args):
    done = subprocess.run([sys.executable, "-c", "import sys; from connectors.outreach_engine import command; sys.exit(command())",
                           *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout, done.stderr


def test_a_run_goes_through_the_worker_and_a_second_run_sends_nothing(worker):
    api, env, tmp_path = worker
    code, out, err = selfpay(env, "outreach", "run", "--now", DEMO_NOW, "--json", "--wait", "90")
    assert code == 0, err + (tmp_path / "worker.log").read_text()[-3000:]
    rows = json.loads(out)["attempts"]
    assert {(r["account"], r["decision"], r["status"]) for r in rows} == {
        ("40023456", "send", "sent"), ("40034567", "send", "sent"), ("40078901", "send", "sent")}
    assert sorted(m["To"] for m in api.messages) == ["+15550101002", "+15550101003", "+15550101007"]
    code, out, _ = selfpay(env, "outreach", "run", "--now", DEMO_NOW, "--json", "--wait", "30")
    assert code == 0 and {r["reason"] for r in json.loads(out)["attempts"]} == {"already_sent"}
    assert len(api.messages) == 3
