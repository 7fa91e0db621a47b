"""Reading the answers to the verification questions: a date of birth,
and an account number or a full name."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional

from billing import clock
from bot.nlp.dates import find_dates, parse_date_of_birth
from bot.nlp.scan import scan

# why a date of birth could not be read
UNREADABLE, NEEDS_YEAR, IN_FUTURE = "unreadable", "needs_year", "in_future"

_NAME_FILLERS = {"my", "name", "is", "it's", "its", "im", "i'm", "this", "the", "patient", "full", "patients", "name's", "and", "hi", "hello", "yes", "it", "here", "speaking"}


def read_date_of_birth(value: Any, today: Optional[dt.date] = None) -> tuple[Optional[dt.date], Optional[str]]:
    """(date, None) or (None, why not: UNREADABLE, NEEDS_YEAR or IN_FUTURE)."""
    today = today or clock.today()
    text = str(value or "").strip()
    if not text:
        return None, UNREADABLE
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = parse_date_of_birth(text, today)
    if day is None:
        if any(not f.has_year for f in find_dates(text, today, birth=False)):
            return None, NEEDS_YEAR
        return None, UNREADABLE
    if day > today:
        return None, IN_FUTURE
    if day.year < today.year - 125:
        return None, UNREADABLE
    return day, None


def read_account_identifier(value: Any) -> Optional[dict]:
    """{'account_number': '40012345'} or {'full_name': 'Maria Garcia'}, or None."""
    text = str(value or "").strip()
    if not text or len(text) > 200:
        return None
    numbers = [f.value for f in scan(text) if f.label == "account_number"]
    if numbers:
        return {"account_number": numbers[0]}
    digits = "".join(ch for ch in text if ch.isdigit())
    if 6 <= len(digits) <= 12 and re.fullmatch(r"[\d\s.#-]+", text):  # 4001-2345, 4001.2345
        return {"account_number": digits}
    name_words = [w for w in text.replace(",", " ").split() if w.lower() not in _NAME_FILLERS]
    if 2 <= len(name_words) <= 5 and all(w.replace("-", "").replace("'", "").replace(".", "").isalpha() for w in name_words):
        return {"full_name": " ".join(name_words)}
    return None


# "... and my name is linda nguyen", "this is james carter", "name: robert johnson"
_NAME_SAID = re.compile(r"\b(?:my name is|my name's|name is|name's|name:|this is|i am|i'm|im)\s+([a-z][a-z'.-]+(?:\s+[a-z][a-z'.-]+){1,3})", re.I)
_NOT_NAME = {"born", "calling", "trying", "looking", "the", "a", "and", "on", "my", "not", "here", "wondering"}


def name_in(text: str) -> Optional[str]:
    """A full name said in passing with another answer, or None."""
    for found in _NAME_SAID.finditer(text or ""):
        words = []
        for word in found.group(1).split():
            if word.lower() in _NOT_NAME or word.lower() in _NAME_FILLERS:
                break
            words.append(word)
        if 2 <= len(words) <= 4 and not scan(" ".join(words)):
            return " ".join(words)
    return None
