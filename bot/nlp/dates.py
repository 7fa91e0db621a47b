"""Dates as patients write and say them.

"march 3 1985", "3/3/85", "03031985", "1985-03-03", "3rd of march 85",
"march third nineteen eighty five", "the 15th", "tomorrow", "next friday";
in Spanish "18 de septiembre de 1975", "el dieciocho de septiembre del
setenta y cinco", "el quince", "mañana", "el proximo viernes".  Numeric
dates read month first, as US forms do, and day first only when they must
("15/09/1975").
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from billing import clock
from bot.nlp.numbers import (NUMBER_WORDS_ES, ORDINALS, ORDINALS_ES, TENS, UNITS, UNITS_ES, digit_string,
                             fold, spoken_year, words_to_int)

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
            "mon": 0, "tues": 1, "tue": 1, "wed": 2, "thurs": 3, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
BIRTH_WORDS = re.compile(r"\b(born|birth|birthday|bday|b-day|dob|d\.o\.b|naci|nacimiento|cumpleanos|cumple|nacio)\b", re.I)
MONTHS_ES = {
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "jun": 6,
    "julio": 7, "jul": 7, "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "sept": 9, "sep": 9, "set": 9,
    "octubre": 10, "oct": 10, "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
}
WEEKDAYS_ES = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6}


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    value: dt.date
    has_year: bool


def _year(two_or_four: str, birth: bool, today: dt.date) -> int:
    year = int(two_or_four)
    if len(two_or_four) <= 2:
        year += 2000
        # '85 is 1985: a birth year is never ahead, and nobody pays a bill a decade ahead
        if year > today.year + (0 if birth else 10):
            year -= 100
    return year


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(month: int | None, day: int, today: dt.date) -> dt.date | None:
    """A day (and maybe month) with no year: the next time it comes round."""
    if month is None:
        for offset in range(0, 3):
            m = (today.month - 1 + offset) % 12 + 1
            y = today.year + (today.month - 1 + offset) // 12
            candidate = _make(y, m, day)
            if candidate and candidate >= today:
                return candidate
        return None
    candidate = _make(today.year, month, day)
    if candidate and candidate < today:
        candidate = _make(today.year + 1, month, day)
    return candidate


_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{4}|\d{2})(?![\d/])")
_MONTH_DAY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
_COMPACT = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{4})(?!\d)")
_TOKEN = re.compile(r"\d+(?:st|nd|rd|th)?|[a-z]+")


def _numeric_dates(text: str, today: dt.date, birth: bool) -> list[FoundDate]:
    found = []
    for m in _ISO.finditer(text):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        if d:
            found.append(FoundDate(m.start(), m.end(), d, True))
    for m in _SLASHED.finditer(text):
        year = _year(m[3], birth, today)
        # month first, as US forms write it; day first only when the first number cannot be a month
        d = _make(year, int(m[1]), int(m[2])) or (_make(year, int(m[2]), int(m[1])) if int(m[1]) > 12 else None)
        if d:
            found.append(FoundDate(m.start(), m.end(), d, True))
    for m in _COMPACT.finditer(text):
        d = _make(int(m[3]), int(m[1]), int(m[2])) or (_make(int(m[3]), int(m[2]), int(m[1])) if int(m[1]) > 12 else None)
        if d and 1900 <= d.year <= today.year:
            found.append(FoundDate(m.start(), m.end(), d, True))
    if not birth:
        for m in _MONTH_DAY.finditer(text):
            month, day = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                d = _next_occurrence(month, day, today)
                if d:
                    found.append(FoundDate(m.start(), m.end(), d, False))
    return found


def _day_at(tokens, i) -> tuple[int, int] | None:
    """(day, tokens used) for '3', '3rd', 'third', 'twenty third', 'twenty three'."""
    if i >= len(tokens):
        return None
    word = tokens[i][0]
    digits = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", word)
    if digits:
        day = int(digits[1])
        return (day, 1) if 1 <= day <= 31 else None
    if word in TENS and TENS[word] in (20, 30) and i + 1 < len(tokens):
        nxt = tokens[i + 1][0]
        extra = ORDINALS.get(nxt) or (UNITS.get(nxt) if nxt in UNITS and UNITS[nxt] < 10 else None)
        if extra and extra < 10 and TENS[word] + extra <= 31:
            return TENS[word] + extra, 2
    value = ORDINALS.get(word) or UNITS.get(word) or (TENS[word] if word in ("twenty", "thirty") else None)
    if value and 1 <= value <= 31:
        return value, 1
    return None


def _year_in_figures(word: str, birth: bool, today: dt.date) -> tuple[int, int] | None:
    """(year, 1) for '1985' or '85' (either language); None for anything else."""
    if re.fullmatch(r"\d{4}", word):
        year = int(word)
        return (year, 1) if 1900 <= year <= 2100 else None
    if re.fullmatch(r"\d{2}", word):
        return _year(word, birth, today), 1
    return None


def _year_at(tokens, i, birth: bool, today: dt.date) -> tuple[int, int] | None:
    """(year, tokens used) for '1985', '85', 'nineteen eighty five'."""
    if i >= len(tokens):
        return None
    in_figures = _year_in_figures(tokens[i][0], birth, today)
    if in_figures:
        return in_figures
    for length in (4, 3, 2):
        words = [t[0] for t in tokens[i:i + length]]
        if len(words) == length and all(w in UNITS or w in TENS or w in ("hundred", "thousand", "and", "o") for w in words):
            year = spoken_year(words)
            if year:
                return year, length
    return None


def _word_dates(text: str, today: dt.date, birth: bool) -> list[FoundDate]:
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found = []
    i = 0
    while i < len(tokens):
        word = tokens[i][0]
        result = None
        if word in MONTHS and not (word == "may" and not _looks_like_date_after(tokens, i)):
            j = i + 1
            day = _day_at(tokens, j)
            if day:
                j += day[1]
                if j < len(tokens) and tokens[j][0] in ("of",):
                    j += 1
                year = _year_at(tokens, j, birth, today)
                if year:
                    result = (_make(year[0], MONTHS[word], day[0]), j + year[1], True)
                else:
                    result = (None if birth else _next_occurrence(MONTHS[word], day[0], today), j, False)
        elif word not in ("a", "one") or (i + 2 < len(tokens) and tokens[i + 1][0] == "of"):
            day = _day_at(tokens, i + 1 if word == "the" else i)
            if day:
                j = (i + 1 if word == "the" else i) + day[1]
                if j < len(tokens) and tokens[j][0] == "of":
                    j += 1
                if j < len(tokens) and tokens[j][0] in MONTHS:
                    month = MONTHS[tokens[j][0]]
                    j += 1
                    year = _year_at(tokens, j, birth, today)
                    if year:
                        result = (_make(year[0], month, day[0]), j + year[1], True)
                    else:
                        result = (None if birth else _next_occurrence(month, day[0], today), j, False)
                elif word == "the" and not birth and re.fullmatch(r"\d{1,2}(st|nd|rd|th)|[a-z]+", tokens[i + 1][0]) and tokens[i + 1][0] not in UNITS:
                    # "the 15th", "the fifteenth": the next time that day comes round
                    result = (_next_occurrence(None, day[0], today), j, False)
        if not birth and result is None:
            result = _relative(tokens, i, today)
        if result and result[0]:
            found.append(FoundDate(tokens[i][1], tokens[result[1] - 1][2], result[0], result[2]))
            i = result[1]
        else:
            i += 1
    return found


def _looks_like_date_after(tokens, i) -> bool:
    return i + 1 < len(tokens) and _day_at(tokens, i + 1) is not None and tokens[i + 1][0] not in ("i", "a")


def _relative(tokens, i, today):
    word = tokens[i][0]
    if word == "today":
        return today, i + 1, False
    if word == "tomorrow" or word == "tmrw" or word == "tmr":
        return today + dt.timedelta(days=1), i + 1, False
    skip = 1 if word == "next" else 0
    if i + skip < len(tokens) and tokens[i + skip][0] in WEEKDAYS:
        wanted = WEEKDAYS[tokens[i + skip][0]]
        # "friday" and "next friday" both mean the coming one, as most people use them
        delta = (wanted - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=delta), i + skip + 1, False
    return None


# --- Spanish ------------------------------------------------------------------------------

_DAY_WORDS_ES = {w: n for w, n in UNITS_ES.items() if 1 <= n <= 31 and w not in ("un", "una", "once")}


def _day_es(tokens, i) -> tuple[int, int] | None:
    """(day, tokens used) for '18', 'dieciocho', 'primero', 'treinta y uno', 'veinte'."""
    if i >= len(tokens):
        return None
    word = tokens[i][0]
    if re.fullmatch(r"\d{1,2}", word):
        day = int(word)
        return (day, 1) if 1 <= day <= 31 else None
    if word == "treinta":
        if i + 2 < len(tokens) and tokens[i + 1][0] == "y" and tokens[i + 2][0] == "uno":
            return 31, 3
        return 30, 1
    if word in ORDINALS_ES:
        return 1, 1
    if word in _DAY_WORDS_ES or (word == "once" and i > 0 and tokens[i - 1][0] in ("el", "dia")):
        return UNITS_ES[word], 1
    return None


_YEAR_WORDS_ES = NUMBER_WORDS_ES | {"y"}


def _year_es(tokens, i, birth: bool, today: dt.date) -> tuple[int, int] | None:
    """(year, tokens used) for '1975', '75', 'mil novecientos setenta y cinco', 'dos mil cinco',
    'setenta y cinco' (a year said in two figures)."""
    if i >= len(tokens):
        return None
    in_figures = _year_in_figures(tokens[i][0], birth, today)
    if in_figures:
        return in_figures
    for length in range(min(7, len(tokens) - i), 0, -1):
        words = [t[0] for t in tokens[i:i + length]]
        if words[-1] == "y" or not all(w in _YEAR_WORDS_ES for w in words):
            continue
        value = words_to_int(words)
        if value is None:
            continue
        if 1900 <= value <= 2100:
            return value, length
        if 10 <= value <= 99 and length >= 1:
            return _year(f"{value:02d}", birth, today), length
    return None


def _spanish_dates(text: str, today: dt.date, birth: bool) -> list[FoundDate]:
    tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\d+|[a-z]+", text)]
    found = []
    i = 0
    while i < len(tokens):
        result = None
        start = i
        j = i
        # "el", "el dia", "dia", "para el": a day of the month said alone
        prefixed = False
        while j < len(tokens) and tokens[j][0] in ("el", "dia", "los"):
            j, prefixed = j + 1, True
        day = _day_es(tokens, j)
        if day and not (tokens[j][0] in ("uno",) and not prefixed):
            k = j + day[1]
            if k < len(tokens) and tokens[k][0] == "de":
                k += 1
            if k < len(tokens) and tokens[k][0] in MONTHS_ES:
                month = MONTHS_ES[tokens[k][0]]
                k += 1
                year_at = k + 1 if k < len(tokens) and tokens[k][0] in ("de", "del") else k
                year = _year_es(tokens, year_at, birth, today)
                if year:
                    result = (_make(year[0], month, day[0]), year_at + year[1], True)
                else:
                    result = (None if birth else _next_occurrence(month, day[0], today), k, False)
            elif prefixed and not birth and (k >= len(tokens) or tokens[k][0] not in ("de", "por", "dolares", "mil")):
                # "el quince", "el dia 20": the next time that day comes round
                result = (_next_occurrence(None, day[0], today), k, False)
        elif tokens[i][0] in MONTHS_ES and tokens[i][0] not in ("set", "sep", "jun", "jul", "ago", "dic") or (
                tokens[i][0] in MONTHS_ES and _day_es(tokens, i + 1)):
            day = _day_es(tokens, i + 1)
            if day:
                k = i + 1 + day[1]
                year_at = k + 1 if k < len(tokens) and tokens[k][0] in ("de", "del") else k
                year = _year_es(tokens, year_at, birth, today)
                if year:
                    result = (_make(year[0], MONTHS_ES[tokens[i][0]], day[0]), year_at + year[1], True)
                else:
                    result = (None if birth else _next_occurrence(MONTHS_ES[tokens[i][0]], day[0], today), k, False)
        if result is None and not birth:
            result = _relative_es(tokens, i, today)
        if result and result[0]:
            found.append(FoundDate(tokens[start][1], tokens[result[1] - 1][2], result[0], result[2]))
            i = result[1]
        else:
            i += 1
    return found


def _relative_es(tokens, i, today):
    word = tokens[i][0]
    before = tokens[i - 1][0] if i > 0 else ""
    if word == "hoy":
        return today, i + 1, False
    if word == "pasado" and i + 1 < len(tokens) and tokens[i + 1][0] == "manana":
        return today + dt.timedelta(days=2), i + 2, False
    if word == "manana" and before not in ("la", "las", "pasado", "una"):
        return today + dt.timedelta(days=1), i + 1, False
    skip = 1 if word in ("proximo", "proxima", "este", "esta") else 0
    if i + skip < len(tokens) and tokens[i + skip][0] in WEEKDAYS_ES and (skip or before in ("el", "para", "este", "")):
        wanted = WEEKDAYS_ES[tokens[i + skip][0]]
        delta = (wanted - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=delta), i + skip + 1, False
    return None


def find_dates(text: str, today: dt.date | None = None, *, birth: bool | None = None) -> list[FoundDate]:
    """Every date in ``text``, left to right, without overlaps."""
    today = today or clock.today()
    lowered = fold(text)
    if birth is None:
        birth = bool(BIRTH_WORDS.search(lowered))
    spans = _numeric_dates(lowered, today, birth) + _word_dates(lowered.replace("-", " "), today, birth)
    spans += _spanish_dates(lowered, today, birth)
    spans.sort(key=lambda f: (f.start, -(f.end - f.start)))
    result: list[FoundDate] = []
    for span in spans:
        if result and span.start < result[-1].end:
            continue
        result.append(span)
    return result


def parse_date(text: str, today: dt.date | None = None) -> dt.date | None:
    found = find_dates(text, today, birth=False)
    return found[0].value if found else None


_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_SPOKEN_SHORT_YEAR = re.compile(rf"\b({'|'.join(_TENS)})(?:[\s-]({'|'.join(_UNITS)}))?\W*$", re.I)


def parse_date_of_birth(text: str, today: dt.date | None = None) -> dt.date | None:
    """A date of birth in any common form; it must carry a year."""
    found = [f for f in find_dates(text, today, birth=True) if f.has_year]
    spoken = _SPOKEN_SHORT_YEAR.search(text)
    if not found and spoken:
        # "may thirtieth ninety two": a two-digit year said as words
        tens = _TENS.index(spoken.group(1).lower()) * 10 + 20
        units = _UNITS.index(spoken.group(2).lower()) + 1 if spoken.group(2) else 0
        found = [f for f in find_dates(text[:spoken.start()] + f" {tens + units:02d}", today, birth=True) if f.has_year]
    if not found:
        # "cero nueve uno ocho uno nueve siete cinco": a date of birth said as its digits
        said = digit_string(re.findall(r"[a-z]+|\d+", fold(text)))
        if said and len(said) == 8 and said != text.strip():
            found = [f for f in find_dates(said, today, birth=True) if f.has_year]
    if not found:
        bare = re.sub(r"\D", "", text)
        if len(bare) == 6 and bare == text.strip():  # 030385: MMDDYY typed on a keypad
            return _make(_year(bare[4:], True, today or clock.today()), int(bare[:2]), int(bare[2:4]))
        return None
    return found[0].value
