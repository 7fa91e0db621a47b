"""Calendar arithmetic for monthly schedules."""
from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int, day_of_month: int | None = None) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    wanted = day_of_month or day.day
    return dt.date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def monthly_due_dates(start: dt.date, day_of_month: int, count: int) -> list[dt.date]:
    return [add_months(start, n, day_of_month) for n in range(count)]
