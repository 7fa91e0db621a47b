"""The one-time secure payment page, driven in headless Chromium: a link
the bot sends is paid once with 4242 4242 4242 4242; a declined card
(4000 0000 0000 0002) posts nothing; a used or unknown link is refused."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from billing import db, ledger, payments
from billing.models import Account, LedgerEntry
from tests.servers import DESK_PORT

pytestmark = pytest.mark.integration

def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def _balance(assistant, number):
    with db.session_scope(assistant.database) as session:
        return ledger.balance(session, _account(session, number))


def _patient_payments(assistant, number):
    with db.session_scope(assistant.database) as session:
        account = _account(session, number)
        return session.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account.id, LedgerEntry.kind == "patient_payment")
        ).scalar_one()


def _result(browser) -> str:
    """The heading of the page a form submission led to, once it is there."""
    return WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "result"))).text


def _enter_card(browser, number, month="12", year="2030"):
    browser.find_element(By.ID, "card_number").send_keys(number)
    browser.find_element(By.ID, "exp_month").send_keys(month)
    browser.find_element(By.ID, "exp_year").send_keys(year)
    browser.find_element(By.ID, "cvc").send_keys("123")
    browser.find_element(By.ID, "continue").click()


def test_a_link_from_the_bot_is_paid_once_with_4242(assistant, browser):
    me = assistant.new_sender()
    # Carlos's record says Spanish; he chose English (metadata.language), which the record does not overrule
    assistant.say(me, "can you send me a payment link", client="lakeside", metadata={"language": "en"})
    assistant.say(me, "september 18 1975", client="lakeside")
    asked = " ".join(assistant.say(me, "40089012", client="lakeside"))
    assert "How much would you like to pay" in asked
    reply = " ".join(assistant.say(me, "$100", client="lakeside"))
    url = re.search(rf"http://127\.0\.0\.1:{DESK_PORT}/pay/[\w-]+", reply).group(0)
    before = _patient_payments(assistant, "40089012")

    browser.get(url)
    assert "Lakeside Medical Center" in browser.page_source
    assert browser.find_element(By.ID, "amount").text == "$100.00"
    assert browser.find_element(By.ID, "account-number").text == "40089012"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=card_number]").text == "Card number"
    _enter_card(browser, "4242 4242 4242 4242")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "pay-now")))
    assert "/review" in browser.current_url and "4242424242424242" not in browser.current_url
    assert browser.find_element(By.ID, "card").text == "Visa ending 4242"
    browser.find_element(By.ID, "pay-now").click()
    assert _result(browser) == "Payment received"
    confirmation = browser.find_element(By.ID, "confirmation").text
    assert browser.find_element(By.ID, "balance").text == "$50.00"

    # the same form sent again (back, then pay again) charges nothing more
    browser.back()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "pay-now"))).click()
    assert _result(browser) == "Payment received"
    assert browser.find_element(By.ID, "confirmation").text == confirmation
    assert _patient_payments(assistant, "40089012") == before + 1
    assert _balance(assistant, "40089012") == Decimal("50.00")

    # and the link is spent
    browser.get(url)
    assert "already been used" in _result(browser)


def test_a_declined_card_posts_nothing_and_another_card_can_be_tried(assistant, browser):
    owed = _balance(assistant, "40067890")  # David: $230.00, less what a keypad test paid
    paid_before = _patient_payments(assistant, "40067890")
    with db.session_scope(assistant.database) as session:
        _link, token = payments.create_link(session, _account(session, "40067890"), owed, actor="test")
    url = f"{assistant.desk}/pay/{token}"
    browser.get(url)
    _enter_card(browser, "4000000000000002")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "pay-now"))).click()
    assert _result(browser) == "Your payment was declined"
    assert "nothing was charged" in browser.page_source
    assert _balance(assistant, "40067890") == owed
    assert _patient_payments(assistant, "40067890") == paid_before

    browser.find_element(By.ID, "try-again").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "card_number")))
    _enter_card(browser, "5555 5555 5555 4444")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "pay-now"))).click()
    assert _result(browser) == "Payment received"
    assert _balance(assistant, "40067890") == Decimal("0.00")
    assert _patient_payments(assistant, "40067890") == paid_before + 1


def test_a_bad_card_number_is_explained_on_the_page(assistant, browser):
    with db.session_scope(assistant.database) as session:
        _link, token = payments.create_link(session, _account(session, "40045678"), "10.00", actor="test")
    browser.get(f"{assistant.desk}/pay/{token}")
    _enter_card(browser, "4242 4242 4242 4241")
    error = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "error")))
    assert "check the card details" in error.text


def test_an_unknown_link_is_refused(assistant, browser):
    browser.get(f"{assistant.desk}/pay/not-a-real-link")
    assert "isn't valid" in _result(browser)


def test_the_card_number_is_in_no_log(assistant, browser):
    logs = " ".join(p.read_text(errors="replace") for p in (assistant.var / "log").glob("*.log"))
    for number in ("4242424242424242", "4000000000000002", "5555555555554444"):
        assert number not in logs.replace(" ", "")
