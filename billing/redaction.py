"""Card numbers never travel on (DESIGN.md, "Card data"): a Luhn-valid run
of 13 to 19 digits becomes ``[card ending NNNN]``, however it is written.

This is the one place the rule lives; channels, the desk and exports call
it.  Normalising comes first, so all of these are one card number:

* digits with any separators between groups: spaces (several, tabs, line
  breaks, non-breaking, thin, ideographic and zero-width ones), dashes of
  every kind (hyphen, en/em dash, minus sign ...), dots, slashes, commas,
  underscores; full-width and other Unicode decimal digits;
* digits spoken as words, in English and Spanish, alone or mixed with
  digits: "four two four two", "oh" for zero, "forty two", "double four",
  "cuatro dos", "cuarenta y dos";
* a number split over consecutive messages (``redact_message`` with the
  digits the previous message ended with; connectors/text.py keeps those).

What a patient legitimately sends must stay readable and usable, so a
group of digits only counts as part of a card when the run is shaped like
a written or spoken card number: one unbroken run, groups of four (the
last may be shorter; Amex 4-6-5, Diners 4-6-4), or spoken digits mixed
with groups of four.  Account numbers (8 digits), dates of birth
(03031985, 3/3/1985), phone numbers (555 010 1001), ZIP codes, amounts
and member ids therefore stay, even when their digits happen to pass the
Luhn check together (40023456 11/21/1979 does).  Across messages the
rule is stricter still, because every verification answers one number
after another: a fragment that is a single group of 5 to 11 digits (a
ZIP, a date, an account or a phone number) is never joined, nor is a
fragment that reads as a date.  The price, documented: a card typed as
two bare 8-digit halves in two messages (``42424242`` then ``42424242``)
is not joined, because it cannot be told from an account number followed
by a date of birth or a second account; and two 8-digit numbers each
written as 4 + 4 ("4003 4567", then "4006 7890") that pass the Luhn
check together are taken for a card, because that is exactly how a card
split in two looks.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from billing import clock
from billing.gateway import luhn_valid

MARKER = "[card ending {last4}]"
MARKER_PREFIX = "[card ending "
# what an earlier message's part of a card number becomes once the rest arrives
PART_MARKER = "[part of card ending {last4}]"
_MARKERS = re.compile(r"\[(?:part of )?card ending \d{4}\]")

MIN_DIGITS, MAX_DIGITS = 13, 19
# what a message carries over to the next one: never a whole card number
MAX_CARRIED = MAX_DIGITS - 1


# --- words for digits ----------------------------------------------------------

_UNITS = {
    "zero": "0", "nought": "0", "naught": "0", "oh": "0", "o": "0", "cero": "0",
    "one": "1", "uno": "1", "un": "1", "una": "1", "two": "2", "dos": "2", "three": "3", "tres": "3",
    "four": "4", "cuatro": "4", "five": "5", "cinco": "5", "six": "6", "seis": "6",
    "seven": "7", "siete": "7", "eight": "8", "ocho": "8", "nine": "9", "nueve": "9",
}
_TEENS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "diez": "10", "once": "11", "doce": "12", "trece": "13", "catorce": "14", "quince": "15",
    "dieciseis": "16", "diecisiete": "17", "dieciocho": "18", "diecinueve": "19",
    "veintiuno": "21", "veintiun": "21", "veintidos": "22", "veintitres": "23", "veinticuatro": "24",
    "veinticinco": "25", "veintiseis": "26", "veintisiete": "27", "veintiocho": "28", "veintinueve": "29",
}
_TENS = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
    "veinte": "2", "treinta": "3", "cuarenta": "4", "cincuenta": "5", "sesenta": "6", "setenta": "7",
    "ochenta": "8", "noventa": "9",
}
_TIMES = {"double": 2, "doble": 2, "triple": 3}
# words that are a digit only next to other digits: never the start of a number
_WEAK = {"oh", "o", "un", "una"}
_AND = {"y"}  # cuarenta y dos

# separators: anything a person (or a phone's keyboard) puts between digit groups
_SEPARATOR_CHARS = set(".,/\\_|\u00b7\u2022\u2027\u2024\u2219\u22c5\u30fb\uff0e\uff0f\uff3c\u2044\u2215\uff0c\u3001\u2212\u2796")


def _is_separator(ch: str) -> bool:
    if ch in _SEPARATOR_CHARS or ch.isspace():
        return True
    category = unicodedata.category(ch)
    # Zs/Zl/Zp spaces, Cc controls (tab, line breaks), Cf format (zero-width, soft hyphen), Pd dashes
    return category in ("Zs", "Zl", "Zp", "Cc", "Cf", "Pd")


def _plain(word: str) -> str:
    """Lower case without accents: 'Veintidós' -> 'veintidos'."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _ascii_digits(run: str) -> str:
    return "".join(str(unicodedata.decimal(c)) for c in run)


