"""Reading the financial assistance answers: who lives in the household
and what it earns in a year, in English or Spanish ("somos cuatro en la
casa", "gano 2000 al mes")."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Optional

from bot.nlp.numbers import NUMBER_WORDS as ALL_NUMBER_WORDS
from bot.nlp.numbers import fold, words_to_int
from bot.nlp.scan import scan

NUMBER_WORDS = {w: n for n, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"))}
NUMBER_WORDS.update({w: n for n, w in enumerate(
    ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce"))})
MONTHLY = re.compile(r"\b(a|per|each|every|/)\s*month|\bmonthly\b|\b(al|por|cada|x)\s+mes\b|\bmensual(es)?\b", re.I)
WEEKLY = re.compile(r"\b(a|per|each|every|/)\s*week|\bweekly\b|\b(a la|por|cada|x)\s+semana\b|\bsemanal(es)?\b", re.I)
THOUSANDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(k|thousand|mil)\b", re.I)


_COUNT = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)"
_TOTAL = re.compile(_COUNT + r"\s*(people|persons|of us|in (my|our|the) (house|household|home|family)|total"
                    r"|personas|de nosotros|en (mi|la|nuestra) (casa|familia)|en casa|en total|de familia)\b")
_WE_ARE = re.compile(r"\b(?:somos|vivimos|viven)\s+" + _COUNT + r"\b")
_PARTNER = re.compile(r"\b(wife|husband|spouse|partner|girlfriend|boyfriend|fianc[eé]e?|esposa|esposo|pareja|novia|novio|mujer|marido)\b")
_CHILDREN = re.compile(_COUNT + r"\s+(kids|children|sons|daughters|grandkids|grandchildren|dependents|hijos|hijas|ninos|nietos|nietas)\b")
_ONE_CHILD = re.compile(r"\b(a|one|my|our|mi|un|una|nuestro|nuestra)\s+(kid|child|son|daughter|baby|grandchild|grandson|granddaughter"
                        r"|hijo|hija|nino|nina|bebe|nieto|nieta)\b")
_RELATIVE = re.compile(r"\b(mom|mother|dad|father|brother|sister|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|nephew|niece"
                       r"|mama|papa|madre|padre|hermano|hermana|abuela|abuelo|tia|tio|primo|prima|sobrino|sobrina|suegra|suegro)\b")


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def read_household(text: str) -> Optional[int]:
    """People in the household, the patient included: "4", "four of us",
    "just me", "me, my wife and our two kids"."""
    text = fold(str(text or ""))
    if re.search(r"\b(just me|only me|myself only|me alone|live alone|just myself|solo yo|nomas yo|nada mas yo|yo sol[oa]"
                 r"|vivo sol[oa]|solamente yo)\b", text):
        return 1
    total = _TOTAL.search(text) or _WE_ARE.search(text)
    if total:
        size = _count(total.group(1))
        return size if 1 <= size <= 20 else None
    described = _PARTNER.search(text) or _CHILDREN.search(text) or _ONE_CHILD.search(text) or _RELATIVE.search(text)
    if described:
        size = 1 + len(_PARTNER.findall(text)) + sum(_count(m.group(1)) for m in _CHILDREN.finditer(text))
        size += len(_ONE_CHILD.findall(text)) + len(_RELATIVE.findall(text))
        return size if size <= 20 else None
    numbers = [int(n) for n in re.findall(r"\b\d{1,2}\b", text)] + [NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in NUMBER_WORDS]
    numbers = [n for n in numbers if 1 <= n <= 20]
    return numbers[0] if len(numbers) == 1 else None


def read_income(text: str) -> Optional[Decimal]:
    """A yearly income from "$38,000", "38k", "about 3,000 a month", "nothing"."""
    text = fold(str(text or ""))
    if re.search(r"\b(no income|nothing|zero|none|unemployed|don'?t have (any )?income)\b", text, re.I) or (
            re.search(r"\b(no tengo ingresos?|sin ingresos?|nada|cero|desemplead[oa]|no gano|no ganamos|no tengo trabajo)\b", text)
            and not re.search(r"\d|mil\b|cientos?\b|cien\b", text)):
        return Decimal("0")
    thousands = THOUSANDS.search(text)
    amount: Optional[Decimal] = None
    if thousands:
        amount = Decimal(thousands.group(1)) * 1000
    else:
        found = [f.value for f in scan(text) if f.label == "amount"]
        if found:
            amount = Decimal(str(found[0]))
        else:
            digits = re.findall(r"\d[\d,]*(?:\.\d+)?", text)
            if len(digits) == 1:
                amount = Decimal(digits[0].replace(",", ""))
            else:
                # "thirty eight thousand", "about twenty five hundred a month": an income in words
                words = [w for w in re.findall(r"[a-z]+", text.lower()) if w in ALL_NUMBER_WORDS or w in ("and", "y")]
                while words and words[0] in ("and", "y"):
                    words.pop(0)
                value = words_to_int(words) if words else None
                if value and value >= 100:
                    amount = Decimal(value)
    if amount is None or amount < 0:
        return None
    if MONTHLY.search(text):
        amount *= 12
    elif WEEKLY.search(text):
        amount *= 52
    return amount.quantize(Decimal("0.01"))
