"""Outages of what the cluster depends on, under 20 concurrent
conversations: the billing database out of reach (tests/cluster/relay.py
cuts the cluster's connections to it; the machine's PostgreSQL itself is
never stopped).  What a patient and the billing office would notice: a
confirmation during the outage is charged once after recovery or refused
clearly (the patient hears that something went wrong on our side, or the
integration gets a 503 and sends the turn again); no payment is lost or
doubled; every patient turn is in the transcript once."""
from __future__ import annotations

import json
import os
import random
import threading
import time

import sqlalchemy as sa

from tests.cluster.records import account_totals, conversation_payments, patient_turns
from tests.cluster.test_drill import TEXTS, Conversation, headroom, send

TROUBLE = "something went wrong on our side"
OUTAGE_SECONDS = 12


def talk_until_trouble(cluster, conversation: Conversation, rng: random.Random) -> None:
    """A patient who hears that something went wrong stops there (and comes back later as a new conversation)."""
    conversation.started = time.monotonic()
    conversation.trouble = False
    try:
        for text in TEXTS:
            reply = send(cluster, conversation, text, rng)
            conversation.replies.append(reply)
            if TROUBLE in reply:
                conversation.trouble = True
                break
    except RuntimeError as problem:
        conversation.error = str(problem)
    conversation.ended = time.monotonic()


