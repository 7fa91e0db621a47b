"""The synthetic accounts bench.outreach_plan measures: they load, and on
the day the planner has work under several rules (not only sends)."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from billing import db, outreach_plan
from bench.synthetic import generate


def test_synthetic_accounts_give_the_planner_every_kind_of_work(tmp_path):
    url = f"sqlite:///{tmp_path / 'synthetic.db'}"
    made = generate(url, 600, dt.date(2026, 11, 28))
    assert made["accounts"] == 600 and made["opt_outs"] and made["holds"] and made["plans"] and made["attempts"]
    with db.session_scope(url) as session:
        contacts = outreach_plan.plan(session, dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.timezone.utc))
    reasons = Counter(c.reason.value for c in contacts)
    assert len(contacts) > 60
    for reason in ("due", "hold", "opted_out", "no_consent", "small_balance", "nothing_owed", "already_sent", "quiet_hours",
                   "cap_reached"):
        assert reasons[reason] > 0, reasons
    # a patient verified this week is not called: the reminder goes by text instead
    assert any("voice: recent_conversation" in c.detail and c.channel == "sms" for c in contacts)
