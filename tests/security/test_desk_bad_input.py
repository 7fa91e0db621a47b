"""The desk's share of "no server errors on bad input" (issue 12, item 8),
against the real servers: ids beyond 64 bits, extreme review dates, five
concurrent submits of one payment link, expired cards at the tokeniser,
a payment link's limit on card attempts, and no link or card token in
the desk's logs."""
from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
import urllib.parse
from decimal import Decimal

import pytest
import yaml
from sqlalchemy import func, select

from billing import clock, db, ledger, payments, seed
from billing.models import Account, LedgerEntry
from tests.integration.helpers import call, login

pytestmark = pytest.mark.integration

HUGE = "99999999999999999999999"


@pytest.fixture(scope="module")
def tokens(assistant):
    return {"alex": login(assistant, "alex", "alex-demo-pass"), "sam": login(assistant, "sam", "sam-demo-pass")}


def _page_cookie(assistant, username, password):
    """A signed-in page session: (cookie header, the session's CSRF token)."""
    status, page, got = call(assistant, "GET", "/desk/login")
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = got["Set-Cookie"].split(";", 1)[0]
    status, _, got = call(assistant, "POST", "/desk/login", headers={"Cookie": cookie},
                          form={"username": username, "password": password, "csrf_token": form_token})
    assert status == 302
    session_cookie = got["Set-Cookie"].split(";", 1)[0]
    status, page, _ = call(assistant, "GET", "/desk/", headers={"Cookie": session_cookie})
    return session_cookie, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --- ids beyond 64 bits ------------------------------------------------------

API_ROUTES = [
    ("GET", f"/api/handoffs/{HUGE}"), ("POST", f"/api/handoffs/{HUGE}/claim"), ("POST", f"/api/handoffs/{HUGE}/messages"),
    ("POST", f"/api/handoffs/{HUGE}/close"), ("POST", f"/api/write-offs/{HUGE}/approve"),
    ("POST", f"/api/refunds/{HUGE}/approve"), ("POST", f"/api/insurance/{HUGE}/approve"),
    ("POST", f"/api/insurance-transfers/{HUGE}/close"), ("POST", f"/api/contact-changes/{HUGE}/notice"),
    ("POST", f"/api/contact-changes/{HUGE}/approve"), ("GET", f"/api/handoffs/-{HUGE}"),
]
PAGE_ROUTES = [
    ("GET", f"/desk/handoffs/{HUGE}"), ("POST", f"/desk/handoffs/{HUGE}/claim"), ("POST", f"/desk/handoffs/{HUGE}/reply"),
    ("POST", f"/desk/handoffs/{HUGE}/close"), ("POST", f"/desk/refunds/{HUGE}"), ("POST", f"/desk/write-offs/{HUGE}"),
    ("POST", f"/desk/insurance/{HUGE}"), ("POST", f"/desk/insurance-transfers/{HUGE}/close"),
    ("POST", f"/desk/contact-changes/{HUGE}/notice"), ("POST", f"/desk/contact-changes/{HUGE}"),
]


def test_ids_beyond_64_bits_are_not_found_not_server_errors(assistant, tokens):
    for method, path in API_ROUTES:
        status, body, _ = call(assistant, method, path, payload={"text": "hi", "disposition": "paid"} if method == "POST" else None,
                               token=tokens["sam"])
        assert status in (400, 404), (path, status, body)
        assert body["error"]
    cookie, csrf = _page_cookie(assistant, "sam", "sam-demo-pass")
    for method, path in PAGE_ROUTES:
        status, body, _ = call(assistant, method, path, headers={"Cookie": cookie},
                               form={"csrf_token": csrf, "text": "hi", "decision": "approve"} if method == "POST" else None)
        assert status in (400, 404), (path, status)
    # an id too big in a JSON body is refused as well
    status, body, _ = call(assistant, "POST", "/api/accounts/40012345/insurance-transfer", token=tokens["sam"],
                           payload={"reason": "re-bill", "policy_id": int(HUGE)})
    assert status in (400, 404, 409), (status, body)


# --- review filters ----------------------------------------------------------

BAD_FILTERS = [
    {"since": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "9999-12-31", "until": "9999-12-31"},
    {"since": "0001-01-01", "until": "0001-01-07"}, {"since": "2026-02-30"}, {"since": "yesterday"},
    {"since": "2026-01-10", "until": "2026-01-01"}, {"since": "2026-1-1"}, {"until": "20260101"},
]


