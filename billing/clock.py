"""The one clock (DESIGN.md, "The clock"): every "now" and "today" in the
code comes from here.  ``SELFPAY_NOW`` (ISO-8601, e.g.
``2027-06-01T15:00:00Z`` or ``2027-06-01``) sets it for a demo or a test;
without it, the machine's clock.

A set clock starts at that moment and then runs at the machine's pace
(a payment link still expires, a session still goes idle).  It runs from
``SELFPAY_NOW_SINCE`` (the machine's epoch seconds when the clock stood at
``SELFPAY_NOW``) when that is set, so that several processes keep one
time (bot/serve.py sets it for the processes it starts); else from the
first time this process reads that value.  The variable is read on every call, so
a test may move the clock with monkeypatch.  The Rasa server's own
timestamps follow it too (bot/rasa_main.py), so the tracker, the desk and
the billing database agree on when things happened."""
from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Dict, Tuple

ENV = "SELFPAY_NOW"
SINCE_ENV = "SELFPAY_NOW_SINCE"


class ClockError(ValueError):
    pass


def parse(value: str) -> dt.datetime:
    """An ISO-8601 moment as an aware UTC datetime; a bare date is its
    midnight UTC, a time without an offset is UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{ENV}={value!r} is not an ISO-8601 date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


_started: Dict[str, Tuple[dt.datetime, dt.datetime]] = {}
_lock = threading.Lock()


def now_aware() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    fixed = os.environ.get(ENV, "").strip()
    if not fixed:
        return dt.datetime.now(dt.timezone.utc)
    real = dt.datetime.now(dt.timezone.utc)  # not time.time(): the Rasa server follows this clock through it
    since = os.environ.get(SINCE_ENV, "").strip()
    if since:
        try:
            return parse(fixed) + (real - dt.datetime.fromtimestamp(float(since), dt.timezone.utc))
        except ValueError:
            raise ClockError(f"{SINCE_ENV}={since!r} is not epoch seconds") from None
    with _lock:
        if fixed not in _started:
            _started[fixed] = (parse(fixed), real)
        start, at = _started[fixed]
    return start + (real - at)


def utcnow() -> dt.datetime:
    """Now in UTC without tzinfo: what the database columns hold."""
    return now_aware().replace(tzinfo=None)


def today() -> dt.date:
    """Today's date (UTC)."""
    return now_aware().date()


def shared(env: dict) -> dict:
    """``env`` for processes that must keep one time: with SELFPAY_NOW set,
    SELFPAY_NOW_SINCE pins when the clock stood there."""
    if env.get(ENV, "").strip() and not env.get(SINCE_ENV, "").strip():
        env = {**env, SINCE_ENV: str(dt.datetime.now(dt.timezone.utc).timestamp())}
    return env


def timestamp() -> float:
    """Now as seconds since the epoch (for tracker events and stamps)."""
    return now_aware().timestamp()
