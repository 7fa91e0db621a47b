"""Languages: which ones the assistant speaks, what language a message is
in, the patient's explicit choice, and amounts and dates said in each.

A small rule-based detector, shipped with the code (nothing downloaded):
English and Spanish by their function words and common billing words
(accents optional: "cuanto debo" is as Spanish as "cuánto debo"), with
"ñ", "¿" and "¡" as Spanish marks; a mixed message is its dominant
language.  A few languages the assistant does not speak are recognised
too, so it can say which ones it does: by script (Chinese, Japanese,
Korean, Cyrillic, Arabic), Vietnamese by its letters, French and
Portuguese by their own function words.  A message that says too little
(a number, a name, "ok") has no language: the conversation keeps its own.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Dict, Optional

# the languages the assistant speaks; the first is the default
SPOKEN = ("en", "es")
DEFAULT = "en"
# how each is named to the patient, in its own words
NAMES = {"en": "English", "es": "español"}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)

# words that belong to one language only (accents stripped, lower case)
_WORDS: Dict[str, frozenset] = {
    "es": frozenset("""
        el la los las del que y en un una unos unas por para con mi mis su sus es son esta este esto estoy estan
        como cuanto cuanta cuantos cuando donde porque pero muy mas ya hay ser hacer tengo tiene tienen quiero
        quisiera puedo puede necesito debo debe deben pagar pago pague pagos pagado saldo cuenta factura facturas
        hola gracias buenos buenas dias tardes noches seguro aseguranza deducible coseguro mensual mensuales
        ayuda ayudeme ayudar hablar persona alguien estado detallado cobro cobros cobraron cargo cargos cita
        favor porfavor si nombre fecha nacimiento numero tarjeta dinero dolares mes meses ano anos usted ustedes
        yo tu nosotros bueno ahora hoy manana aqui entiendo entender sobre mandar manden mensajes llamar llamo
        tambien todo nada algo asistencia financiera ambulancia hospital cuentas recibo recibi quien que
        disculpe perdon adios claro vale gusto sabe saber quisiera hijo hija esposa esposo mama papa le lo me
        se ha he cual cuales emergencia medico doctor reembolso disputa aseguradora cubre cubrio
    """.split()),
    "en": frozenset("""
        the is are was were my i i'm im you your what what's whats how much do does did to of and for with can
        could would want need pay paid pays bill bills balance please hi hello hey thanks thank it this that
        have has owe owed on in at account payment payments talk speak person yes insurance statement when why
        where not about help will get make an be our there here card due date birth number charge charged
        twice someone agent representative refund dispute assistance financial am who which from they me
        don't dont can't cant it's its just like know understand wrong there's tell send call text money
    """.split()),
}
# words that are Spanish or English too ("no", "a", "plan", "me", "hospital"...) count for neither
_SHARED = frozenset({"no", "a", "plan", "hospital", "doctor", "total", "ok", "okay"})
_WORDS = {code: words - _SHARED for code, words in _WORDS.items()}
# "me", "le", "lo" count for Spanish only beside other Spanish words: English "me" is common
_WEAK = {"es": frozenset({"me", "le", "lo", "se", "ha", "he", "yo", "tu", "si", "que", "hospital", "y", "ya"}),
         "en": frozenset({"me", "i", "it", "at", "on", "in"})}

# languages the assistant does not speak: their own words (accents stripped)
_OTHER_WORDS = {
    "fr": frozenset("""
        je j'ai vous nous est les des une pour avec mon ma mes pas suis c'est facture payer combien bonjour
        merci parler quelqu'un dois oui et du au aux ai qui quoi comment ou voudrais plait s'il sil ne votre
    """.split()),
    "pt": frozenset("""
        voce nao obrigado obrigada minha meu eu sou preciso tenho conta quanto devo falar olá ola entendi
        uma com pagar fatura seguro quero
    """.split()),
}
# a word that is only Portuguese or only French: alone it outweighs the Spanish and English it shares words with
_OTHER_MARKS = {"fr": frozenset({"je", "j'ai", "vous", "nous", "suis", "c'est", "combien", "bonjour", "merci",
                                 "quelqu'un", "voudrais", "plait", "s'il", "oui", "facture"}),
                "pt": frozenset({"voce", "nao", "obrigado", "obrigada", "minha", "meu", "eu", "sou", "tenho", "fatura",
                                 "entendi"})}
# scripts: the first range a character falls in names the language
_SCRIPTS = (
    ("ko", (0xAC00, 0xD7AF), (0x1100, 0x11FF)),
    ("ja", (0x3040, 0x30FF)),
    ("zh", (0x4E00, 0x9FFF), (0x3400, 0x4DBF)),
    ("ru", (0x0400, 0x04FF)),
    ("ar", (0x0600, 0x06FF), (0x0750, 0x077F)),
)
# Vietnamese letters: đ, ơ, ư, ă and the tone-marked vowels of Latin Extended Additional
_VIETNAMESE = re.compile("[đĐơƠưƯăĂ\u1ea0-\u1ef9]")
_SPANISH_MARKS = re.compile("[ñÑ¿¡]")
_PORTUGUESE_MARKS = re.compile("[ãõÃÕ]")
_FRENCH_MARKS = re.compile("[èêëàâîôûçœÈÊÀÂÎÔÛÇŒ]")


def plain(text: str) -> str:
    """Lower case, accents off ("Cuánto" -> "cuanto"); ñ stays n."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _script(text: str) -> Optional[str]:
    counts: Dict[str, int] = {}
    for char in text:
        point = ord(char)
        for code, *ranges in _SCRIPTS:
            if any(low <= point <= high for low, high in ranges):
                counts[code] = counts.get(code, 0) + 1
                break
    if not counts:
        return None
    code, count = max(counts.items(), key=lambda item: item[1])
    return code if count >= 2 else None