def test_extreme_or_malformed_review_dates_get_400_not_server_errors(assistant, tokens):
    cookie, _ = _page_cookie(assistant, "sam", "sam-demo-pass")
    for filters in BAD_FILTERS:
        query = urllib.parse.urlencode(filters)
        for path in ("/api/conversations", "/api/metrics", "/api/conversations.csv"):
            status, body, _ = call(assistant, "GET", f"{path}?{query}", token=tokens["sam"])
            assert status == 400 and body["error"], (path, filters, status, body)
        for path in ("/desk/review", "/desk/review.csv"):
            status, page, _ = call(assistant, "GET", f"{path}?{query}", headers={"Cookie": cookie})
            assert status == 400 and "date" in page, (path, filters, status)
    # a sensible window far in the past is a correct, empty answer
    status, body, _ = call(assistant, "GET", "/api/metrics?since=2001-01-01&until=2001-01-31", token=tokens["sam"])
    assert status == 200 and body["conversations"] == 0


# --- payment links -----------------------------------------------------------

@pytest.fixture
def account(assistant, tmp_path):
    """An account of its own (riverside, $500.00), so the other tests' balances stay as they were."""
    number = "49" + "".join(secrets.choice("0123456789") for _ in range(6))
    data = {"patients": [{
        "id": f"p-test-{number}", "client": "riverside", "first_name": "Test", "last_name": f"Patient{number}",
        "date_of_birth": "1980-01-01", "phone": None, "email": None, "language": "en", "consent": {},
        "accounts": [{"account_number": number, "statement_date": clock.today().isoformat(),
                      "due_date": clock.today().isoformat(), "expected_balance": "500.00",
                      "encounters": [{"date_of_service": clock.today().isoformat(), "kind": "office",
                                      "service_lines": [{"code": "99213", "description": "Office visit", "charge": "500.00"}]}],
                      "payments": []}],
    }]}
    path = tmp_path / "one.yml"
    path.write_text(yaml.safe_dump(data))
    with db.session_scope(assistant.database) as session:
        seed.load(session, path)
    return number


def _link(assistant, number, amount="20.00"):
    with db.session_scope(assistant.database) as session:
        found = session.execute(select(Account).where(Account.account_number == number)).scalar_one()
        _link_row, token = payments.create_link(session, found, amount, actor="test")
    return token


def _card_token(assistant, link, number="4242424242424242", month=None, year=None):
    """What the tokeniser sends the browser back with: (status, Location)."""
    later = clock.today().replace(day=1)
    month = month if month is not None else str(later.month)
    year = year if year is not None else str(later.year + 2)
    status, _, got = call(assistant, "POST", "/sandbox-gateway/tokenize", form={
        "card_number": number, "exp_month": month, "exp_year": year, "cvc": "123", "return_url": f"/pay/{link}"})
    return status, got.get("Location") or ""


def _card(assistant, link, number="4242424242424242"):
    status, location = _card_token(assistant, link, number)
    assert status == 303 and "card_token=" in location, location
    return urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["card_token"][0]


def _posted(assistant, number):
    with db.session_scope(assistant.database) as session:
        found = session.execute(select(Account).where(Account.account_number == number)).scalar_one()
        count = session.execute(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.account_id == found.id, LedgerEntry.kind == "patient_payment")).scalar_one()
        return count, ledger.balance(session, found)


