"""The outreach engine: a Celery app whose worker sends attempts and whose
beat runs the planner (billing.outreach_run) on each client's schedule:
beat ticks every ``OUTREACH_TICK_SECONDS``, and each tick plans the
clients whose period (their policy's ``outreach.plan_every_minutes``, else
``OUTREACH_PLAN_EVERY_SECONDS``) has come round, each claimed once.

The broker is ``OUTREACH_BROKER_URL``: by default kombu's filesystem
transport in a folder under var/ (no server: `make run`); `make cluster`
sets ``redis://``.  Tasks are acknowledged late and rejected when their
worker is lost, so a worker killed mid-run loses nothing; an attempt is
claimed before it is sent (billing.outreach_send), so a task delivered
again duplicates nothing.

Run the worker with ``celery -A connectors.outreach_engine worker`` and
beat with ``celery -A connectors.outreach_engine beat`` (bot/serve.py
starts both).  ``install()`` makes this process hand attempts to the worker."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init

from billing import clock, outreach_run, outreach_send
from connectors import wiring
from selfpay import settings

logger = logging.getLogger(__name__)


def _broker_options() -> dict:
    url = settings.get("OUTREACH_BROKER_URL") or "filesystem://"
    if not url.startswith("filesystem://"):
        return {}
    folder = Path(settings.get("OUTREACH_BROKER_FOLDER"))
    for sub in ("in", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # one folder both ways: what the CLI and beat put in, the worker takes out;
    # the exchange tables under it too (kombu's default is ./control, wherever the process started)
    return {"data_folder_in": str(folder / "in"), "data_folder_out": str(folder / "in"),
            "processed_folder": str(folder / "processed"), "control_folder": str(folder / "control"),
            "store_processed": False}


def tick_seconds() -> float:
    return float(settings.get("OUTREACH_TICK_SECONDS") or 60)


def make_app() -> Celery:
    app = Celery("selfpay_outreach", broker=settings.get("OUTREACH_BROKER_URL") or "filesystem://")
    app.conf.update(
        broker_transport_options=_broker_options(),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule={"outreach-tick": {"task": "outreach.tick", "schedule": tick_seconds()}},
        beat_schedule_filename=str(Path(settings.get("OUTREACH_BROKER_FOLDER")) / "beat-schedule"),
        worker_hijack_root_logger=False,
    )
    return app


app = make_app()


@worker_process_init.connect
def _install_senders(**_):
    wiring.install()
    install()


@app.task(name="outreach.send_attempt", acks_late=True, bind=True, max_retries=0)
def send_attempt(self, attempt_id: int):
    """Send one recorded attempt (idempotent: it is claimed first)."""
    return outreach_send.send(int(attempt_id))


@app.task(name="outreach.plan_and_send", acks_late=True)
def plan_and_send(now: str | None = None, client_id: str | None = None):
    """Beat's job: plan at the clock (or ``now``), record and hand over what is due.
    With no Twilio account configured, beat's own runs record and send
    nothing: an attempt that could only fail would count against the
    patient's cap and stop a later real send of the same reminder."""
    if now is None and not (settings.get("TWILIO_ACCOUNT_SID") and settings.secret("TWILIO_AUTH_TOKEN")):
        logger.warning("outreach: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set; beat plans nothing and sends nothing")
        return {"due": 0, "send": 0, "not_sent": "twilio_not_configured"}
    moment = clock.parse(now) if now else clock.now_aware()
    contacts = outreach_run.enqueue(moment, client_id)
    return {"due": len(contacts), "send": sum(1 for c in contacts if c.decision == "send")}


@app.task(name="outreach.tick", acks_late=True)
def tick(at: float | None = None):
    """Beat's job every tick: plan each client whose period has come round
    (billing.outreach_run.claim_due_clients); ``at`` for tests (real time)."""
    due = outreach_run.claim_due_clients(time.time() if at is None else at,
                                         float(settings.get("OUTREACH_PLAN_EVERY_SECONDS") or 300), slack=tick_seconds() / 2)
    return {client_id: plan_and_send(client_id=client_id) for client_id in due}


def dispatch(attempt_ids) -> None:
    for attempt_id in attempt_ids:
        send_attempt.delay(int(attempt_id))


def install() -> None:
    """This process hands outreach attempts to the worker."""
    outreach_run.install_dispatcher(dispatch)


def command(argv=None) -> int:
    """The ``selfpay`` command's composition root: the senders and the
    engine installed, then billing's command line (``selfpay outreach run``
    hands attempts to the worker)."""
    from billing import cli

    wiring.install()
    install()
    return cli.main(argv)