# --- tokens and groups -----------------------------------------------------------

class Group(NamedTuple):
    """Digits written or said together: "4242", "four", "forty two".
    ``start``/``end`` are offsets in the text they came from; ``origin``
    names the message they came from (for parts carried over)."""

    start: int
    end: int
    digits: str
    spoken: bool
    origin: int = 0


_TOKEN = re.compile(r"(\d+)|([^\W\d_]+)|(.)", re.S)


class _Token(NamedTuple):
    kind: str  # "num", "word", "sep", "other"
    start: int
    end: int
    value: str  # digits for num, the plain word for word


def _tokens(text: str) -> List[_Token]:
    out: List[_Token] = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            out.append(_Token("num", m.start(), m.end(), _ascii_digits(m.group(1))))
        elif m.group(2):
            out.append(_Token("word", m.start(), m.end(), _plain(m.group(2))))
        else:
            kind = "sep" if _is_separator(m.group(3)) else "other"
            if out and out[-1].kind == kind == "sep":
                out[-1] = _Token("sep", out[-1].start, m.end(), "")
            else:
                out.append(_Token(kind, m.start(), m.end(), ""))
    return out


def _next(tokens: List[_Token], k: int, skip=("sep",)) -> int:
    """Index of the next token after k that is not of the skipped kinds."""
    k += 1
    while k < len(tokens) and (tokens[k].kind in skip):
        k += 1
    return k


def _runs(text: str) -> Tuple[List[List[Group]], bool, bool]:
    """Digit groups in runs (groups separated by separators only), and
    whether the text starts and ends with a run (nothing but separators
    and end punctuation around it)."""
    tokens = _tokens(text)
    runs: List[List[Group]] = []
    current: List[Group] = []
    k = 0
    last_end = -1  # where the last group of the current run ended (in tokens)

    def close():
        nonlocal current
        if current:
            runs.append(current)
        current = []

    while k < len(tokens):
        tok = tokens[k]
        group: Optional[Group] = None
        step = k + 1
        if tok.kind == "num":
            group = Group(tok.start, tok.end, tok.value, False)
        elif tok.kind == "word":
            word = tok.value
            if word in _UNITS and not (word in _WEAK and not current):
                group = Group(tok.start, tok.end, _UNITS[word], True)
            elif word in _TEENS:
                group = Group(tok.start, tok.end, _TEENS[word], True)
            elif word in _TENS:
                n = _next(tokens, k)
                if n < len(tokens) and tokens[n].kind == "word" and tokens[n].value in _AND:
                    n = _next(tokens, n)
                unit = tokens[n] if n < len(tokens) else None
                if unit is not None and unit.kind == "word" and unit.value in _UNITS and _UNITS[unit.value] != "0" \
                        and unit.value not in _WEAK:
                    group = Group(tok.start, unit.end, _TENS[word] + _UNITS[unit.value], True)
                    step = n + 1
                else:
                    group = Group(tok.start, tok.end, _TENS[word] + "0", True)
            elif word in _TIMES:
                n = _next(tokens, k)
                unit = tokens[n] if n < len(tokens) else None
                digit = None
                if unit is not None and unit.kind == "word" and unit.value in _UNITS:
                    digit = _UNITS[unit.value]
                elif unit is not None and unit.kind == "num" and len(unit.value) == 1:
                    digit = unit.value
                if digit is not None:
                    group = Group(tok.start, unit.end, digit * _TIMES[word], True)
                    step = n + 1
        if group is not None:
            # groups join a run when only separators (or nothing) lie between them
            if current and not all(t.kind == "sep" for t in tokens[last_end + 1:k]):
                close()
            current.append(group)
            last_end = step - 1
            k = step
            continue
        if tok.kind != "sep":
            close()
        k += 1
    close()
    if not runs:
        return runs, False, False
    before = text[:runs[0][0].start]
    after = text[runs[-1][-1].end:]
    starts = all(_is_separator(c) for c in before)
    ends = all(_is_separator(c) or c in ".!?" for c in after)
    return runs, starts, ends


