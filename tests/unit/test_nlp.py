"""The shipped spaCy rules: values normalised the way the actions need them."""
import datetime as dt

import pytest
from nlp_rules import TODAY, values

from bot.nlp.dates import parse_date_of_birth
from bot.nlp.pipeline import ValueRules, build, extract


@pytest.mark.parametrize("text", [
    "march 3 1985", "3/3/85", "03031985", "march third nineteen eighty five", "1985-03-03",
    "3rd of march 1985", "Mar 3, '85", "my dob is 03-03-1985", "born on the third of march nineteen eighty-five",
])
def test_dates_of_birth_in_every_common_form(nlp, text):
    assert values(nlp, text, "date_of_birth") == ["1985-03-03"]
    assert parse_date_of_birth(text, TODAY) == dt.date(1985, 3, 3)


def test_two_digit_birth_years_are_in_the_past():
    assert parse_date_of_birth("1/9/58", TODAY) == dt.date(1958, 1, 9)
    assert parse_date_of_birth("5/30/92", TODAY) == dt.date(1992, 5, 30)


def test_a_date_of_birth_needs_a_year():
    assert parse_date_of_birth("march 3", TODAY) is None


@pytest.mark.parametrize("text,expected", [
    ("I can pay $75 on the 15th", "2026-12-15"),
    ("pay it tomorrow", "2026-11-28"),
    ("on dec 10", "2026-12-10"),
    ("on 12/15", "2026-12-15"),
    ("next friday", "2026-12-04"),
])
def test_payment_dates_are_the_next_such_day(nlp, text, expected):
    assert values(nlp, text, "date") == [expected]


@pytest.mark.parametrize("text,expected", [
    ("fifty dollars", 50), ("$75", 75), ("pay $412.50", 412.5), ("one hundred twenty five dollars", 125),
    ("i want to pay 100", 100), ("100 bucks", 100), ("$1,250.00", 1250),
])
def test_amounts_are_numbers(nlp, text, expected):
    assert values(nlp, text, "amount") == [expected]


@pytest.mark.parametrize("text,expected", [("pay -50", -50), ("pay -$50", -50), ("minus fifty dollars", -50), ("pay 12.345", 12.345)])
def test_bad_amounts_keep_their_sign_and_places_for_the_validator(nlp, text, expected):
    assert values(nlp, text, "amount") == [expected]


@pytest.mark.parametrize("text", [
    "40012345", "my account is 4001 2345", "acct #40012345", "four zero zero one two three four five",
    "account number four oh oh one two three four five",
])
def test_account_numbers_become_digits(nlp, text):
    assert values(nlp, text, "account_number") == ["40012345"]


def test_months_household_income_zip_codes_and_ids(nlp):
    assert values(nlp, "can i do 6 months", "months") == [6]
    assert values(nlp, "over two years", "months") == [24]
    assert values(nlp, "family of four making 38k a year", "household_size") == [4]
    assert values(nlp, "family of four making 38k a year", "annual_income") == [38000]
    assert values(nlp, "my zip is 30303", "zip_code") == ["30303"]
    assert values(nlp, "what does co-45 mean", "adjustment_code") == ["CO-45"]
    assert values(nlp, "PR 27 on my eob", "adjustment_code") == ["PR-27"]
    assert values(nlp, "member id BCX889201", "member_id") == ["BCX889201"]


def test_payers_and_departments_from_the_shipped_patterns(nlp):
    assert values(nlp, "i have blue cross blue shield now", "payer") == ["Blue Cross Blue Shield"]
    assert values(nlp, "my new insurance is aetna", "payer") == ["Aetna"]
    assert values(nlp, "i need my medical records", "department") == ["medical_records"]


def test_a_redacted_card_is_not_read_as_a_number(nlp):
    assert [e["entity"] for e in extract("[card ending 4242] pay 50 bucks", nlp)] == ["amount"]


@pytest.mark.parametrize("text", ["", "🙂🙂🙂", "¿Cuánto debo?", "x" * 5000, "1" * 19])
def test_odd_input_gives_no_false_entities_and_no_error(nlp, text):
    found = extract(text, nlp)
    assert all(e["entity"] != "account_number" for e in found)


def test_the_rules_are_a_blank_english_pipeline():
    pipeline = build()
    assert pipeline.lang == "en" and pipeline.pipe_names == ["entity_ruler", "selfpay_values"]
    assert isinstance(pipeline.get_pipe("selfpay_values"), ValueRules)
