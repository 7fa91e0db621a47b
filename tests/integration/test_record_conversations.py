"""The patient's record over REST, voice and the desk API with the real
assistant: Emily gives her new insurance and a partner verifies it and
moves her balance back to insurance; Maria changes her phone and email
(the old ones get a notice); David gets his itemized statement by link
and by mail; a caller gets the link by text."""
from __future__ import annotations

import datetime as dt
import io
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from pypdf import PdfReader

from tests.integration.test_channels_voice import call as voice, new_call, said
from tests.integration.helpers import call, joined, login

pytestmark = pytest.mark.integration


def post_form(url: str, form: dict):
    """(status, content type, body bytes) for a patient's form post."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def test_emily_gives_her_new_insurance_and_a_partner_moves_her_balance_back_to_insurance(assistant, alex):
    me = assistant.new_sender()
    assert "date of birth" in joined(assistant.say(me, "i have new insurance", client="lakeside"))
    assistant.say(me, "february 14 1990", client="lakeside")
    asked = joined(assistant.say(me, "40078901", client="lakeside"))
    assert "insurance card handy" in asked and "name of the insurance company" in asked
    assert "member ID on the card" in joined(assistant.say(me, "Aetna", client="lakeside"))
    # an answer that holds no id is explained, and the question stays
    explained = joined(assistant.say(me, "its on the back somewhere", client="lakeside"))
    assert "A member ID is the letters and numbers" in explained
    assert "policyholder" in joined(assistant.say(me, "W123456789 group 7001", client="lakeside"))
    assert "coverage start" in joined(assistant.say(me, "me", client="lakeside"))
    read_back = joined(assistant.say(me, "july 1 2026", client="lakeside"))
    assert ("Aetna, member ID W123456789, group 7001, policyholder Emily Chen, coverage starting July 1, 2026" in read_back), read_back
    assert "verify your Aetna coverage" in joined(assistant.say(me, "yes", client="lakeside"))

    account = call(assistant, "GET", "/api/accounts/40078901", token=alex)[1]
    pending = next(i for i in account["insurance"] if i["payer"] == "Aetna")
    assert pending["status"] == "pending_verification" and not pending["active"] and pending["subscriber"] == "Emily Chen"
    assert any(i["id"] == pending["id"] for i in call(assistant, "GET", "/api/work", token=alex)[1]["insurance_to_verify"])
    # nothing moves to unverified coverage
    status, body, _ = call(assistant, "POST", "/api/accounts/40078901/insurance-transfer", {"reason": "rebill"}, token=alex)
    assert status == 409 and body["reason"] == "not_verified"
    assert call(assistant, "POST", f"/api/insurance/{pending['id']}/reject", {"note": ""}, token=alex)[0] == 400

    status, verified, _ = call(assistant, "POST", f"/api/insurance/{pending['id']}/verify", {"note": "called Aetna"}, token=alex)
    assert status == 200 and verified["status"] == "verified" and verified["patient_told"] == "chat"
    assert call(assistant, "POST", f"/api/insurance/{pending['id']}/verify", {}, token=alex)[0] == 409
    # a supervisor reads it (an agent reads only conversations they handle or that wait in their queues)
    transcript = call(assistant, "GET", f"/api/conversations/{me}", token=login(assistant, "sam", "sam-demo-pass"))[1]["transcript"]
    assert transcript[-1]["from"] == "agent" and "we verified your Aetna coverage" in transcript[-1]["text"]

    assert call(assistant, "POST", "/api/accounts/40078901/insurance-transfer", {"reason": ""}, token=alex)[0] == 400
    status, moved, _ = call(assistant, "POST", "/api/accounts/40078901/insurance-transfer",
                            {"reason": "Humana coverage ended; rebill CLM-26-000301 to Aetna"}, token=alex)
    assert status == 200 and moved["amount"] == "980.00" and moved["balance"] == "0.00" and moved["payer"] == "Aetna"
    account = call(assistant, "GET", "/api/accounts/40078901", token=alex)[1]
    assert "balance with Aetna for re-billing" in account["collection_holds"]
    assert account["ledger"][-1]["reason_code"] == "INS-REBILL" and account["ledger"][-1]["actor"] == "alex"
    assert call(assistant, "POST", "/api/accounts/40078901/insurance-transfer", {"reason": "again"}, token=alex)[0] == 409
    assert "your balance of $980.00 is with Aetna" in joined(assistant.say(me, "what's my balance", client="lakeside"))

    status, closed, _ = call(assistant, "POST", f"/api/insurance-transfers/{moved['id']}/close",
                             {"note": "Aetna denied the re-bill: not a covered service"}, token=alex)
    assert status == 200 and closed["status"] == "closed" and closed["balance"] == "980.00"
    assert call(assistant, "POST", f"/api/insurance-transfers/{moved['id']}/close", {"note": "again"}, token=alex)[0] == 409


def test_maria_changes_her_phone_and_email_and_the_old_ones_are_told(assistant, alex, twilio_api, smtp_server):
    me = assistant.new_sender()
    assistant.say(me, "i got a new phone number")
    assistant.say(me, "3/3/1985")
    assert "new phone number" in joined(assistant.say(me, "40012345"))
    assert "doesn't look like a phone number" in joined(assistant.say(me, "call me maybe"))
    read_back = joined(assistant.say(me, "555-010-2233"))
    assert "from (555) 010-1001 to (555) 010-2233" in read_back
    texts_before = len(twilio_api.sent)
    done = joined(assistant.say(me, "yes"))
    assert "your phone number is now (555) 010-2233" in done and "notice of the change to the old one" in done
    notice = twilio_api.sent[texts_before]
    assert notice["To"] == ["+15550101001"] and "phone number on your billing account was changed" in notice["Body"][0]
    assert "2233" not in notice["Body"][0]  # the notice never carries the new number

    # a new email in the request itself goes straight to the read-back
    read_back = joined(assistant.say(me, "please update my email to maria.new@example.com"))
    assert "from maria.garcia@example.com to maria.new@example.com" in read_back
    mails_before = len(smtp_server.messages)
    assert "your email address is now maria.new@example.com" in joined(assistant.say(me, "yes"))
    mail = smtp_server.messages[mails_before]
    assert mail["to"] == ["maria.garcia@example.com"] and "email address on your billing account was changed" in mail["data"]

    account = call(assistant, "GET", "/api/accounts/40012345", token=alex)[1]
    assert account["patient"]["phone"] == "(555) 010-2233" and account["patient"]["email"] == "maria.new@example.com"
    changes = account["contact_changes"]
    assert [(c["field"], c["status"], c["notice_status"], c["requested_by"]) for c in changes[-2:]] == [
        ("phone", "applied", "sent", "patient:bot"), ("email", "applied", "sent", "patient:bot")]

    # an address without a ZIP code is explained; a no changes nothing
    assistant.say(me, "i moved")
    assert "street, city, state and ZIP" in joined(assistant.say(me, "12 oak street springfield"))
    assert "to 12 Oak Street, Springfield, IL 62704" in joined(assistant.say(me, "12 oak street springfield il 62704"))
    assert "haven't changed anything" in joined(assistant.say(me, "no"))
    assert call(assistant, "GET", "/api/accounts/40012345", token=alex)[1]["mailing_address"] == "41 Elm Street, Atlanta, GA 30303"


def test_a_legal_name_change_waits_for_a_partner(assistant, alex):
    me = assistant.new_sender()
    assistant.say(me, "i got married and changed my name", client="lakeside")
    assistant.say(me, "4/4/1949", client="lakeside")
    assert "new legal name" in joined(assistant.say(me, "40090123", client="lakeside"))
    assert "A billing partner will confirm it" in joined(assistant.say(me, "Grace Holloway", client="lakeside"))
    assert "sent your name change to Grace Holloway" in joined(assistant.say(me, "yes", client="lakeside"))
    work = call(assistant, "GET", "/api/work", token=alex)[1]
    change = next(c for c in work["name_changes"] if c["new_value"] == "Grace Holloway")
    assert call(assistant, "GET", "/api/accounts/40090123", token=alex)[1]["patient"]["name"] == "Grace Miller"
    assert call(assistant, "POST", f"/api/contact-changes/{change['id']}/deny", {"note": ""}, token=alex)[0] == 400
    status, body, _ = call(assistant, "POST", f"/api/contact-changes/{change['id']}/approve", {"note": "marriage certificate seen"},
                           token=alex)
    assert status == 200 and body["status"] == "approved"
    assert call(assistant, "GET", "/api/accounts/40090123", token=alex)[1]["patient"]["name"] == "Grace Holloway"
    assert call(assistant, "POST", f"/api/contact-changes/{change['id']}/approve", {}, token=alex)[0] == 409


def test_david_downloads_his_itemized_statement_once_and_asks_for_one_by_mail(assistant, alex):
    me = assistant.new_sender()
    assistant.say(me, "can i get an itemized bill")
    assistant.say(me, "december 2 1988")
    reply = joined(assistant.say(me, "david lee"))
    link = re.search(r"(http://127\.0\.0\.1:\d+/statements/[\w-]+)", reply)
    assert link and "works once" in reply, reply
    url = link.group(1)
    # the page itself shows nothing about the account; the PDF needs the date of birth
    with urllib.request.urlopen(url, timeout=30) as page:
        html = page.read().decode()
    assert "date of birth" in html and "40067890" not in html and "metabolic" not in html
    status, _, body = post_form(url, {"date_of_birth": "01/01/1990"})
    assert status == 400 and b"match our records" in body
    status, _, body = post_form(url, {"date_of_birth": "not a date"})
    assert status == 400
    status, kind, pdf = post_form(url, {"date_of_birth": "12/02/1988"})
    assert status == 200 and kind == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    balance = call(assistant, "GET", "/api/accounts/40067890", token=alex)[1]["balance_display"]
    assert "David Lee" in text and "Comprehensive metabolic panel" in text and f"Balance due: {balance}" in text
    assert post_form(url, {"date_of_birth": "12/02/1988"})[0] == 410  # once
    assert post_form(url.rsplit("/", 1)[0] + "/nonsense", {"date_of_birth": "12/02/1988"})[0] == 404

    mailed = joined(assistant.say(me, "mail me an itemized statement"))
    assert "mailed to 18 Birch Court, Smyrna, GA 30080" in mailed
    reference = re.search(r"Reference (S-[0-9A-F]{6})", mailed).group(1)
    work = call(assistant, "GET", "/api/work", token=alex)[1]
    assert any(s["reference"] == reference for s in work["statements_to_mail"])
    status, body, _ = call(assistant, "POST", f"/api/statements/{reference}/mailed", token=alex)
    assert status == 200 and body["status"] == "mailed" and body["mailed_by"] == "alex"
    assert call(assistant, "POST", f"/api/statements/{reference}/mailed", token=alex)[0] == 409
    statements = call(assistant, "GET", "/api/accounts/40067890", token=alex)[1]["statements"]
    assert [s["status"] for s in statements[-2:]] == ["downloaded", "mailed"]


def test_a_partner_prints_or_texts_a_statement_from_the_desk(assistant, alex, twilio_api):
    request = urllib.request.Request(assistant.desk + "/api/accounts/40034567/statement.pdf", headers={"Authorization": f"Bearer {alex}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers.get("Content-Type") == "application/pdf"
        assert b"Linda Nguyen" in b"".join(p.extract_text().encode() for p in PdfReader(io.BytesIO(response.read())).pages)
    assert call(assistant, "GET", "/api/accounts/99999999/statement.pdf", token=alex)[0] == 404
    assert call(assistant, "POST", "/api/accounts/40034567/statements", {"delivery": "fax"}, token=alex)[0] == 400
    before = len(twilio_api.sent)
    status, body, _ = call(assistant, "POST", "/api/accounts/40034567/statements", {"delivery": "sms"}, token=alex)
    assert status == 200 and body["delivery"] == "sms" and body["sent_to"] == "(555) 010-1003"
    text = twilio_api.sent[before]
    assert text["To"] == ["+15550101003"] and "/statements/" in text["Body"][0]


def test_a_caller_gets_the_statement_link_by_text(assistant, twilio_api):
    sid = new_call()
    voice(assistant, sid)
    voice(assistant, sid, "?turn=gather&silence=0", SpeechResult="i need an itemized bill", Confidence="0.9")
    voice(assistant, sid, "?turn=gather&silence=0", Digits="03031985")
    offer = said(voice(assistant, sid, "?turn=gather&silence=0", Digits="40012345")[1])
    assert "text a secure link" in offer and "(555) 010-1001" in offer, offer
    before = len(twilio_api.sent)
    sent = said(voice(assistant, sid, "?turn=gather&silence=0", SpeechResult="yes please", Confidence="0.9")[1])
    assert "I've texted the link" in sent
    text = twilio_api.sent[before]
    assert text["To"] == ["+15550101001"] and "/statements/" in text["Body"][0] and "40012345" in text["Body"][0]


def test_alex_checks_insurance_and_mails_a_statement_in_the_account_work_page(assistant, alex, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from sqlalchemy import select

    from billing import db, insurance, statements
    from billing.models import Account
    from tests.integration.test_desk_browser import sign_in

    with db.session_scope(assistant.database) as session:
        james = session.execute(select(Account).where(Account.account_number == "40023456")).scalar_one()
        policy_id = insurance.report_policy(session, james.patient, payer="Cigna", member_id="CIG900100", group_number="G2",
                                            subscriber="James Carter", effective_date=dt.date(2026, 10, 1), actor="patient:bot").id
        reference = statements.send(session, james, "mail", actor="patient:bot")[0].reference
    sign_in(browser, assistant, "alex", "alex-demo-pass")
    summary = browser.find_element(By.ID, "work-summary").text
    assert "insurance to verify" in summary and "statements to mail" in summary
    browser.find_element(By.LINK_TEXT, "Account work").click()
    row = WebDriverWait(browser, 20).until(lambda b: b.find_element(By.CSS_SELECTOR, f'#insurance tr[data-id="{policy_id}"]'))
    assert "Cigna, member CIG900100, group G2, policyholder James Carter" in row.text
    # rejecting needs a reason the patient is told
    row.find_element(By.CSS_SELECTOR, 'button[value="reject"]').click()
    WebDriverWait(browser, 20).until(lambda b: "Say why the insurance is denied" in b.page_source)
    browser.find_element(By.CSS_SELECTOR, f'#insurance tr[data-id="{policy_id}"] button[value="verify"]').click()
    WebDriverWait(browser, 20).until(lambda b: "Insurance checked." in b.page_source)
    assert not browser.find_elements(By.CSS_SELECTOR, f'#insurance tr[data-id="{policy_id}"]')
    account = call(assistant, "GET", "/api/accounts/40023456", token=alex)[1]
    assert next(i for i in account["insurance"] if i["id"] == policy_id)["status"] == "verified"

    row = browser.find_element(By.CSS_SELECTOR, f'#statements tr[data-reference="{reference}"]')
    assert "9 Pine Road, Decatur, GA 30030" in row.text
    pdf_href = row.find_element(By.LINK_TEXT, "Print the PDF").get_attribute("href")
    kind = browser.execute_async_script(
        "var done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => done(r.headers.get('content-type')));", pdf_href)
    assert kind == "application/pdf"
    row.find_element(By.CSS_SELECTOR, "button").click()
    WebDriverWait(browser, 20).until(lambda b: f"Statement {reference} mailed." in b.page_source)
    assert not browser.find_elements(By.CSS_SELECTOR, f'#statements tr[data-reference="{reference}"]')