# --- what a card number looks like --------------------------------------------

def _small(g: Group) -> bool:
    return g.spoken or len(g.digits) <= 2


def _fours(groups: Sequence[Group]) -> bool:
    """Written groups of four, the last one 1 to 4 digits: 4242 4242 4242 4242, 4222 2222 2222 2."""
    return all(not g.spoken for g in groups) and all(len(g.digits) == 4 for g in groups[:-1]) \
        and 1 <= len(groups[-1].digits) <= 4


def _pure(groups: Sequence[Group]) -> bool:
    """Written as card numbers are printed: one unbroken run, groups of four, or 4-6-5 / 4-6-4."""
    if len(groups) == 1:
        return not groups[0].spoken
    if any(g.spoken for g in groups):
        return False
    return _fours(groups) or [len(g.digits) for g in groups] in ([4, 6, 5], [4, 6, 4])


def _one_by_one(groups: Sequence[Group]) -> bool:
    """Typed digit by digit or in pairs: 4 2 4 2 ..., 42 42 42 ..."""
    return all(not g.spoken for g in groups) and len({len(g.digits) for g in groups}) == 1 \
        and len(groups[0].digits) <= 2


def _spoken(groups: Sequence[Group]) -> bool:
    """Digits said as words, alone or with written groups of four between them.
    Written one- or two-digit groups never mix in: that is how dates are
    written (3/3/1985, 11-21-1979)."""
    return any(g.spoken for g in groups) and all(
        g.spoken or len(g.digits) == 4 or (k == len(groups) - 1 and len(g.digits) == 3) for k, g in enumerate(groups))


def _shaped(groups: Sequence[Group]) -> bool:
    return _pure(groups) or _one_by_one(groups) or _spoken(groups)


def _a_date(digits: str) -> bool:
    """Digits that read as a date of birth: MMDDYYYY, DDMMYYYY, YYYYMMDD, MMDDYY, DDMMYY."""
    this_year = clock.today().year
    candidates = []
    if len(digits) == 8:
        candidates = [(digits[4:], digits[:2], digits[2:4]), (digits[4:], digits[2:4], digits[:2]),
                      (digits[:4], digits[4:6], digits[6:])]
    elif len(digits) == 6:
        candidates = [("19" + digits[4:], digits[:2], digits[2:4]), ("19" + digits[4:], digits[2:4], digits[:2])]
    for year, month, day in candidates:
        try:
            when = dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
        if len(digits) == 6 or 1900 <= when.year <= this_year:
            return True
    return False


def _fragment_ok(groups: Sequence[Group], later: bool) -> bool:
    """One message's part of a card split over messages."""
    if len(groups) == 1 and not _small(groups[0]):
        size = len(groups[0].digits)
        # 5 to 11 digits alone is a ZIP code, a date, an account or a phone number
        return size <= 4 or size >= 12
    if not later and _fours(groups) and len(groups[-1].digits) != 4:
        return False  # an earlier part ends on a whole group
    return _fours(groups) or _one_by_one(groups) or _spoken(groups)


def _start_anchor(groups: Sequence[Group], i: int) -> bool:
    """A card starts at the start of a run, at a written group, or where spoken digits begin."""
    return i == 0 or not _small(groups[i]) or not _small(groups[i - 1])


def _end_anchor(groups: Sequence[Group], j: int) -> bool:
    return j == len(groups) - 1 or not _small(groups[j]) or not _small(groups[j + 1])