def test_with_the_billing_database_down_no_payment_is_lost_or_doubled(the_cluster):
    cluster = the_cluster
    stop = threading.Event()
    finished: list[Conversation] = []
    lock = threading.Lock()

    def patient(index: int) -> None:
        rng = random.Random(5432 + index)
        while not stop.is_set():
            conversation = Conversation("sms" if index % 4 == 0 else "rest", rng)
            talk_until_trouble(cluster, conversation, rng)
            with lock:
                finished.append(conversation)
            if conversation.trouble:
                time.sleep(1)  # "try again in a moment"

    balance_before, paid_before = headroom(cluster)
    threads = [threading.Thread(target=patient, args=(i,), daemon=True) for i in range(20)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(10)
        cut_at = time.monotonic()
        cluster.cut_billing_database()
        time.sleep(OUTAGE_SECONDS)
        cluster.restore_billing_database()
        restored_at = time.monotonic()
        time.sleep(30)
    finally:
        cluster.restore_billing_database()
        stop.set()
        for thread in threads:
            thread.join(timeout=200)
    conversations = list(finished)
    during = [c for c in conversations if c.started <= restored_at and c.ended >= cut_at]
    after = [c for c in conversations if c.started > restored_at + 5]
    problems = []
    # outside the outage every conversation finished; in it, each finished or was refused clearly
    unclear = [(c.id, c.error or c.replies) for c in conversations if not c.confirmation and not c.trouble]
    if unclear:
        problems.append(f"{len(unclear)} conversations neither finished nor heard that something went wrong: {unclear[:3]}")
    refused_outside = [c.id for c in conversations if c.trouble and c not in during]
    if refused_outside:
        problems.append(f"{len(refused_outside)} conversations outside the outage heard of trouble: {refused_outside[:3]}")
    if not after or not all(c.confirmation for c in after):
        problems.append(f"after the outage, {sum(1 for c in after if not c.confirmation)} of {len(after)} conversations did not finish")

    payments, by_conversation, ledger = conversation_payments(cluster)
    ledger_total, paid_total = account_totals(cluster)
    # nothing lost, nothing doubled: the payment each patient was told of, once; none for a refused one
    for conversation in conversations:
        rows = by_conversation.get(conversation.id, [])
        told = [conversation.confirmation] if conversation.confirmation else []
        if [(r.confirmation_number, r.status) for r in rows] != [(t, "posted") for t in told]:
            problems.append(f"{conversation.id}: payments {[(r.confirmation_number, r.status) for r in rows]}, told {told}")
    doubled = [row.id for row in payments if ledger[f"payment:{row.id}"] != (1 if row.status == "posted" else 0)]
    expected = balance_before - (paid_total - paid_before)
    if doubled or ledger_total != expected:
        problems.append(f"ledger: payments without exactly one entry {doubled[:3]}; balance {ledger_total} against {expected} cents")
    # every patient turn once, in order: what was said up to where the conversation stopped
    said = patient_turns(cluster)
    wrong = [(c.id, said.get(c.id)) for c in conversations if said.get(c.id) != TEXTS[:len(c.replies)]]
    if wrong:
        problems.append(f"{len(wrong)} transcripts differ from what was said: {wrong[:3]}")
    print(f"\nbilling database out of reach for {OUTAGE_SECONDS} s under 20 concurrent conversations ({os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}): {len(conversations)} conversations, {len(during)} during the outage, "
          f"of which {sum(1 for c in during if c.confirmation)} paid and {sum(1 for c in during if c.trouble)} heard that "
          f"something went wrong; {sum(c.retries for c in during)} turns sent again; {len(after)} after it, "
          f"{sum(1 for c in after if c.confirmation)} paid; {len(payments)} payments; problems: {len(problems)}")
    assert not problems, "\n".join(problems)


def _outreach(env: dict, *args) -> tuple[int, str, str]:
    """`selfpay outreach ...` against the cluster (its worker, on Redis, sends)."""
    import subprocess
    import sys

    from selfpay.settings import PROJECT_ROOT

    done = subprocess.run([sys.executable, "-c", "import sys; from connectors.outreach_engine import command; sys.exit(command())",
                           *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_with_twilios_api_down_texts_are_retried_then_listed_failed_for_a_partner(the_cluster, cluster_assistant, cluster_twilio):
    """Twilio's REST API answering 503 to everything while the planner's
    run goes through the cluster's worker: each text is tried three times
    (billing's SMS sender: backoff), then its attempt is failed with the
    error kept, nothing is sent; a supervisor sees them failed per campaign
    on the desk, and a run after Twilio is back sends none of them behind
    the record's back."""
    from tests.integration.helpers import call, login

    cluster, twilio_api = the_cluster, cluster_twilio
    # beat planned the demo day when the cluster started (its texts went out): later days of the demo
    # data bring reminders due again (a past-due and an installment reminder)
    down = 1000
    for day in ("2026-12-06T15:00:00Z", "2026-12-09T15:00:00Z", "2026-12-16T15:00:00Z", "2026-12-23T15:00:00Z"):
        twilio_api.reset()
        twilio_api.fail_next.extend([503] * down)
        try:
            code, out, err = _outreach(cluster.env, "outreach", "run", "--now", day, "--json", "--wait", "150")
        finally:
            tried = down - len(twilio_api.fail_next)
            twilio_api.fail_next.clear()
        # the run says so when a send failed (exit 1)
        assert code in (0, 1) and out, err + (cluster.log_dir / "worker.log").read_text(errors="replace")[-3000:]
        rows = json.loads(out)["attempts"]
        sends = [r for r in rows if r["decision"] == "send"]
        if sends:
            break
    assert sends and code == 1, rows
    assert {r["status"] for r in sends} == {"failed"}, sends
    assert twilio_api.messages == [] and twilio_api.calls == []
    texts = [r for r in sends if r["channel"] == "sms"]
    assert tried >= 3 * len(texts), f"{tried} requests to Twilio for {len(texts)} texts: not retried"
    engine = sa.create_engine(cluster.env["DATABASE_URL"], future=True)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT error, sent_at FROM outreach_attempts WHERE id = ANY(:ids)"),
                            {"ids": [r["attempt"] for r in sends]}).all()
    engine.dispose()
    assert all(row.error and row.sent_at is None for row in kept), kept
    # listed for a partner: the supervisors' outreach figures count them failed
    token = login(cluster_assistant, "sam", "sam-demo-pass")
    status, body, _ = call(cluster_assistant, "GET", "/api/outreach", token=token)
    assert status == 200, body
    assert sum(c["failed"] for c in body["campaigns"]) >= len(sends), body["campaigns"]
    # Twilio back: nothing failed is sent behind the record's back
    code, out, err = _outreach(cluster.env, "outreach", "run", "--now", day, "--json", "--wait", "60")
    assert code == 0, err
    again = {r["attempt"]: r for r in json.loads(out)["attempts"]}
    assert not [r for r in again.values() if r["decision"] == "send"] and twilio_api.messages == []
    print(f"\nTwilio's API down ({day}): {len(sends)} attempts ({len(texts)} texts) failed with the error kept after {tried} "
          f"requests; the desk counts {sum(c['failed'] for c in body['campaigns'])} failed; a run after it sent nothing")