def scores(text: str) -> Dict[str, float]:
    """How much of each language the message's words show."""
    words = [plain(w).replace("’", "'") for w in _WORD.findall(text.replace("’", "'"))]
    found = {code: 0.0 for code in (*SPOKEN, *_OTHER_WORDS)}
    for word in words:
        for code, vocabulary in _WORDS.items():
            if word in vocabulary:
                found[code] += 0.5 if word in _WEAK[code] else 1.0
        for code, vocabulary in _OTHER_WORDS.items():
            if word in vocabulary:
                found[code] += 2.0 if word in _OTHER_MARKS[code] else 0.5
    found["es"] += 2.0 * len(_SPANISH_MARKS.findall(text))
    found["pt"] += 2.0 * len(_PORTUGUESE_MARKS.findall(text))
    found["fr"] += 1.0 * len(_FRENCH_MARKS.findall(text))
    return found


def detect(text: Optional[str]) -> Optional[str]:
    """The message's language ("en", "es", or a code of one the assistant
    does not speak), or None when it says too little to tell."""
    text = text or ""
    by_script = _script(text)
    if by_script:
        return by_script
    if len(_VIETNAMESE.findall(text)) >= 2:
        return "vi"
    found = scores(text)
    ranked = sorted(found.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.0 or top == second:
        return None
    if best not in SPOKEN and top < 2.0:
        return None  # one shared-looking word is not enough to say we can't help
    return best


def is_mixed(text: Optional[str]) -> bool:
    """English and Spanish words in the same message."""
    found = scores(text or "")
    return found["en"] >= 1.0 and found["es"] >= 1.0


_NEGATED = r"(?:don'?t|do not|can'?t|cannot|no)\s+(?:speak|hablo|habla|entiendo|understand)\s+(?:much\s+|mucho\s+|el\s+)?"
_CHOICES = (
    ("es", re.compile(r"\b(?:en\s+)?(?:espa[nñ]ol|espanol|castellano|spanish)\b", re.I)),
    ("en", re.compile(r"\b(?:en\s+|in\s+)?(?:english|ingl[eé]s)\b", re.I)),
)
# a choice, not a word in passing: short, or asked for in so many words
_ASKED = re.compile(r"\b(?:please|por\s+favor|speak|habla|hablar|hablo|in|en|prefer|prefiero|can\s+we|podemos|switch|cambiar)\b", re.I)


def chosen(text: Optional[str]) -> Optional[str]:
    """The language the patient asks for in so many words ("español",
    "in english please", "¿habla español?"), or None."""
    text = (text or "").strip()
    lowered = plain(text)
    if re.search(_NEGATED + r"(?:english|ingles|spanish|espanol)", lowered):
        return None
    for code, pattern in _CHOICES:
        match = pattern.search(lowered)
        if match is None:
            continue
        rest = (lowered[:match.start()] + lowered[match.end():]).strip(" .,!?¿¡")
        if len(_WORD.findall(rest)) <= 1 or _ASKED.search(lowered):
            if re.search(r"\b(?:isn'?t|is not|not)\s+(?:good|great|very)\b", lowered):
                return None
            return code
    return None


# the words a bare choice of language is said with ("en español por favor", "can we do this in english")
_CHOICE_FILLERS = frozenset("""
    en in por favor porfa porfavor xfa please pls plz habla hablas hablan hablar hablo speak do you can we this it
    prefiero prefer podemos switch cambiar a to the el la lo usted si yes ok okay quiero i want want would like
    puede puedes me mi seria hacer do
    hola hi hello hey buenas buenos buen dia dias tardes noches good morning afternoon evening
""".split())


def only_a_choice(text: Optional[str]) -> bool:
    """The message chooses a language and says nothing else ("español",
    "¿habla español?", "in english please"): there is no request in it to
    answer, so the assistant greets in the chosen language."""
    if chosen(text) is None:
        return False
    words = [plain(w) for w in _WORD.findall(text or "")]
    rest = [w for w in words if w not in _CHOICE_FILLERS and w not in ("espanol", "castellano", "spanish", "english", "ingles")]
    return not rest


def of_number(session, client_id: str, phone: str) -> Optional[str]:
    """The language of the client's patients whose number this is, when
    their records agree on one the assistant speaks; else None."""
    from billing.contact import normalise_phone
    from billing.models import Patient

    number = normalise_phone(phone or "") or phone
    found = {language for (language,) in session.query(Patient.language).filter_by(client_id=client_id, phone=number)}
    return found.pop() if len(found) == 1 and found <= set(SPOKEN) else None


def spoken(code: Optional[str]) -> str:
    """A language the assistant speaks: the code if it is one, else the default."""
    return code if code in SPOKEN else DEFAULT


# --- dates, amounts and counted words --------------------------------------------------

# the words the scripts count, in Spanish (singular, plural)
COUNTED_ES = {"try": ("intento", "intentos"), "payment": ("pago", "pagos"), "minute": ("minuto", "minutos"),
              "month": ("mes", "meses"), "day": ("día", "días")}


# the phrases the code builds into scripts ({what}, {reason_words}, {department_name}, {card}), in Spanish
PHRASES_ES = {
    # the reasons for a dispute (bot/actions/disputes.py)
    "a duplicate charge": "un cobro duplicado",
    "a service you did not receive": "un servicio que usted no recibió",
    "a wrong amount": "una cantidad equivocada",
    "something your insurance should have paid": "algo que su seguro debió pagar",
    "a concern about the quality of care": "una queja sobre la calidad de la atención",
    # the contact details a patient can change (billing.contact.FIELD_WORDS)
    "mailing address": "dirección postal", "phone number": "número de teléfono", "email address": "correo electrónico",
    "legal name": "nombre legal",
    # the partners' departments (billing.handoffs.DEPARTMENT_NAMES)
    "billing": "facturación", "insurance": "seguros", "financial counseling": "asesoría financiera", "disputes": "disputas",
    # how a payment is made (bot.actions.common.say_card)
    "a secure payment link": "un enlace de pago seguro", "card": "tarjeta",
}
_CARD_ENDING = re.compile(r"^(?P<brand>.+) ending (?P<last4>\d{4})$")


def phrase(english: str, language: str = DEFAULT) -> str:
    """A phrase the code puts into a script, in the conversation's language
    ("Visa ending 4242" -> "Visa terminada en 4242"); one it does not know
    stays as written."""
    if language != "es":
        return english
    card = _CARD_ENDING.match(english)
    if card:
        return f"{card.group('brand')} terminada en {card.group('last4')}"
    return PHRASES_ES.get(english, english)


def alternatives(items, language: str = DEFAULT) -> str:
    """'Visa ending 4242 or Mastercard ending 4444'; in Spanish with 'o'."""
    return (" o " if language == "es" else " or ").join(items)


def counted(count: int, one: str, many: str, language: str = DEFAULT) -> str:
    """The word for ``count`` of a thing: 'try' or 'tries'; 'intento' or 'intentos'."""
    if language == "es" and one in COUNTED_ES:
        one, many = COUNTED_ES[one]
    return one if count == 1 else many


MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre")


def say_date(day: Optional[dt.date], language: str = DEFAULT) -> str:
    """'January 15, 2027' or '15 de enero de 2027'."""
    if language == "es":
        return "sin fecha fijada" if day is None else f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year}"
    return "no date set" if day is None else f"{day.strftime('%B')} {day.day}, {day.year}"


_UNITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
          "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno",
          "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho",
          "veintinueve")
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta", 9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos", 6: "seiscientos",
             7: "setecientos", 8: "ochocientos", 9: "novecientos"}


def _below_thousand(n: int) -> str:
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    words = [_HUNDREDS[hundreds]] if hundreds else []
    if rest < 30:
        if rest or not words:
            words.append(_UNITS[rest])
    else:
        tens, unit = divmod(rest, 10)
        words.append(_TENS[tens] + (f" y {_UNITS[unit]}" if unit else ""))
    return " ".join(words)


def number_words_es(n: int) -> str:
    """A whole number in Spanish words, masculine ("uno" at the end)."""
    if n < 1000:
        return _below_thousand(n)
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = "mil" if thousands == 1 else _apocope(_below_thousand(thousands)) + " mil"
        return head + (" " + _below_thousand(rest) if rest else "")
    millions, rest = divmod(n, 1_000_000)
    head = "un millón" if millions == 1 else _apocope(number_words_es(millions)) + " millones"
    return head + (" " + number_words_es(rest) if rest else "")


def _apocope(words: str) -> str:
    """Before a masculine noun: 'uno' -> 'un', 'veintiuno' -> 'veintiún'."""
    if words.endswith("veintiuno"):
        return words[:-len("veintiuno")] + "veintiún"
    if words == "uno" or words.endswith(" uno"):
        return words[:-3] + "un"
    return words