class _Span(NamedTuple):
    i: int
    j: int
    digits: str
    pure: bool


def _rank(span: _Span) -> tuple:
    return (span.pure, len(span.digits), -span.i)


def _best_at(groups: Sequence[Group], i: int, boundary: int) -> Optional[_Span]:
    """The best card starting at group ``i``: groups before ``boundary``
    came from earlier messages, and a card never lies wholly among them."""
    if not _start_anchor(groups, i):
        return None
    best: Optional[_Span] = None
    digits = ""
    for j in range(i, len(groups)):
        digits += groups[j].digits
        if len(digits) > MAX_DIGITS:
            break
        if len(digits) < MIN_DIGITS or j < boundary:
            continue
        span = groups[i:j + 1]
        pure = _pure(span)
        if i < boundary:
            earlier, later = groups[i:boundary], groups[boundary:j + 1]
            ok = _end_anchor(groups, j) and (pure or (_fragment_ok(earlier, False) and _fragment_ok(later, True)))
            ok = ok and not any(_a_date("".join(g.digits for g in part)) for part in (earlier, later))
        else:
            ok = _shaped(span)
        if ok and luhn_valid(digits):
            candidate = _Span(i, j, digits, pure)
            if best is None or _rank(candidate) > _rank(best):
                best = candidate
    return best


def _spans(groups: Sequence[Group], boundary: int = 0) -> List[_Span]:
    """The cards in a run, left to right: at the first place one starts,
    the best of those overlapping it (written groups over spoken ones,
    then the longest)."""
    out: List[_Span] = []
    i = 0
    while i < len(groups):
        best = _best_at(groups, i, boundary)
        if best is None:
            i += 1
            continue
        k = i + 1
        while k <= best.j:
            other = _best_at(groups, k, boundary)
            if other is not None and _rank(other)[:2] > _rank(best)[:2]:
                best = other
            k += 1
        out.append(best)
        i = best.j + 1
    return out


# --- the rule ------------------------------------------------------------------

class Redaction(NamedTuple):
    text: str
    count: int
    # digit groups the text ends with, to carry to the conversation's next message
    trailing: Tuple[Group, ...] = ()
    # earlier messages' parts of a card this message completed: one digit string per message
    earlier: Tuple[str, ...] = ()
    last4: Optional[str] = None


def _outside_markers(text: str):
    """(offset, piece) of the text outside the markers already in it."""
    pos = 0
    for m in _MARKERS.finditer(text):
        yield pos, text[pos:m.start()], False
        yield m.start(), m.group(), True
        pos = m.end()
    yield pos, text[pos:], False


def redact_message(text: str, carried: Sequence[Group] = (), origin: int = 0) -> Redaction:
    """The text with card numbers replaced; ``carried`` are the digit groups
    the conversation's previous message ended with (``Redaction.trailing``
    of that message), so a number split over messages is caught too.
    ``origin`` tags this message's groups in what it carries on."""
    if not text:
        return Redaction(text or "", 0)
    pieces = list(_outside_markers(text))
    out: List[str] = []
    count, earlier, last4 = 0, [], None
    trailing: Tuple[Group, ...] = ()
    for index, (offset, piece, is_marker) in enumerate(pieces):
        if is_marker:
            out.append(piece)
            continue
        runs, starts, ends = _runs(piece)
        first_piece, last_piece = index == 0, index == len(pieces) - 1
        replaced: List[Tuple[int, int, str]] = []
        carried_here = tuple(carried) if (first_piece and starts and runs) else ()
        consumed_to = -1
        for r, run in enumerate(runs):
            run = [g._replace(origin=origin) for g in run]
            groups = list(carried_here) + run if r == 0 else run
            boundary = len(carried_here) if r == 0 else 0
            for span in _spans(groups, boundary):
                first = max(span.i, boundary)
                replaced.append((groups[first].start, groups[span.j].end, span.digits[-4:]))
                consumed_to = max(consumed_to, groups[span.j].end) if r == len(runs) - 1 else consumed_to
                if span.i < boundary:
                    parts: Dict[int, str] = {}
                    for g in groups[span.i:boundary]:
                        parts[g.origin] = parts.get(g.origin, "") + g.digits
                    earlier.extend(parts.values())
                    last4 = span.digits[-4:]
            if r == len(runs) - 1 and last_piece and ends:
                rest = tuple(g for g in run if g.start >= consumed_to)
                whole = len(runs) == 1 and starts and not replaced
                trailing = (tuple(carried_here) + rest) if whole else rest
        text_out, pos = [], 0
        for start, end, four in replaced:
            text_out.append(piece[pos:start])
            text_out.append(MARKER.format(last4=four))
            pos = end
            count += 1
        text_out.append(piece[pos:])
        out.append("".join(text_out))
    kept, total = len(trailing), 0
    while kept > 0 and total + len(trailing[kept - 1].digits) <= MAX_CARRIED:
        kept -= 1
        total += len(trailing[kept].digits)
    trailing = trailing[kept:]
    return Redaction("".join(out), count, trailing, tuple(earlier), last4)