def _submit_at_once(assistant, link, card_tokens):
    barrier = threading.Barrier(len(card_tokens))
    answers = [None] * len(card_tokens)

    def submit(n):
        barrier.wait()
        answers[n] = call(assistant, "POST", f"/pay/{link}", form={"card_token": card_tokens[n]})

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(card_tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_five_concurrent_submits_of_one_link_charge_once(assistant, account):
    # the same form sent five times at once (a double-clicking patient)
    link = _link(assistant, account)
    card = _card(assistant, link)
    answers = _submit_at_once(assistant, link, [card] * 5)
    assert [a[0] for a in answers] == [200] * 5
    confirmations = {re.search(r'id="confirmation"[^>]*>([^<]+)<', a[1]).group(1) for a in answers}
    assert len(confirmations) == 1
    assert _posted(assistant, account) == (1, Decimal("480.00"))

    # five different cards at once on one link: one pays, the others are told the link was used
    link = _link(assistant, account)
    cards = [_card(assistant, link) for _ in range(5)]
    answers = _submit_at_once(assistant, link, cards)
    statuses = sorted(a[0] for a in answers)
    assert statuses == [200, 410, 410, 410, 410], [(a[0], a[1][:300]) for a in answers]
    for status, page, _ in answers:
        assert "Payment received" in page if status == 200 else "already been used" in page
    assert _posted(assistant, account) == (2, Decimal("460.00"))


def test_the_tokeniser_refuses_an_expired_card(assistant, account):
    link = _link(assistant, account)
    today = clock.today()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    for month, year in ((str(last_month.month), str(last_month.year)), ("12", str(today.year - 1)),
                        (str(last_month.month), str(last_month.year)[2:])):
        status, location = _card_token(assistant, link, month=month, year=year)
        assert status == 303 and "card_token" not in location and "error=card_expired" in location, location
    status, page, _ = call(assistant, "GET", location.replace(assistant.desk, ""))
    assert status == 200 and "expired" in page
    # this month's cards are still good
    status, location = _card_token(assistant, link, month=str(today.month), year=str(today.year))
    assert status == 303 and "card_token=" in location
    # nonsense is refused with a message, never a server error
    for month, year in (("13", "2030"), ("0", "2030"), ("ab", "2030"), ("1", HUGE), ("1", "-5")):
        status, location = _card_token(assistant, link, month=month, year=year)
        assert status == 303 and "error=" in location and "card_token" not in location, (month, year, location)


def test_a_payment_link_allows_five_card_attempts(assistant, account):
    link = _link(assistant, account)
    for _ in range(payments.LINK_ATTEMPTS):
        status, page, _ = call(assistant, "POST", f"/pay/{link}", form={"card_token": _card(assistant, link, "4000000000000002")})
        assert status == 402, page[:300]
    # the sixth card, even a good one, is refused with what to do next
    status, page, _ = call(assistant, "POST", f"/pay/{link}", form={"card_token": _card(assistant, link)})
    assert status == 429 and "new link" in page and "call us" in page
    status, page, _ = call(assistant, "GET", f"/pay/{link}")
    assert status == 429 and "new link" in page
    assert _posted(assistant, account)[0] == 0


def test_link_and_card_tokens_never_reach_the_logs(assistant, account):
    link = _link(assistant, account)
    card = _card(assistant, link)
    call(assistant, "GET", f"/pay/{link}")
    call(assistant, "GET", f"/pay/{link}/review?card_token={card}")
    call(assistant, "POST", f"/pay/{link}", form={"card_token": card})
    call(assistant, "GET", f"/pay/{link}?card_token={card}&error=x")
    statement_token = secrets.token_urlsafe(24)  # the shape of a statement link's token
    call(assistant, "GET", f"/statements/{statement_token}")
    call(assistant, "GET", f"/statements/{statement_token}?download=1")
    log = (assistant.var / "log" / "desk.log").read_text(errors="replace")
    assert "/pay/" in log  # the requests are logged ...
    for secret in (link, card, statement_token):
        assert secret not in log  # ... without their tokens


def test_concurrent_cards_on_one_link_charge_once_on_each_database(seeded_url):
    """The row lock, not SQLite's write lock, is what keeps one link to one
    charge: five sessions at once with five cards, on SQLite and PostgreSQL."""
    from billing.gateway import SandboxGateway

    with db.session_scope(seeded_url) as session:
        found = session.execute(select(Account).where(Account.account_number == "40045678")).scalar_one()
        _row, link = payments.create_link(session, found, "10.00", actor="test")
        cards = [SandboxGateway().tokenize(session, "4242424242424242", 12, clock.today().year + 2).token for _ in range(5)]
    barrier = threading.Barrier(5)
    answers = []

    def pay(card):
        barrier.wait()
        try:
            with db.session_scope(seeded_url) as session:
                answers.append(payments.pay_link(session, link, card, gateway=SandboxGateway(mode="slow", delay=0.2)).status)
        except payments.LinkError as refused:
            answers.append(refused.reason)

    threads = [threading.Thread(target=pay, args=(card,)) for card in cards]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == ["posted"] + ["used"] * 4
