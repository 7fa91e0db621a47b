"""Numbers as patients write and say them: digits, words and both mixed."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

UNITS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "million": 1_000_000}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}

# Spanish, accents off as patients text it ("dieciseis"; the rules fold accents before reading)
UNITS_ES = {
    "cero": 0, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
    "veintiun": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26,
    "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}
TENS_ES = {"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90}
HUNDREDS_ES = {"cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300, "cuatrocientos": 400, "quinientos": 500,
               "seiscientos": 600, "setecientos": 700, "ochocientos": 800, "novecientos": 900}
SCALES_ES = {"mil": 1000, "millon": 1_000_000, "millones": 1_000_000}
ORDINALS_ES = {"primero": 1, "primer": 1, "1ro": 1, "1o": 1}
# Spanish number words that are English words too: a number only in a Spanish message
AMBIGUOUS_ES = frozenset({"once", "un", "una"})
NUMBER_WORDS_ES = set(UNITS_ES) | set(TENS_ES) | set(HUNDREDS_ES) | set(SCALES_ES)

NUMBER_WORDS = set(UNITS) | set(TENS) | set(SCALES) | set(ORDINALS) | NUMBER_WORDS_ES
DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
               "six": "6", "seven": "7", "eight": "8", "nine": "9",
               "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
               "ocho": "8", "nueve": "9"}


def words_to_int(words: list[str]) -> int | None:
    """['one', 'hundred', 'twenty', 'five'] -> 125; ordinals end a number
    (['twenty', 'third'] -> 23).  None when the words are not a number."""
    if not words:
        return None
    total = current = 0
    seen = False
    for word in words:
        if word in ("and", "a", "y"):
            continue
        if word in UNITS:
            current += UNITS[word]
        elif word in UNITS_ES:
            current += UNITS_ES[word]
        elif word in TENS_ES:
            current += TENS_ES[word]
        elif word in HUNDREDS_ES:
            current += HUNDREDS_ES[word]
        elif word == "mil":
            total += (current or 1) * 1000
            current = 0
        elif word in ("millon", "millones"):
            total += (current or 1) * 1_000_000
            current = 0
        elif word in TENS:
            current += TENS[word]
        elif word in ORDINALS:
            current += ORDINALS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in ("thousand", "grand", "million"):
            total += (current or 1) * SCALES[word]
            current = 0
        elif word.isdigit():
            current += int(word)
        else:
            return None
        seen = True
    return total + current if seen else None


def spoken_year(words: list[str]) -> int | None:
    """'nineteen eighty five' -> 1985, 'two thousand five' -> 2005,
    'twenty oh five' -> 2005."""
    words = [w for w in words if w != "and"]
    if len(words) >= 2 and words[0] in ("nineteen", "twenty") and words[1] not in ("hundred", "thousand"):
        rest = words[1:]
        if rest[0] in ("oh", "o") and len(rest) == 2 and rest[1] in UNITS:
            tail = UNITS[rest[1]]
        else:
            tail = words_to_int(rest)
        if tail is not None and 0 <= tail <= 99:
            return UNITS.get(words[0], 20) * 100 + tail if words[0] == "nineteen" else 2000 + tail
    value = words_to_int(words)
    return value if value is not None and 1900 <= value <= 2100 else None


def digit_string(words: list[str]) -> str | None:
    """'four zero zero one two three four five' -> '40012345' (also mixes
    of digit groups and digit words, and 'double four')."""
    out = []
    double = False
    for word in words:
        if word == "double":
            double = True
            continue
        if word in DIGIT_WORDS:
            digit = DIGIT_WORDS[word]
        elif word.isdigit():
            digit = word
        else:
            return None
        out.append(digit * 2 if double else digit)
        double = False
    return "".join(out) or None


_MONEY_TEXT = re.compile(r"^[-−]?\$?[-−]?\d[\d,]*(?:\.\d+)?$")


def parse_decimal(text: str) -> Decimal | None:
    """'$1,250.50' -> Decimal('1250.50'), '-50' -> Decimal('-50'); keeps
    the sign and every decimal place so a validator can refuse them."""
    text = text.strip().replace("−", "-")
    if not _MONEY_TEXT.match(text):
        return None
    negative = text.count("-") % 2 == 1
    digits = text.replace("-", "").replace("$", "").replace(",", "")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    return -value if negative else value


def fold(text: str) -> str:
    """Lower case with the accents off ("Dólares" -> "dolares", "mañana" ->
    "manana"), keeping every character where it was, so positions found in
    the folded text are positions in the message."""
    lowered = text.lower()
    folded = "".join(
        unicodedata.normalize("NFKD", char)[0] if unicodedata.combining(unicodedata.normalize("NFKD", char)[-1:] or " ") else char
        for char in lowered
    )
    return folded if len(folded) == len(text) else lowered
