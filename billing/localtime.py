"""A patient's local time: the time zone of their address (its ZIP code
where a state spans two zones, else its state), else the client's; and
whether a moment falls in a client's quiet hours there."""
from __future__ import annotations

import datetime as dt
from typing import Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EASTERN, CENTRAL, MOUNTAIN, PACIFIC = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"

# each state's zone where most of its people live; the ZIP prefixes below
# correct the parts of split states that keep another clock
STATE_ZONES = {
    "AL": CENTRAL, "AK": "America/Anchorage", "AZ": "America/Phoenix", "AR": CENTRAL, "CA": PACIFIC, "CO": MOUNTAIN,
    "CT": EASTERN, "DE": EASTERN, "DC": EASTERN, "FL": EASTERN, "GA": EASTERN, "HI": "Pacific/Honolulu", "ID": MOUNTAIN,
    "IL": CENTRAL, "IN": "America/Indiana/Indianapolis", "IA": CENTRAL, "KS": CENTRAL, "KY": EASTERN, "LA": CENTRAL,
    "ME": EASTERN, "MD": EASTERN, "MA": EASTERN, "MI": "America/Detroit", "MN": CENTRAL, "MS": CENTRAL, "MO": CENTRAL,
    "MT": MOUNTAIN, "NE": CENTRAL, "NV": PACIFIC, "NH": EASTERN, "NJ": EASTERN, "NM": MOUNTAIN, "NY": EASTERN,
    "NC": EASTERN, "ND": CENTRAL, "OH": EASTERN, "OK": CENTRAL, "OR": PACIFIC, "PA": EASTERN, "RI": EASTERN,
    "SC": EASTERN, "SD": CENTRAL, "TN": CENTRAL, "TX": CENTRAL, "UT": MOUNTAIN, "VT": EASTERN, "VA": EASTERN,
    "WA": PACIFIC, "WV": EASTERN, "WI": CENTRAL, "WY": MOUNTAIN, "PR": "America/Puerto_Rico", "GU": "Pacific/Guam",
    "VI": "America/St_Thomas", "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan",
}
# three-digit ZIP prefixes whose clock differs from their state's
ZIP_ZONES = {
    **{p: CENTRAL for p in ("324", "325")},                      # Florida panhandle
    **{p: EASTERN for p in ("370", "371", "372", "373", "374", "376", "377", "378", "379")},  # east Tennessee
    **{p: "America/Indiana/Knox" for p in ("463", "464")},        # northwest Indiana (Chicago's clock)
    **{p: CENTRAL for p in ("420", "421", "422", "423", "424", "427")},  # western Kentucky
    **{p: MOUNTAIN for p in ("798", "799", "885")},              # El Paso
    **{p: "America/Boise" for p in ("832", "833", "834", "836", "837")},  # south Idaho
    **{p: PACIFIC for p in ("835", "838")},                      # north Idaho
    "979": "America/Boise",                                      # eastern Oregon (Ontario)
    **{p: MOUNTAIN for p in ("677", "678", "679")},              # western Kansas
    **{p: MOUNTAIN for p in ("690", "691", "693")},              # western Nebraska
    **{p: MOUNTAIN for p in ("576", "577")},                     # western South Dakota
    **{p: MOUNTAIN for p in ("586", "587", "588")},              # southwest North Dakota
    "498": "America/Menominee", "499": "America/Menominee",      # Michigan's western Upper Peninsula
}


class HoursError(ValueError):
    pass


def zone_name(state: Optional[str], zip_code: Optional[str], fallback: str) -> str:
    """The IANA zone of an address: by ZIP prefix where a state is split,
    else by state; ``fallback`` (the client's zone) when neither is known."""
    prefix = (zip_code or "").strip()[:3]
    if len(prefix) == 3 and prefix.isdigit() and prefix in ZIP_ZONES:
        return ZIP_ZONES[prefix]
    return STATE_ZONES.get((state or "").strip().upper(), fallback)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {name!r}") from None


def read_hours(raw) -> Tuple[dt.time, dt.time]:
    """``["21:00", "08:00"]``: quiet from the first time until the second."""
    try:
        start, end = (dt.time.fromisoformat(str(t)) for t in raw)
    except (TypeError, ValueError):
        raise HoursError(f"quiet_hours_local: two times HH:MM, quiet from the first until the second (got {raw!r})") from None
    if start == end:
        raise HoursError("quiet_hours_local: the two times differ")
    return start, end


def in_quiet_hours(local: dt.datetime, hours: Tuple[dt.time, dt.time]) -> bool:
    start, end = hours
    t = local.time().replace(tzinfo=None)
    if start > end:   # across midnight: 21:00 -> 08:00
        return t >= start or t < end
    return start <= t < end


def quiet_hours_end(local: dt.datetime, hours: Tuple[dt.time, dt.time]) -> dt.datetime:
    """The first moment after ``local`` (inside the quiet hours) that is not
    quiet, on the local wall clock (a daylight-saving change keeps 08:00 at 08:00)."""
    _, end = hours
    day = local.date()
    candidate = dt.datetime.combine(day, end, tzinfo=local.tzinfo)
    if candidate <= local.replace(tzinfo=local.tzinfo):
        candidate = dt.datetime.combine(day + dt.timedelta(days=1), end, tzinfo=local.tzinfo)
    return candidate
