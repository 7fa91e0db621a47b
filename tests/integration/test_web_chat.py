"""The patient web chat page in headless Chromium: Emily verifies and
hears her balance; a card number never reaches the assistant."""
from __future__ import annotations

import json
import sqlite3

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.integration


def _send(browser, text, expect):
    before = len(browser.find_elements(By.CSS_SELECTOR, "#chat-log .line.bot"))
    field = browser.find_element(By.ID, "message")
    field.send_keys(text)
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, 30).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#chat-log .line.bot")) > before
                                     and expect in b.find_element(By.ID, "chat-log").text)
    return browser.find_element(By.ID, "chat-log").text


def test_emily_chats_verifies_and_hears_her_balance(assistant, browser):
    browser.get(f"{assistant.desk}/chat?client=lakeside")
    assert "Lakeside Medical Center" in browser.title
    assert browser.find_element(By.CSS_SELECTOR, "label[for=message]").text == "Your message"
    assert browser.find_element(By.ID, "chat-log").get_attribute("role") == "log"
    _send(browser, "hi what do i owe", "date of birth")
    _send(browser, "february 14 1990", "account number")
    log = _send(browser, "40078901", "980.00")
    assert "$980.00" in log
    # the statement link in the chat is a link she can open
    _send(browser, "can i get an itemized bill", "/statements/")
    link = browser.find_elements(By.CSS_SELECTOR, "#chat-log .line.bot a")[-1]
    assert "/statements/" in link.get_attribute("href") and link.text == link.get_attribute("href")
    link.click()
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.ID, "date_of_birth"))
    assert "Your itemized statement" in browser.find_element(By.TAG_NAME, "h1").text


def test_a_card_number_typed_in_the_chat_is_redacted_before_the_assistant(assistant, browser):
    browser.delete_all_cookies()
    browser.get(f"{assistant.desk}/chat?client=riverside")
    browser.execute_script("window.sessionStorage.clear()")
    browser.refresh()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "message")))
    sender = browser.execute_script("return window.sessionStorage.getItem('selfpay-chat-riverside')")
    _send(browser, "/inform 5555 5555 5555 4444", "card numbers")
    path = assistant.env["TRACKER_STORE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        rows = [json.loads(r[0]) for r in conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (f"web:riverside:{sender}",))]
    assert rows and rows[0]["text"] == "inform [card ending 4444]"


def test_an_unknown_client_has_no_chat(assistant, browser):
    browser.get(f"{assistant.desk}/chat?client=nowhere")
    assert "isn't available" in browser.find_element(By.ID, "result").text


def test_the_chat_works_without_javascript(assistant):
    import urllib.parse
    import urllib.request

    form = urllib.parse.urlencode({"client": "riverside", "sender": "nojs-sender-0001", "message": "are you a bot"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{assistant.desk}/chat", data=form), timeout=60) as response:
        page = response.read().decode()
    assert "You:</span> are you a bot" in page and "automated assistant" in page
