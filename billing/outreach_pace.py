"""The send rate of one number, held across every worker.

A carrier and Twilio allow a long code about one message a second; the
operator sets the rate for every sending number (``OUTREACH_SENDS_PER_SECOND``).  Each send
takes the number's next free slot from the billing database under the
number's row lock (SELECT ... FOR UPDATE on PostgreSQL, the write lock on
SQLite), so two workers on two machines never take the same slot, and
waits until its slot comes.  Slots are real time (``time.time()``), not
the demo clock: the pace is what the carrier sees."""
from __future__ import annotations

import time
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from billing import db
from billing.models import OutreachPace
from selfpay import settings


def sends_per_second() -> float:
    """The configured rate; 0 or less: no pacing."""
    try:
        return float(settings.get("OUTREACH_SENDS_PER_SECOND") or 1)
    except ValueError:
        raise ValueError("OUTREACH_SENDS_PER_SECOND is a number of sends a second, e.g. 1 or 0.5") from None


def take_slot(number: str, gap: float, now: Callable[[], float] = time.time, url: Optional[str] = None) -> float:
    """Reserve the number's next slot at or after now; the slot's time.
    ``now`` is read once the number's row is locked, so a worker that waited
    for the lock does not take a slot already past."""
    for _ in range(3):
        try:
            with db.session_scope(url) as session:
                row = session.execute(select(OutreachPace).where(OutreachPace.number == number)
                                      .with_for_update()).scalar_one_or_none()
                moment = now()
                if row is None:
                    session.add(OutreachPace(number=number, next_slot=moment + gap))
                    session.flush()
                    return moment
                slot = max(row.next_slot, moment)
                row.next_slot = slot + gap
                return slot
        except IntegrityError:   # another worker made the number's row first: take a slot after its
            continue
    raise RuntimeError(f"could not take a send slot for {number}")


def wait_for_slot(number: str, *, url: Optional[str] = None, sleep: Callable[[float], None] = time.sleep,
                  now: Callable[[], float] = time.time) -> float:
    """Wait until this send may go from ``number``; the seconds waited."""
    rate = sends_per_second()
    if rate <= 0:
        return 0.0
    slot = take_slot(number, 1.0 / rate, now, url)
    waited = max(0.0, slot - now())
    if waited:
        sleep(waited)
    return waited
