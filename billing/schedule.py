"""Calendar arithmetic for monthly schedules, and the window a one-time
payment may be scheduled in."""
from __future__ import annotations

import calendar
import datetime as dt
from typing import Optional

from billing import clock
from billing.refused import Refused

# a one-time payment is scheduled for a later day, at most this many days ahead
PAYMENT_WINDOW_DAYS = 90


class DateRefused(Refused):
    """reason: date_not_in_future, date_too_far"""


def payment_window(today: Optional[dt.date] = None) -> tuple[dt.date, dt.date]:
    """The first and the last day a one-time payment may be scheduled for."""
    today = today or clock.today()
    return today + dt.timedelta(days=1), today + dt.timedelta(days=PAYMENT_WINDOW_DAYS)


def check_payment_date(on: dt.date, today: Optional[dt.date] = None) -> dt.date:
    """``on`` if a one-time payment may be scheduled for it, else DateRefused."""
    first, last = payment_window(today)
    if on < first:
        raise DateRefused("date_not_in_future")
    if on > last:
        raise DateRefused("date_too_far")
    return on


def add_months(day: dt.date, months: int, day_of_month: int | None = None) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    wanted = day_of_month or day.day
    return dt.date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def monthly_due_dates(start: dt.date, day_of_month: int, count: int) -> list[dt.date]:
    return [add_months(start, n, day_of_month) for n in range(count)]
