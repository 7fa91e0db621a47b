"""The send rate of one number holds across workers (billing.outreach_pace),
on SQLite and PostgreSQL: two workers taking slots at once never share
one, and the slots are spaced by the configured rate."""
from __future__ import annotations

import threading

import pytest

from billing import outreach_pace

NUMBER = "+15550100100"


def test_two_workers_taking_slots_at_once_never_share_one(db_url):
    gap, now, slots, errors = 0.1, 1_000.0, [], []

    def worker():
        try:
            for _ in range(10):
                slots.append(outreach_pace.take_slot(NUMBER, gap, lambda: now, db_url))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(round(s, 6) for s in slots) == [round(now + i * gap, 6) for i in range(20)]


def test_a_number_idle_since_its_last_slot_sends_at_once(db_url):
    assert outreach_pace.take_slot(NUMBER, 1.0, lambda: 1_000.0, db_url) == 1_000.0
    assert outreach_pace.take_slot(NUMBER, 1.0, lambda: 1_000.2, db_url) == 1_001.0   # busy: the next free slot
    assert outreach_pace.take_slot(NUMBER, 1.0, lambda: 5_000.0, db_url) == 5_000.0   # idle since: now


def test_each_number_keeps_its_own_pace(db_url):
    assert outreach_pace.take_slot(NUMBER, 1.0, lambda: 1_000.0, db_url) == 1_000.0
    assert outreach_pace.take_slot("+15550100200", 1.0, lambda: 1_000.0, db_url) == 1_000.0


def test_sends_wait_for_their_slot_at_the_configured_rate(db_url, monkeypatch):
    monkeypatch.setenv("OUTREACH_SENDS_PER_SECOND", "4")
    slept = []
    waits = [outreach_pace.wait_for_slot(NUMBER, url=db_url, sleep=slept.append, now=lambda: 1_000.0) for _ in range(3)]
    # three sends asked for at one moment go a quarter of a second apart
    assert waits == [0.0, 0.25, 0.5] and slept == [0.25, 0.5]


def test_no_pacing_when_the_rate_is_zero(db_url, monkeypatch):
    monkeypatch.setenv("OUTREACH_SENDS_PER_SECOND", "0")
    assert [outreach_pace.wait_for_slot(NUMBER, url=db_url, sleep=lambda s: None, now=lambda: 1_000.0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_rate_that_is_not_a_number_is_refused_clearly(monkeypatch):
    monkeypatch.setenv("OUTREACH_SENDS_PER_SECOND", "fast")
    with pytest.raises(ValueError, match="OUTREACH_SENDS_PER_SECOND is a number"):
        outreach_pace.sends_per_second()