def _counted(n: int, one: str, many: str) -> str:
    words = _apocope(number_words_es(n))
    if n == 1:
        return f"un {one}"
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{words} de {many}"
    return f"{words} {many}"


def spoken_amount(amount: Decimal, language: str = DEFAULT) -> str:
    """An amount as a voice says it: '$412.50' in English (Polly reads it
    well), 'cuatrocientos doce dólares con cincuenta centavos' in Spanish."""
    from billing.money import format_money, money

    amount = money(amount)
    if language != "es":
        return format_money(amount)
    sign = "menos " if amount < 0 else ""
    cents_total = int(abs(amount) * 100)
    dollars, cents = divmod(cents_total, 100)
    if dollars and cents:
        said = f"{_counted(dollars, 'dólar', 'dólares')} con {_counted(cents, 'centavo', 'centavos')}"
    elif cents:
        said = _counted(cents, "centavo", "centavos")
    else:
        said = _counted(dollars, "dólar", "dólares")
    return sign + said


_AMOUNT = re.compile(r"(-?)\$(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?")


def speakable(text: str, language: str = DEFAULT) -> str:
    """Written amounts in a sentence made speakable in its language."""
    if language != "es":
        return text

    def words(match: re.Match) -> str:
        value = Decimal(match.group(2).replace(",", "") + "." + (match.group(3) or "00"))
        return spoken_amount(-value if match.group(1) else value, language)

    return _AMOUNT.sub(words, text)
