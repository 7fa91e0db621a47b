"""The outreach send rate: what a campaign's texts and calls achieve per
sending number when several workers send at once, against a local server
that speaks Twilio's REST API (tests/twilio_rest.py; Twilio's official
client posts to it as to api.twilio.com).

Synthetic accounts (bench.synthetic) are planned at 15:00 UTC of the day,
the due contacts recorded as attempts, then ``--workers`` threads, each
what a Celery worker runs (billing.outreach_send.send), send them with
``OUTREACH_SENDS_PER_SECOND`` = ``--rate``.  Printed per number: sends,
the rate achieved over the run, the shortest gap between two sends as
Twilio saw them, and whether any attempt reached Twilio twice.  Slots are
exactly 1/rate apart (tests/unit/test_outreach_pace.py); what Twilio sees
jitters by the time a worker takes from its slot to the request (the
Twilio client, the machine's load).  It passes when no attempt is sent
twice and every number with 20 sends or more keeps within 5% of the rate
over the run.
Usage: python -m bench.outreach_send [--accounts 300] [--rate 2] [--workers 2]"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from billing import db, outreach_plan, outreach_run, outreach_send
from billing.vocabulary import OutreachDecision
from bench.synthetic import generate
from connectors import wiring
from tests.twilio_rest import twilio_rest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--day", default="2026-11-28")
    args = parser.parse_args()
    day = dt.date.fromisoformat(args.day)
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder, twilio_rest() as rest:
        url = f"sqlite:///{Path(folder) / 'selfpay.db'}"
        os.environ.update({"DATABASE_URL": url, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "bench-token",
                           "TWILIO_API_BASE_URL": rest.url, "PUBLIC_URL": "https://selfpay.example.test",
                           "OUTREACH_SENDS_PER_SECOND": str(args.rate)})
        wiring.install()
        generate(url, args.accounts, day)
        moment = dt.datetime.combine(day, dt.time(15, 0), tzinfo=dt.timezone.utc)
        with db.session_scope(url) as session:
            planned = outreach_plan.plan(session, moment)
        contacts = outreach_run.record(planned)
        ids = [c.attempt_id for c in contacts if c.decision is OutreachDecision.SEND and c.attempt_id]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            statuses = Counter(pool.map(outreach_send.send, ids + ids))   # every attempt handed over twice
        took = time.perf_counter() - started
        sent = list(rest.messages) + list(rest.calls)
        db.dispose_all()
    by_number = defaultdict(list)
    for request in sent:
        by_number[request["From"]].append(request["at"])
    twice = len(sent) - len({(r["To"], r.get("StatusCallback")) for r in sent})
    print(f"outreach send: {len(ids)} attempts, each handed to {args.workers} workers twice, rate {args.rate:g} a second "
          f"per number, {os.cpu_count()} cores; {took:.1f} s in all; statuses {dict(statuses)}")
    ok = twice == 0
    for number, stamps in sorted(by_number.items()):
        span = max(stamps) - min(stamps)
        achieved = (len(stamps) - 1) / span if span > 0 else float(len(stamps))
        ordered = sorted(stamps)
        gap = min((b - a for a, b in zip(ordered, ordered[1:])), default=0.0)
        if len(stamps) >= 20 and args.rate > 0:
            ok &= achieved <= args.rate * 1.05
        print(f"  from {number}: {len(stamps)} sent, {achieved:.2f} a second achieved over the run, "
              f"shortest gap {gap:.2f} s (slots {1 / args.rate:.2f} s apart)")
    print(f"  reached Twilio twice: {twice}; " + ("pace held" if ok else "PACE NOT HELD or an attempt sent twice"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
