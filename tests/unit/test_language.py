"""The language detector, the patient's explicit choice, and amounts and
dates said in Spanish (billing.language)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing import language


@pytest.mark.parametrize("text", [
    "cuanto debo", "hola, quiero pagar mi factura", "Cuánto es mi saldo?", "necesito un plan de pagos",
    "la aseguranza no pago el deducible", "quiero hablar con una persona", "buenos dias", "me cobraron dos veces",
    "¿Puedo pagar con tarjeta?", "no entiendo este cobro", "estado de cuenta detallado por favor", "gracias",
    "cuanto debo de la ambulancia", "CUANTO DEBO", "porfavor ayudeme con mi cuenta",
])
def test_spanish_messages_are_spanish_with_or_without_accents(text):
    assert language.detect(text) == "es"


@pytest.mark.parametrize("text", [
    "what's my balance", "hi", "I want to pay my bill", "can I talk to a person", "i need a payment plan",
    "why was I charged twice", "my insurance should have paid this", "thank you", "hello there",
])
def test_english_messages_are_english(text):
    assert language.detect(text) == "en"


@pytest.mark.parametrize("text", ["", "40012345", "03/03/1985", "ok", "Maria Garcia", "$50", "plan", "no"])
def test_a_message_that_says_too_little_has_no_language(text):
    assert language.detect(text) is None


def test_a_mixed_message_is_its_dominant_language():
    assert language.detect("hola, I need to pay my bill please") == "en"
    assert language.detect("hi, quiero saber cuanto debo en mi cuenta") == "es"
    assert language.detect("what is mi saldo") is None or language.detect("what is mi saldo") in ("en", "es")
    assert language.is_mixed("hola, I need to pay my bill please")
    assert not language.is_mixed("I need to pay my bill please")


@pytest.mark.parametrize("text, code", [
    ("Bonjour, combien je dois pour ma facture ?", "fr"),
    ("je voudrais parler avec quelqu'un s'il vous plaît", "fr"),
    ("Tôi muốn biết tôi nợ bao nhiêu tiền", "vi"),
    ("xin chào, hóa đơn của tôi", "vi"),
    ("我想付账单", "zh"),
    ("청구서를 지불하고 싶어요", "ko"),
    ("Я хочу оплатить счет", "ru"),
    ("أريد أن أدفع فاتورتي", "ar"),
    ("Olá, quanto eu devo? Não entendi a conta", "pt"),
])
def test_languages_the_assistant_does_not_speak_are_named(text, code):
    assert language.detect(text) == code
    assert code not in language.SPOKEN


@pytest.mark.parametrize("text, code", [
    ("español", "es"), ("Spanish please", "es"), ("en espanol por favor", "es"), ("¿habla español?", "es"),
    ("do you speak spanish", "es"), ("in english please", "en"), ("English", "en"), ("en inglés por favor", "en"),
    ("can we do this in english", "en"),
])
def test_the_patients_choice_of_language(text, code):
    assert language.chosen(text) == code


@pytest.mark.parametrize("text", ["what's my balance", "cuanto debo", "I don't speak english", "no hablo inglés",
                                  "my spanish isn't good but", "40012345"])
def test_no_choice_in_other_messages(text):
    assert language.chosen(text) is None


def test_dates_in_each_language():
    day = dt.date(2027, 1, 15)
    assert language.say_date(day, "en") == "January 15, 2027"
    assert language.say_date(day, "es") == "15 de enero de 2027"
    assert language.say_date(dt.date(1975, 9, 1), "es") == "1 de septiembre de 1975"
    assert language.say_date(None, "es") == "sin fecha fijada"
    assert language.say_date(None, "en") == "no date set"


@pytest.mark.parametrize("amount, words", [
    ("412.50", "cuatrocientos doce dólares con cincuenta centavos"),
    ("1.00", "un dólar"),
    ("0.75", "setenta y cinco centavos"),
    ("21.01", "veintiún dólares con un centavo"),
    ("1234.56", "mil doscientos treinta y cuatro dólares con cincuenta y seis centavos"),
    ("100.00", "cien dólares"),
    ("150.00", "ciento cincuenta dólares"),
    ("2000000.00", "dos millones de dólares"),
    ("1001.00", "mil un dólares"),
    ("-85.00", "menos ochenta y cinco dólares"),
    ("515.00", "quinientos quince dólares"),
    ("777.00", "setecientos setenta y siete dólares"),
    ("916.00", "novecientos dieciséis dólares"),
])
def test_amounts_spoken_in_spanish(amount, words):
    assert language.spoken_amount(Decimal(amount), "es") == words


def test_amounts_in_a_spanish_sentence_are_spoken_and_english_is_left_as_written():
    said = language.speakable("Su saldo es $1,234.56, con vencimiento el 15 de enero de 2027.", "es")
    assert said == "Su saldo es mil doscientos treinta y cuatro dólares con cincuenta y seis centavos, con vencimiento el 15 de enero de 2027."
    assert language.speakable("Your balance is $412.50.", "en") == "Your balance is $412.50."


def test_phrases_the_code_builds_are_said_in_spanish():
    assert language.phrase("Visa ending 4242", "es") == "Visa terminada en 4242"
    assert language.phrase("Visa ending 4242", "en") == "Visa ending 4242"
    assert language.phrase("a secure payment link", "es") == "un enlace de pago seguro"
    assert language.phrase("mailing address", "es") == "dirección postal"
    assert language.phrase("a duplicate charge", "es") == "un cobro duplicado"
    assert language.phrase("something we never wrote", "es") == "something we never wrote"
    assert language.alternatives(["Visa terminada en 4242", "Mastercard terminada en 4444"], "es") == \
        "Visa terminada en 4242 o Mastercard terminada en 4444"
    assert language.counted(1, "minute", "minutes", "es") == "minuto"
    assert language.counted(3, "try", "tries", "es") == "intentos"
    assert language.counted(3, "try", "tries") == "tries"


def test_every_phrase_the_actions_build_has_its_spanish():
    from billing.contact import FIELD_WORDS
    from billing.handoffs import DEPARTMENT_NAMES
    from bot.actions.disputes import REASON_WORDS_SAID

    for phrase in [*FIELD_WORDS.values(), *DEPARTMENT_NAMES.values(), *REASON_WORDS_SAID.values()]:
        assert phrase in language.PHRASES_ES, phrase


@pytest.mark.parametrize("text", ["español", "Español por favor", "en espanol porfa", "¿Habla español?", "spanish please",
                                  "in english please", "English", "can we do this in spanish", "hola, en español por favor"])
def test_a_message_that_only_chooses_a_language(text):
    assert language.only_a_choice(text)


@pytest.mark.parametrize("text", ["quiero hablar con alguien que hable español", "cuanto debo, en español por favor",
                                  "i want to pay my bill in english please", "hola", "40012345"])
def test_a_choice_said_with_a_request_is_more_than_a_choice(text):
    assert not language.only_a_choice(text)
