"""An outreach run: plan, record each contact to send as an attempt (once:
the attempt's key is its account, campaign, step and channel), hand the
attempts to the worker through the engine port, and (``selfpay outreach
run``) wait until each is sent or has failed.

The engine is the outside world's: the Celery app (``engine``) installs a
dispatcher at start-up in every process that runs outreach (the worker,
beat, the ``selfpay`` command).  A test may install one that sends in the
same process."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable, Dict, List, Optional, Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from billing import db, outreach_plan, outreach_send
from billing.models import Client, OutreachAttempt, OutreachSchedule
from billing.policy import policy_of
from billing.outreach_plan import Contact
from billing.vocabulary import OUTREACH_OPEN, OutreachDecision, OutreachStatus

logger = logging.getLogger(__name__)

# an attempt that went as it should (a text sent or delivered, a call placed or answered)
DONE_WELL = (OutreachStatus.SENT, OutreachStatus.DELIVERED, OutreachStatus.ANSWERED, OutreachStatus.COMPLETED)

Dispatcher = Callable[[Sequence[int]], None]
_dispatcher: Optional[Dispatcher] = None


class NoEngine(RuntimeError):
    pass


def install_dispatcher(dispatcher: Optional[Dispatcher]) -> None:
    """A composition root installs how attempts reach the worker."""
    global _dispatcher
    _dispatcher = dispatcher


def record(contacts: Sequence[Contact]) -> List[Contact]:
    """Record every contact to send as a queued attempt; one another run
    recorded first is left alone (and shown as already sent)."""
    with db.session_scope() as session:
        for contact in contacts:
            if contact.decision is not OutreachDecision.SEND:
                continue
            attempt = OutreachAttempt(
                client_id=contact.client, account_id=contact.account_id, patient_id=contact.patient, campaign=contact.campaign,
                step=contact.step, channel=contact.channel, to=contact.to, language=contact.language,
                status=OutreachStatus.QUEUED, tries=0)
            try:
                with session.begin_nested():
                    session.add(attempt)
                contact.attempt_id, contact.status = attempt.id, attempt.status
            except IntegrityError:
                earlier = session.execute(select(OutreachAttempt).where(
                    OutreachAttempt.account_id == contact.account_id, OutreachAttempt.campaign == contact.campaign,
                    OutreachAttempt.step == contact.step, OutreachAttempt.channel == contact.channel)).scalar_one()
                contact.decision, contact.reason = OutreachDecision.SKIP, outreach_plan.OutreachReason.ALREADY_SENT
                contact.attempt_id, contact.status = earlier.id, earlier.status
    return list(contacts)


def dispatch(attempt_ids: Sequence[int]) -> None:
    if not attempt_ids:
        return
    if _dispatcher is None:
        raise NoEngine("no outreach engine is installed in this process (the worker runs it: see `make run`)")
    _dispatcher(list(attempt_ids))


def enqueue(now: dt.datetime, client_id: Optional[str] = None) -> List[Contact]:
    """Plan at ``now``, record what to send and hand it to the worker (beat's job)."""
    if _dispatcher is None:
        raise NoEngine("no outreach engine is installed in this process (the worker runs it: see `make run`)")
    outreach_send.fail_stale_sends()
    with db.session_scope() as session:
        contacts = outreach_plan.plan(session, now, client_id)
    contacts = record(contacts)
    fresh = [c.attempt_id for c in contacts if c.decision is OutreachDecision.SEND and c.status == OutreachStatus.QUEUED]
    dispatch(fresh)
    logger.info("outreach at %s: %s contacts due, %s handed to the worker", now.isoformat(), len(contacts), len(fresh))
    return contacts


def plan_every_seconds(client: Client, default_seconds: float) -> float:
    """How often the planner runs for the client: its policy's
    ``outreach.plan_every_minutes``, else the default."""
    minutes = policy_of(client).outreach.plan_every_minutes
    return minutes * 60.0 if minutes else default_seconds


def claim_due_clients(at: float, default_seconds: float, *, slack: float = 0.0, url: Optional[str] = None) -> List[str]:
    """The clients whose planner run is due at ``at`` (seconds since the
    epoch, real time), each claimed in one conditional update so that two
    beats or a task delivered twice plan a client once per period.
    ``slack``: how early a run may start (beat's tick, so that a period of
    5 minutes on a 1-minute tick is not stretched to 6)."""
    due: List[str] = []
    with db.session_scope(url) as session:
        for client in session.execute(select(Client).order_by(Client.id)).scalars():
            every = plan_every_seconds(client, default_seconds)
            last = session.execute(select(OutreachSchedule.last_planned)
                                   .where(OutreachSchedule.client_id == client.id)).scalar_one_or_none()
            if last is None:
                try:
                    with session.begin_nested():
                        session.add(OutreachSchedule(client_id=client.id, last_planned=at))
                    due.append(client.id)
                except IntegrityError:   # another beat claimed it first
                    pass
                continue
            if at - last + slack < every:
                continue
            claimed = session.execute(update(OutreachSchedule).where(
                OutreachSchedule.client_id == client.id, OutreachSchedule.last_planned == last)
                .values(last_planned=at).execution_options(synchronize_session=False)).rowcount
            if claimed:
                due.append(client.id)
    return due


def statuses(attempt_ids: Sequence[int]) -> Dict[int, str]:
    if not attempt_ids:
        return {}
    with db.session_scope() as session:
        return dict(session.execute(select(OutreachAttempt.id, OutreachAttempt.status)
                                    .where(OutreachAttempt.id.in_(list(attempt_ids)))).all())


def run(now: dt.datetime, client_id: Optional[str] = None, *, wait: float = 120.0, poll: float = 0.2) -> List[dict]:
    """``selfpay outreach run``: enqueue, then wait until every attempt this
    run handed over is sent or has failed (or ``wait`` seconds passed); the
    plan's rows with each attempt's status."""
    contacts = enqueue(now, client_id)
    ids = [c.attempt_id for c in contacts if c.attempt_id is not None]
    deadline = time.monotonic() + wait
    current = statuses(ids)
    while any(s in OUTREACH_OPEN for s in current.values()) and time.monotonic() < deadline:
        time.sleep(poll)
        current = statuses(ids)
    for contact in contacts:
        if contact.attempt_id in current:
            contact.status = current[contact.attempt_id]
    return [c.as_dict() for c in contacts]