def redact_card_numbers(text: str) -> tuple[str, int]:
    """(the text with card numbers replaced, how many were replaced)."""
    result = redact_message(text)
    return result.text, result.count


def holds_card_digits(text: Optional[str]) -> bool:
    """Whether the text holds a card number in any form."""
    return bool(text) and redact_card_numbers(text)[1] > 0


def holds_redacted_card(text: str | None) -> bool:
    return bool(text) and MARKER_PREFIX in text


# --- masking an earlier message's part of a card ----------------------------------

def mask_fragment(text: str, digits: str, last4: str) -> str:
    """The text with every group sequence that spells ``digits`` (in any
    of the forms above) replaced by ``[part of card ending NNNN]``."""
    if not text or not digits:
        return text
    out = []
    for _offset, piece, is_marker in _outside_markers(text):
        if is_marker:
            out.append(piece)
            continue
        runs, _s, _e = _runs(piece)
        cuts: List[Tuple[int, int]] = []
        for run in runs:
            i = 0
            while i < len(run):
                spelled, j, found = "", i, None
                while j < len(run) and len(spelled) < len(digits):
                    spelled += run[j].digits
                    j += 1
                    if spelled == digits:
                        found = j - 1
                if found is not None:
                    cuts.append((run[i].start, run[found].end))
                    i = found + 1
                else:
                    i += 1
        pos = 0
        for start, end in cuts:
            out.append(piece[pos:start])
            out.append(PART_MARKER.format(last4=last4))
            pos = end
        out.append(piece[pos:])
    return "".join(out)


def mask_fragments_in(value: Any, fragments: Iterable[str], last4: str) -> Any:
    """A stored event (any JSON value) with the fragments masked in every
    text, and numbers that hold them replaced by the marker."""
    fragments = [f for f in fragments if f]
    if isinstance(value, str):
        for fragment in fragments:
            value = mask_fragment(value, fragment, last4)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return PART_MARKER.format(last4=last4) if any(f in str(value) for f in fragments) else value
    if isinstance(value, dict):
        return {k: mask_fragments_in(v, fragments, last4) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_fragments_in(v, fragments, last4) for v in value]
    return value


def redact_lines(lines: Sequence[Tuple[str, float]], within_seconds: float = 120.0) -> List[str]:
    """Consecutive lines of one speaker (text, epoch seconds) as they may be
    shown: each redacted, and a number split over lines sent within
    ``within_seconds`` of each other caught too, its earlier parts masked.
    For reading stored transcripts (the desk), whatever wrote them."""
    out: List[str] = []
    carried: Tuple[Group, ...] = ()
    last_ts: Optional[float] = None
    for number, (text, ts) in enumerate(lines, 1):
        if last_ts is None or ts is None or ts - last_ts > within_seconds:
            carried = ()
        result = redact_message(text or "", carried, origin=number)
        out.append(result.text)
        if result.earlier:
            origins = sorted({g.origin for g in carried})
            for origin in origins:
                k = origin - 1
                for part in result.earlier:
                    out[k] = mask_fragment(out[k], part, result.last4 or "")
        carried, last_ts = result.trailing, ts
    return out
