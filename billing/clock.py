"""The one clock (DESIGN.md, "The clock"): every "now" and "today" in the
code comes from here.  ``SELFPAY_NOW`` (ISO-8601, e.g.
``2027-06-01T15:00:00Z`` or ``2027-06-01``) sets it for a demo or a test;
without it, the machine's clock.  Read on every call, so a process started
with the variable keeps to it and a test may set it with monkeypatch."""
from __future__ import annotations

import datetime as dt
import os

ENV = "SELFPAY_NOW"


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


def now_aware() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    fixed = os.environ.get(ENV, "").strip()
    return parse(fixed) if fixed else dt.datetime.now(dt.timezone.utc)


def utcnow() -> dt.datetime:
    """Now in UTC without tzinfo: what the database columns hold."""
    return now_aware().replace(tzinfo=None)


def today() -> dt.date:
    """Today's date (UTC)."""
    return now_aware().date()


def timestamp() -> float:
    """Now as seconds since the epoch (for tracker events and stamps)."""
    return now_aware().timestamp()
