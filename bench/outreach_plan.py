"""How long the outreach planner takes over 10,000 accounts on SQLite
(DESIGN.md: at most 30 s on 2 cores): synthetic accounts (bench.synthetic)
in a fresh database, then billing.outreach_plan.plan at 15:00 UTC of the
day, timed over a few runs (a plan records nothing, so each run plans the
same thing).  Usage: python -m bench.outreach_plan [--accounts 10000] [--runs 3]"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from billing import db, outreach_plan
from bench.synthetic import generate

TARGET_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--day", default="2026-11-28")
    args = parser.parse_args()
    day = dt.date.fromisoformat(args.day)
    with tempfile.TemporaryDirectory(prefix="bench-outreach-") as folder:
        url = f"sqlite:///{Path(folder) / 'selfpay.db'}"
        started = time.perf_counter()
        made = generate(url, args.accounts, day)
        loaded = time.perf_counter() - started
        moment = dt.datetime.combine(day, dt.time(15, 0), tzinfo=dt.timezone.utc)
        times, contacts = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            with db.session_scope(url) as session:
                contacts = outreach_plan.plan(session, moment)
            times.append(time.perf_counter() - started)
        db.dispose_all()
    decisions = Counter(c.decision.value for c in contacts)
    reasons = Counter(f"{c.decision.value}:{c.reason.value}" for c in contacts if c.decision.value != "send")
    worst = max(times)
    print(f"outreach plan: {made['accounts']} synthetic accounts (+ the demo's), SQLite, {os.cpu_count()} cores; "
          f"loaded in {loaded:.1f} s")
    print(f"  {len(contacts)} contacts due at {moment.isoformat()}: " + ", ".join(f"{k} {v}" for k, v in sorted(decisions.items())))
    print("  not sent: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    print(f"  planning took {statistics.median(times):.2f} s median, {worst:.2f} s worst of {len(times)} runs "
          f"(target at most {TARGET_SECONDS:.0f} s): {'met' if worst <= TARGET_SECONDS else 'MISSED'}")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
