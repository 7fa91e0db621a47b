"""Rule-based finding of the numeric entities in one message.

Dates and dates of birth, amounts, account numbers, months, household
size, annual income, zip codes, adjustment codes and member ids, each
with its normalised value.  Pure Python; ``bot.nlp.pipeline`` puts the
results on a spaCy ``Doc``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from billing import clock
from bot.nlp.dates import BIRTH_WORDS, find_dates
from billing import language
from bot.nlp.numbers import AMBIGUOUS_ES, DIGIT_WORDS, NUMBER_WORDS, digit_string, fold, parse_decimal, words_to_int


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    label: str
    value: object


CARD_PLACEHOLDER = re.compile(r"\[card ending \d{4}\]", re.I)
ADJUSTMENT = re.compile(r"\b(co|pr|oa|pi|cr)\s?-?\s?(\d{1,3}|[a-z]\d)\b", re.I)
MEMBER_ID = re.compile(r"\b(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{6,20}\b", re.I)
ORDINAL_SUFFIX = re.compile(r"^\d+(st|nd|rd|th)$", re.I)
TOKEN = re.compile(r"[-−]?\$?[-−]?\d[\d,]*(?:\.\d+)?k?|\$|[a-z]+(?:'[a-z]+)?|#", re.I)

PAY_WORDS = {"pay", "paying", "payment", "pmt", "put", "charge", "send", "make", "do", "towards", "toward", "of", "for", "amount", "is",
             # Spanish (accents off)
             "pagar", "pago", "pagaria", "pague", "pagare", "abonar", "abono", "cobrar", "cobren", "cobre", "ponga", "poner",
             "pongo", "dar", "doy", "de", "son", "como", "unos"}
MONEY_AFTER = {"dollars", "dollar", "bucks", "usd", "dolars", "dollers", "dolares", "dolar", "dls", "dlls", "varos"}
MONTH_WORDS = {"months", "month", "mos", "mo", "mths", "mnths", "monthes", "payments", "installments",
               "meses", "mensualidades", "pagos", "cuotas", "plazos"}
YEAR_WORDS = {"year", "yr", "years", "yrs", "annually", "yearly", "annual", "anual", "anuales"}
PEOPLE_WORDS = {"people", "persons", "ppl", "members", "person", "personas", "miembros"}
INCOME_WORDS = {"make", "makes", "made", "earn", "earns", "income", "salary", "bring", "gross", "household",
                "gano", "ganamos", "gana", "ganan", "ingreso", "ingresos", "sueldo", "salario"}
ACCOUNT_WORDS = {"account", "acct", "acc", "acount", "accnt", "#", "number", "no", "cuenta", "numero", "num"}
NEGATIVE_WORDS = {"minus", "negative"}


def _mask(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = " "
    return "".join(chars)


def _phrases(text: str, spanish: bool = False):
    """Runs of number tokens: digits, number words, digit words.
    Yields (start, end, tokens, first_index, all_tokens)."""
    tokens = [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]
    lowered = [t[0].lower() for t in tokens]
    i = 0
    while i < len(tokens):
        word = lowered[i]
        if _is_number_token(word) and (word not in AMBIGUOUS_ES or (spanish and word == "once")):
            j = i + 1
            while j < len(tokens):
                nxt = lowered[j]
                gap = text[tokens[j - 1][2]:tokens[j][1]]
                if gap.strip(" ") not in ("", "-"):
                    break
                if _is_number_token(nxt) and not nxt.startswith(("-", "$")):
                    j += 1
                elif nxt in ("and", "a", "double", "y") and j + 1 < len(tokens) and lowered[j + 1] in NUMBER_WORDS | set(DIGIT_WORDS):
                    j += 1
                else:
                    break
            yield i, j, tokens, lowered
            i = j
        else:
            i += 1


def _is_number_token(word: str) -> bool:
    if word in ("o",):
        return False
    return bool(re.fullmatch(r"[-−]?\$?[-−]?\d[\d,]*(?:\.\d+)?k?", word)) or word in NUMBER_WORDS or word in DIGIT_WORDS or word == "double"


def _value_of(words: list[str]):
    """(kind, value): kind 'digits' for digit sequences, 'number' otherwise."""
    if len(words) >= 2:
        digits = digit_string([w for w in words])
        if digits and (all(w in DIGIT_WORDS or w == "double" for w in words) or all(w.isdigit() for w in words)):
            return "digits", digits
    if len(words) == 1:
        word = words[0]
        k = word.endswith("k") and word[:-1].replace(",", "").replace(".", "").lstrip("$-").isdigit()
        if word.isdigit() and len(word) >= 6:
            return "digits", word
        number = parse_decimal(word[:-1] if k else word)
        if number is not None:
            return "number", (number * 1000 if k else number)
    value = words_to_int([w for w in words if w != "double"])
    return ("number", Decimal(value)) if value is not None else (None, None)


def _json_number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def scan(text: str, today: dt.date | None = None) -> list[Found]:
    today = today or clock.today()
    found: list[Found] = []
    text = fold(text)  # accents off, positions kept: "dólares" is "dolares"
    masked = _mask(text, [(m.start(), m.end()) for m in CARD_PLACEHOLDER.finditer(text)])
    birth = bool(BIRTH_WORDS.search(masked))

    for d in find_dates(masked, today):
        old = d.has_year and d.value <= today - dt.timedelta(days=366 * 2)
        label = "date_of_birth" if birth or old else "date"
        if label == "date_of_birth" and not d.has_year:
            continue
        found.append(Found(d.start, d.end, label, d.value.isoformat()))
    masked = _mask(masked, [(f.start, f.end) for f in found])

    for m in ADJUSTMENT.finditer(masked):
        found.append(Found(m.start(), m.end(), "adjustment_code", f"{m[1].upper()}-{m[2].upper()}"))
    masked = _mask(masked, [(f.start, f.end) for f in found])

    for m in MEMBER_ID.finditer(masked):
        if not ORDINAL_SUFFIX.match(m.group()) and not re.fullmatch(r"\d+k", m.group(), re.I):
            found.append(Found(m.start(), m.end(), "member_id", m.group().upper()))
    masked = _mask(masked, [(f.start, f.end) for f in found])

    for i, j, tokens, lowered in _phrases(masked, spanish=language.detect(text) == "es"):
        entity = _classify(i, j, tokens, lowered)
        if entity:
            found.append(entity)
    found.sort(key=lambda f: f.start)
    return found


def _classify(i: int, j: int, tokens, lowered) -> Found | None:
    words = lowered[i:j]
    before = lowered[max(0, i - 3):i]
    after = lowered[j:j + 3]
    start, end = tokens[i][1], tokens[j - 1][2]
    kind, value = _value_of(words)
    if kind is None:
        return None
    dollar = "$" in words[0] or (before and before[-1] == "$")
    if before and before[-1] == "$":
        start = tokens[i - 1][1]
    if before and before[-1] in NEGATIVE_WORDS:
        value, start = -value, tokens[i - 1][1]

    if kind == "digits" and isinstance(value, str):
        if 6 <= len(value) <= 12 and not dollar:
            return Found(start, end, "account_number", value)
        if len(value) == 5 and any(w in ("zip", "zipcode", "postal") for w in before):
            return Found(start, end, "zip_code", value)
        if len(value) > 12:
            return None
        value = Decimal(value)

    if after[:1] and after[0] in MONEY_AFTER:
        end = tokens[j][2]
        dollar = True
    if any(w in ("zip", "zipcode", "postal") for w in before) and len(words) == 1 and re.fullmatch(r"\d{5}", words[0]):
        return Found(start, end, "zip_code", words[0])
    if any(w in ACCOUNT_WORDS for w in before[-2:]) and re.fullmatch(r"\d{6,12}", str(value)) and not dollar:
        return Found(start, end, "account_number", str(value))

    number = value
    cents = _cents_after(after, lowered[j:j + 5])
    if cents is not None:
        number, end, dollar = number + cents[0], tokens[min(len(tokens), j + cents[1]) - 1][2], True
    if _per_month(after, dollar) and number > 0:
        return Found(start, end, "amount", _json_number(number))
    if after[:1] and after[0] in MONTH_WORDS and not dollar and 0 < number <= 120 and number == int(number):
        return Found(start, tokens[j][2], "months", int(number))
    if after[:1] and after[0] in ("years", "year", "yrs", "yr", "anos", "ano") and not dollar and 0 < number <= 5:
        return Found(start, tokens[j][2], "months", int(number) * 12)
    if _household_context(before, after) and 0 < number <= 20 and number == int(number) and not dollar:
        return Found(start, end, "household_size", int(number))
    if _income_context(before, after) and (number >= 1000) and not (after[:2] == ["a", "month"]):
        return Found(start, end, "annual_income", _json_number(number))
    if dollar or re.fullmatch(r"[-−]?\$?\d+\.\d+", words[0]) or (before and before[-1] in PAY_WORDS and number < 100000):
        return Found(start, end, "amount", _json_number(number))
    return None


PER_MONTH = (["a", "month"], ["per", "month"], ["each", "month"], ["every", "month"], ["a", "mo"], ["per", "mo"], ["a", "mnth"],
             ["al", "mes"], ["por", "mes"], ["cada", "mes"], ["x", "mes"])


def _per_month(after, dollar: bool) -> bool:
    """'20 a month', '40 bucks monthly', '$50/mo': a monthly amount, not a number of months."""
    rest = after[1:] if after[:1] and after[0] in MONEY_AFTER else after
    return rest[:2] in PER_MONTH or (rest[:1] and rest[0] in ("monthly", "mo", "mth", "mensual", "mensuales")) and (dollar or rest is not after)


def _cents_after(after, ahead):
    """'seventy five dollars and fifty cents': (the cents as dollars, tokens used after the number)."""
    if len(ahead) >= 4 and ahead[0] in MONEY_AFTER and ahead[1] in ("and", "con", "y"):
        words = []
        for k, word in enumerate(ahead[2:], start=2):
            if word in ("cents", "cent", "centavos", "centavo"):
                cents = words_to_int(words) if words else None
                if cents is not None and 0 <= cents < 100:
                    return Decimal(cents) / 100, k + 1
                return None
            words.append(word)
    return None


def _household_context(before, after) -> bool:
    joined = " ".join(before)
    return (
        "family of" in joined or "household of" in joined or "household size" in joined
        or joined.endswith("size") or joined.endswith("there are") or joined.endswith("there's")
        or (after[:1] and after[0] in PEOPLE_WORDS)
        or after[:2] == ["of", "us"] or after[:3] == ["in", "my", "household"] or after[:3] == ["in", "my", "house"]
        or after[:3] == ["in", "the", "house"] or after[:3] == ["in", "my", "family"]
        # Spanish: "somos cuatro", "vivimos tres", "familia de 5", "cuatro en la casa", "seis de familia"
        or (before[-1:] and before[-1] in ("somos", "vivimos", "viven")) or "familia de" in joined
        or after[:3] in (["en", "la", "casa"], ["en", "mi", "casa"], ["en", "la", "familia"], ["en", "mi", "familia"])
        or after[:2] in (["en", "casa"], ["de", "familia"], ["en", "total"])
    )


def _income_context(before, after) -> bool:
    yearly = bool(after) and (after[0] in YEAR_WORDS or after[:2] in (["a", "year"], ["per", "year"], ["a", "yr"], ["per", "yr"], ["each", "year"],
                                                                       ["al", "ano"], ["por", "ano"], ["cada", "ano"]))
    return yearly or any(w in INCOME_WORDS for w in before)
