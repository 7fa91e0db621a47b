"""The shipped spaCy rules read Spanish as US patients text and say it:
dates, amounts, spoken digits, months, household size and income."""
import datetime as dt
from decimal import Decimal

import pytest
from nlp_rules import TODAY, values

from bot.nlp.assistance import read_household, read_income
from bot.nlp.dates import parse_date_of_birth
from bot.nlp.identity import read_account_identifier, read_date_of_birth


@pytest.mark.parametrize("text", [
    "18 de septiembre de 1975", "naci el 18 de septiembre de 1975", "el dieciocho de septiembre de mil novecientos setenta y cinco",
    "dieciocho de septiembre del 75", "18 de sept del setenta y cinco", "septiembre 18 1975", "mi fecha de nacimiento es 18/09/1975",
    "18-09-1975", "09/18/1975", "18 de Septiembre de 1975", "cero nueve uno ocho uno nueve siete cinco",
])
def test_spanish_dates_of_birth(nlp, text):
    assert parse_date_of_birth(text, TODAY) == dt.date(1975, 9, 18)
    assert read_date_of_birth(text, TODAY) == (dt.date(1975, 9, 18), None)


def test_a_spanish_date_of_birth_is_an_entity_with_its_value(nlp):
    assert values(nlp, "naci el 18 de septiembre de 1975", "date_of_birth") == ["1975-09-18"]
    assert values(nlp, "tres de marzo de mil novecientos ochenta y cinco", "date_of_birth") == ["1985-03-03"]
    assert values(nlp, "el primero de enero de 1958", "date_of_birth") == ["1958-01-01"]


def test_day_first_only_when_it_must_be():
    # 03/04/1985 reads month first, as US forms do; 15/09/1975 can only be day first
    assert parse_date_of_birth("03/04/1985", TODAY) == dt.date(1985, 3, 4)
    assert parse_date_of_birth("15/09/1975", TODAY) == dt.date(1975, 9, 15)
    assert parse_date_of_birth("32/09/1975", TODAY) is None


def test_a_spanish_date_of_birth_needs_a_year():
    assert read_date_of_birth("18 de septiembre", TODAY) == (None, "needs_year")


@pytest.mark.parametrize("text,expected", [
    ("el quince", "2026-12-15"), ("puedo pagar el 15", "2026-12-15"), ("el dia veinte", "2026-12-20"),
    ("el primero", "2026-12-01"), ("el 10 de diciembre", "2026-12-10"), ("mañana", "2026-11-28"), ("manana", "2026-11-28"),
    ("el viernes", "2026-12-04"), ("el proximo lunes", "2026-11-30"), ("hoy", "2026-11-27"), ("el treinta y uno", "2026-12-31"),
    ("primero de diciembre", "2026-12-01"), ("15 de enero", "2027-01-15"),
])
def test_spanish_payment_dates_are_the_next_such_day(nlp, text, expected):
    assert values(nlp, text, "date") == [expected]


def test_in_the_morning_is_not_tomorrow(nlp):
    assert values(nlp, "llamenme en la manana", "date") == []


@pytest.mark.parametrize("text,expected", [
    ("cincuenta dolares", 50), ("cincuenta dólares", 50), ("$50", 50), ("quiero pagar cien", 100),
    ("doscientos cincuenta dolares", 250), ("pagar veinticinco", 25), ("un pago de setenta y cinco", 75),
    ("ciento veinte dolares", 120), ("mil quinientos dolares", 1500), ("dos mil dolares", 2000),
    ("cuarenta y cinco dolares con cincuenta centavos", 45.5), ("pago 100 el quince", 100), ("50 dls", 50),
    ("quiero pagar dieciséis dolares", 16),
])
def test_spanish_amounts(nlp, text, expected):
    assert values(nlp, text, "amount") == [expected]


def test_an_amount_and_a_day_together(nlp):
    assert values(nlp, "pago 100 el quince", "date") == ["2026-12-15"]


def test_a_monthly_amount_is_an_amount_not_months(nlp):
    assert values(nlp, "puedo pagar 50 al mes", "amount") == [50]
    assert values(nlp, "veinte dolares por mes", "amount") == [20]
    assert values(nlp, "puedo pagar 50 al mes", "months") == []


@pytest.mark.parametrize("text", [
    "cuatro cero cero cinco seis siete ocho nueve", "mi cuenta es cuatro cero cero cinco seis siete ocho nueve",
    "numero de cuenta 40056789", "cuenta 4005 6789",
])
def test_spanish_spoken_account_numbers(nlp, text):
    assert values(nlp, text, "account_number") == ["40056789"]
    assert read_account_identifier(text) == {"account_number": "40056789"}


def test_spanish_months(nlp):
    assert values(nlp, "lo quiero pagar en seis meses", "months") == [6]
    assert values(nlp, "en 12 meses", "months") == [12]
    assert values(nlp, "en dos años", "months") == [24]


def test_spanish_household_and_income_as_entities(nlp):
    assert values(nlp, "somos cuatro en la casa", "household_size") == [4]
    assert values(nlp, "somos 5", "household_size") == [5]
    assert values(nlp, "vivimos tres personas", "household_size") == [3]
    assert values(nlp, "ganamos 38000 al año", "annual_income") == [38000]


@pytest.mark.parametrize("text,size", [
    ("somos cuatro en la casa", 4), ("somos cuatro", 4), ("4 personas", 4), ("solo yo", 1), ("nomas yo", 1), ("vivo sola", 1),
    ("yo, mi esposa y mis dos hijos", 4), ("mi esposo y yo", 2), ("yo y mis tres hijos", 4), ("somos seis de familia", 6),
    ("yo con mi mama y mi hija", 3),
])
def test_spanish_household_size(text, size):
    assert read_household(text) == size


@pytest.mark.parametrize("text,income", [
    ("gano 2000 al mes", Decimal("24000.00")), ("gano como dos mil al mes", Decimal("24000.00")),
    ("ganamos 38000 al año", Decimal("38000.00")), ("treinta y ocho mil al año", Decimal("38000.00")),
    ("38 mil al ano", Decimal("38000.00")), ("mi esposo gana 500 a la semana", Decimal("26000.00")),
    ("no tengo ingresos", Decimal("0")), ("ahorita no gano nada", Decimal("0")), ("estoy desempleado", Decimal("0")),
    ("no gano mucho, como 1500 al mes", Decimal("18000.00")),
])
def test_spanish_income(text, income):
    assert read_income(text) == income


@pytest.mark.parametrize("text", ["i want to pay once", "pay it all at once", "una cita", "tengo una pregunta"])
def test_spanish_words_make_no_false_amounts(nlp, text):
    assert values(nlp, text, "amount") == []


def test_english_is_read_as_before(nlp):
    assert values(nlp, "I can pay $75 on the 15th", "date") == ["2026-12-15"]
    assert values(nlp, "i want to pay 100", "amount") == [100]
    assert values(nlp, "four zero zero one two three four five", "account_number") == ["40012345"]
    assert parse_date_of_birth("march third nineteen eighty five", TODAY) == dt.date(1985, 3, 3)
