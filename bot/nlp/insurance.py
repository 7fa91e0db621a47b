"""Reading new insurance from what a patient says: the payer, the member
id and group number (typed or spoken), the policyholder and the day the
coverage started.  What a member id and a start date may be is
billing.insurance's rule."""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from billing import clock, contact, insurance
from bot.nlp.dates import find_dates
from bot.nlp.numbers import DIGIT_WORDS

FILLER = re.compile(r"\b(my|the|it'?s|it is|is|member|id|ids|number|numbers|no\.?|and|on|card|subscriber|policy|its|#)\b", re.I)
# spoken digits; a lone "o" stays a letter, since member ids mix letters and digits
ID_DIGITS = {word: digit for word, digit in DIGIT_WORDS.items() if word != "o"}
NO_GROUP = re.compile(r"\b(no|none|not any|n/?a|doesn'?t have|there isn'?t|without)\b", re.I)
ME = re.compile(r"^(it'?s |that'?s |i'?m |i am )?(me|myself|i am|i'?m the (policyholder|subscriber)|self|mine|my own|it'?s mine)\b", re.I)
PAYER_LEAD = re.compile(r"^(it'?s|it is|i have|i'?ve got|i got|my (new )?(insurance|plan|coverage|insurer) is( now)?|now|with|through)\s+", re.I)
ID_WORDS = re.compile(r"\b(member id|member|id|group|grp|policy)\b", re.I)


def _join_spoken(text: str) -> str:
    """'w one two three 4 5' -> 'W12345': spoken characters joined into one id."""
    out = []
    for word in re.split(r"[\s,.]+", text.strip()):
        if not word:
            continue
        out.append(ID_DIGITS.get(word.lower(), word))
    return "".join(out).upper()


def read_member_ids(text: str) -> Optional[tuple[str, Optional[str]]]:
    """(member id, group number or None) from 'W123456789 group 7001',
    'member id xgh 44512 and group number 7001' or a spoken run of characters."""
    text = (text or "").strip()
    parts = re.split(r"\b(?:group|grp)\b\.?", text, maxsplit=1, flags=re.I)
    member_text = FILLER.sub(" ", parts[0])
    group_text = FILLER.sub(" ", parts[1]) if len(parts) > 1 else ""
    if len(parts) == 1:
        tokens = [t for t in re.split(r"[\s,;/]+", member_text) if t]
        long_ones = [t for t in tokens if len(t) >= 4 and re.fullmatch(r"[A-Za-z0-9-]+", t) and re.search(r"\d", t)]
        if len(long_ones) == 2 and len(tokens) == 2:
            member_text, group_text = long_ones
    member = _join_spoken(member_text)
    group = None if not group_text.strip() or NO_GROUP.search(group_text) else _join_spoken(group_text)
    if not insurance.member_id_ok(member):
        return None
    if group is not None and not insurance.group_number_ok(group):
        return None
    return member, group


def read_payer(text: str) -> Optional[str]:
    words, before = " ".join((text or "").strip(" .!").split()), None
    while words != before:  # "it's now aetna": every lead-in goes
        words, before = PAYER_LEAD.sub("", words), words
    if not re.search(r"[a-z]{2}", words, re.I) or len(words) > 80 or len(re.findall(r"\d", words)) >= 3 or ID_WORDS.search(words):
        return None
    small = {"of", "and", "the", "for", "de", "la", "del"}
    return " ".join(w if not w.islower() else w if w in small and n else w.upper() if len(w) <= 3 and w not in small else w.capitalize()
                    for n, w in enumerate(words.split()))


def read_subscriber(text: str, patient_name: str) -> Optional[str]:
    text = " ".join((text or "").strip(" .!").split())
    if ME.match(text):
        return patient_name
    name = contact.read_name(re.sub(r"^(it'?s|my (husband|wife|spouse|partner|mom|mother|dad|father),?)\s+", "", text, flags=re.I))
    return name


def read_start_date(text: str, today: Optional[dt.date] = None) -> Optional[dt.date]:
    """When coverage started: a date without a year is the latest one that
    is not more than two months ahead ("november 1st" on November 28 is
    this November 1, not next year's)."""
    today = today or clock.today()
    found = find_dates(text or "", today, birth=False)
    day = found[0].value if found else None
    if day is not None and not found[0].has_year and day > today + dt.timedelta(days=62):
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:  # February 29
            day = day.replace(year=day.year - 1, day=28)
    if day is None:
        year = re.search(r"\b(20\d\d)\b", text or "")
        if year and re.search(r"\b(start|beginning|first of)\b", text or "", re.I):
            day = dt.date(int(year.group(1)), 1, 1)
    if day is None or not insurance.start_date_ok(day, today):
        return None
    return day
