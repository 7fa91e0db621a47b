"""The desk in headless Chromium: alex signs in, sees a web chat patient
waiting, claims, replies with an approved snippet and closes; the
patient's chat gets the reply; sam reviews the conversation and exports CSV."""
from __future__ import annotations

import json
import secrets
import urllib.parse
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.integration


def chat(assistant, sender, text):
    body = json.dumps({"client": "riverside", "sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{assistant.desk}/chat/message", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return [r.get("text", "") for r in json.loads(response.read())]


def sign_in(browser, assistant, username, password):
    browser.delete_all_cookies()
    browser.get(f"{assistant.desk}/desk/")
    assert "/desk/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.ID, "waiting"))


def test_alex_works_a_web_chat_handoff_and_sam_reviews_it(assistant, browser):
    sender = secrets.token_hex(10)
    conversation_id = f"web:riverside:{sender}"
    chat(assistant, sender, "hello")
    assert "partner" in " ".join(chat(assistant, sender, "let me speak to an agent"))

    sign_in(browser, assistant, "alex", "alex-demo-pass")
    # the queue shows the waiting chat; it refreshes by itself
    row = WebDriverWait(browser, 20).until(lambda b: [r for r in b.find_elements(By.CSS_SELECTOR, "#waiting tbody tr")
                                                       if "webchat" in r.text or "asked for person" in r.text])
    handoff_id = row[-1].get_attribute("data-id")
    browser.find_element(By.CSS_SELECTOR, f'#waiting tr[data-id="{handoff_id}"] button').click()
    WebDriverWait(browser, 20).until(lambda b: f"/desk/handoffs/{handoff_id}" in b.current_url)
    assert "You have this conversation" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert "let me speak to an agent" in browser.find_element(By.ID, "transcript").text
    assert "not verified" in browser.find_element(By.ID, "summary").text
    assert "Verify the patient" in browser.find_element(By.ID, "next-actions").text

    # an approved snippet fills the reply box; send it
    browser.find_element(By.CSS_SELECTOR, "button.snippet").click()
    words = browser.find_element(By.ID, "reply-text").get_attribute("value")
    assert "billing partner at Riverside Health" in words
    browser.find_element(By.ID, "send-reply").click()
    WebDriverWait(browser, 20).until(lambda b: "Sent." in b.page_source)
    assert "Partner alex" in browser.find_element(By.ID, "transcript").text

    # the patient's chat page picks the partner's line up; the bot stays quiet
    query = urllib.parse.urlencode({"client": "riverside", "sender": sender, "after": "0"})
    with urllib.request.urlopen(f"{assistant.desk}/chat/updates?{query}", timeout=30) as response:
        lines = json.loads(response.read())["lines"]
    assert [line["from"] for line in lines] == ["agent"] and lines[0]["text"] == words
    assert chat(assistant, sender, "ok thanks, i was wondering about my bill") == []
    WebDriverWait(browser, 20).until(lambda b: "wondering about my bill" in b.find_element(By.ID, "transcript").text)

    Select(browser.find_element(By.ID, "disposition")).select_by_value("information_given")
    browser.find_element(By.ID, "note").send_keys("asked about the bill in general")
    browser.find_element(By.ID, "close-handoff").click()
    WebDriverWait(browser, 20).until(lambda b: f"Handoff {handoff_id} closed" in b.page_source)
    assert chat(assistant, sender, "are you a bot")  # the assistant answers again

    # sam reviews
    sign_in(browser, assistant, "sam", "sam-demo-pass")
    browser.get(f"{assistant.desk}/desk/review?handoff=yes")
    table = browser.find_element(By.ID, "conversations").text
    assert conversation_id in table
    assert int(browser.find_element(By.ID, "kpi-conversations").text) >= 1
    assert browser.find_element(By.CSS_SELECTOR, "svg.chart title").get_attribute("textContent").startswith("Conversations per day")
    href = browser.find_element(By.ID, "export").get_attribute("href")
    csv_text = browser.execute_async_script(
        "var done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", href)
    assert csv_text.splitlines()[0].startswith("conversation,client,channel") and conversation_id in csv_text
    browser.find_element(By.LINK_TEXT, conversation_id).click()
    WebDriverWait(browser, 20).until(lambda b: "let me speak to an agent" in b.page_source)
    browser.get(f"{assistant.desk}/desk/audit")
    assert "handoff.close" in browser.find_element(By.ID, "audit").text

    # alex cannot open the review
    sign_in(browser, assistant, "alex", "alex-demo-pass")
    browser.get(f"{assistant.desk}/desk/review")
    assert "needs the supervisor role" in browser.page_source


def submit_and_wait_for_the_page(browser, button: str) -> None:
    """Click a form's button and wait until the page it posts to has
    replaced this one and loaded: what is read after is the new page.
    The old page is marked with a window property a new page does not
    have; while Chromium swaps documents, asking may fail, which only
    means "not yet"."""
    browser.execute_script("window.selfpayOldPage = true")
    browser.find_element(By.CSS_SELECTOR, button).click()

    def new_page_loaded(b) -> bool:
        try:
            return b.execute_script(
                "return window.selfpayOldPage === undefined && document.readyState === 'complete'")
        except WebDriverException:
            return False

    WebDriverWait(browser, 20).until(new_page_loaded)


def test_sam_sees_each_campaigns_results_and_pauses_and_resumes_one(assistant, browser):
    sign_in(browser, assistant, "sam", "sam-demo-pass")
    browser.get(f"{assistant.desk}/desk/outreach")
    table = browser.find_element(By.ID, "campaigns")
    assert "Each client's campaigns" in table.find_element(By.TAG_NAME, "caption").text
    headers = [h.text for h in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert {"Campaign", "Due now", "Delivered", "Replied", "Opted out", "Skipped now, by reason"} <= set(headers)
    due = table.find_element(By.CSS_SELECTOR, 'tr[data-client="riverside"][data-campaign="due_reminder"]')
    assert "to send" in due.text and "Running" in due.text

    row = 'tr[data-client="lakeside"][data-campaign="past_due"]'
    field = browser.find_element(By.CSS_SELECTOR, f"{row} input[name=reason]")
    assert browser.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]').text == "Why pause"
    field.send_keys("a statement error is being corrected")
    submit_and_wait_for_the_page(browser, f"{row} button[type=submit]")
    assert "Paused by sam" in browser.find_element(By.CSS_SELECTOR, row).text
    assert "a statement error is being corrected" in browser.find_element(By.CSS_SELECTOR, row).text

    submit_and_wait_for_the_page(browser, f"{row} button[type=submit]")   # resume
    assert "Running" in browser.find_element(By.CSS_SELECTOR, row).text


def test_a_spanish_handoff_shows_its_language_waits_for_sofia_and_reads_to_her_in_spanish(assistant, browser):
    from tests.integration.helpers import call, login

    # sofia is on shift (signed in through the API); carlos asks for a person in Spanish
    sofia_token = login(assistant, "sofia", "sofia-demo-pass")
    try:
        sender = secrets.token_hex(10)
        assistant.say(sender, "hola, cuanto debo en mi cuenta", client="lakeside")
        assistant.say(sender, "09/18/1975", client="lakeside")
        assistant.say(sender, "40089012", client="lakeside")
        assistant.say(sender, "necesito hablar con alguien", client="lakeside")
        status, body, _ = call(assistant, "GET", "/api/handoffs?status=waiting&language=es", token=sofia_token)
        handoff_id = str(next(h["id"] for h in body["handoffs"] if h["conversation_id"] == sender))

        # alex sees the language in words and why he cannot claim it yet, even after the page refreshes itself
        sign_in(browser, assistant, "alex", "alex-demo-pass")
        row = f'#waiting tr[data-id="{handoff_id}"]'
        headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#waiting thead th")]
        assert "Language" in headers
        WebDriverWait(browser, 20).until(lambda b: "Updated" in b.find_element(By.ID, "refreshed").text)
        text = browser.find_element(By.CSS_SELECTOR, row).text
        assert "Spanish" in text and "Offered first to partners who speak Spanish" in text and "Not yet" in text
        assert not browser.find_elements(By.CSS_SELECTOR, f"{row} button")
        browser.get(f"{assistant.desk}/desk/?language=en")
        assert not browser.find_elements(By.CSS_SELECTOR, row)
        browser.get(f"{assistant.desk}/desk/handoffs/{handoff_id}")
        assert browser.find_element(By.ID, "handoff-language").text == "Language: Spanish"
        assert "The conversation is in Spanish." in browser.find_element(By.ID, "summary").text
        assert not browser.find_elements(By.ID, "claim")

        # sofia claims it, reads the summary in Spanish and gets the Spanish reply first
        sign_in(browser, assistant, "sofia", "sofia-demo-pass")
        browser.find_element(By.CSS_SELECTOR, f"{row} button").click()
        WebDriverWait(browser, 20).until(lambda b: f"/desk/handoffs/{handoff_id}" in b.current_url)
        summary = browser.find_element(By.ID, "summary")
        assert summary.get_attribute("lang") == "es"
        assert "Paciente: Carlos Ramirez" in summary.text and '"necesito hablar con alguien"' in summary.text
        assert browser.find_element(By.ID, "account-language").text == "Spanish"
        browser.find_element(By.CSS_SELECTOR, "button.snippet").click()
        assert browser.find_element(By.ID, "reply-text").get_attribute("value").startswith("Hola Carlos")
        Select(browser.find_element(By.ID, "disposition")).select_by_value("information_given")
        browser.find_element(By.ID, "close-handoff").click()
        WebDriverWait(browser, 20).until(lambda b: f"Handoff {handoff_id} closed" in b.page_source)
        browser.find_element(By.CSS_SELECTOR, "form[action='/desk/logout'] button").click()
    finally:
        call(assistant, "POST", "/api/logout", token=sofia_token)
