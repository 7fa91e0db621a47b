"""The desk's doors (issue 12, item 7), tried against the real servers:
sign-in lockout by user name without locking out the others behind one
address, the sign-in form's CSRF token, Secure cookies and HSTS only
behind a trusted TLS proxy, transcripts only for the agents who handle
them or whose queue they wait in, and CSV cells that cannot run as
formulas."""
from __future__ import annotations

import re
import secrets
import subprocess
import sys

import pytest

from billing import db, staff
from bot import serve
from desk import review
from tests.integration.helpers import call, login
from tests.servers import PORT_BASE

pytestmark = pytest.mark.integration

PROXY_DESK_PORT = PORT_BASE + 3091


class Desk:
    """call() wants something with a ``desk`` base URL."""

    def __init__(self, url):
        self.desk = url


@pytest.fixture(scope="module")
def proxied(assistant):
    """A second desk on the same data, as it runs behind a TLS proxy on this
    machine: DESK_TRUSTED_PROXIES names 127.0.0.1, so this desk believes
    X-Forwarded-Proto and X-Forwarded-For from here (the test plays the proxy)."""
    env = {**assistant.env, "DESK_TRUSTED_PROXIES": "127.0.0.1"}
    log_dir = assistant.var / "log"
    log = open(log_dir / "desk-proxied.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "desk", "--port", str(PROXY_DESK_PORT)], cwd=serve.PROJECT_ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert serve.wait_until_up(f"http://127.0.0.1:{PROXY_DESK_PORT}/health", 60, [process])
        yield Desk(f"http://127.0.0.1:{PROXY_DESK_PORT}")
    finally:
        serve.stop([process])
        log.close()


def _user(assistant, role="agent", departments=None, password="a-good-long-password"):
    name = "u" + secrets.token_hex(5)
    with db.session_scope(assistant.database) as session:
        staff.add_user(session, name, name.title(), role, password, created_by="test", departments=departments)
    return name, password


def _api_login(desk, username, password, address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return call(desk, "POST", "/api/login", {"username": username, "password": password}, headers=headers)


def _login_form(desk, headers=None):
    """The sign-in page: (its cookie, the form's CSRF token)."""
    status, page, got = call(desk, "GET", "/desk/login", headers=headers)
    assert status == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = got["Set-Cookie"].split(";", 1)[0]
    return cookie, token


# --- sign-in lockout --------------------------------------------------------

def test_five_wrong_passwords_lock_that_user_name_from_every_address(assistant, proxied):
    name, password = _user(assistant)
    for _ in range(staff.MAX_FAILURES):
        assert _api_login(proxied, name, "not-the-password", "198.51.100.1")[0] == 401
    # now locked: the right password from another address, and the page form, are refused
    status, body, headers = _api_login(proxied, name, password, "198.51.100.2")
    assert status == 429 and "locked" in body["error"] and int(headers["Retry-After"]) > 0
    cookie, token = _login_form(proxied, {"X-Forwarded-For": "198.51.100.3"})
    status, page, _ = call(proxied, "POST", "/desk/login", headers={"Cookie": cookie, "X-Forwarded-For": "198.51.100.3"},
                           form={"username": name.upper(), "password": password, "csrf_token": token})
    assert status == 429 and "locked" in page


def test_an_attacker_behind_a_shared_address_cannot_lock_out_the_others_behind_it(assistant, proxied):
    bystander, password = _user(assistant)
    nat = "203.0.113.50"
    # the attacker sprays many names (one guess each) from the office's address
    answers = [_api_login(proxied, f"guess{n}-{secrets.token_hex(3)}", "Winter2026!", nat)[0]
               for n in range(staff.ADDRESS_FAILURES + 3)]
    # from the failure that reaches the address's limit on, its wrong passwords are refused (slowly) ...
    assert set(answers[:staff.ADDRESS_FAILURES - 1]) == {401} and set(answers[staff.ADDRESS_FAILURES - 1:]) == {429}
    status, body, headers = _api_login(proxied, "guess-more", "Winter2026!", nat)
    assert status == 429 and "Retry-After" in headers
    # ... but a colleague behind the same address signs in, by the API and by the page
    status, body, _ = _api_login(proxied, bystander, password, nat)
    assert status == 200 and body["user"] == bystander
    cookie, token = _login_form(proxied, {"X-Forwarded-For": nat})
    status, _, got = call(proxied, "POST", "/desk/login", headers={"Cookie": cookie, "X-Forwarded-For": nat},
                          form={"username": bystander, "password": password, "csrf_token": token})
    assert status == 302 and "desk_session=" in got["Set-Cookie"]
    # and another address is not limited at all
    assert _api_login(proxied, "guess-elsewhere", "Winter2026!", "203.0.113.51")[0] == 401


# --- the sign-in form's CSRF token -------------------------------------------

def test_the_sign_in_form_needs_its_own_csrf_token(assistant):
    name, password = _user(assistant)
    # a form posted from another site: no token, or a token without the page's cookie
    status, page, got = call(assistant, "POST", "/desk/login", form={"username": name, "password": password})
    assert status == 403 and "desk_session=" not in (got.get("Set-Cookie") or "")
    assert 'name="csrf_token"' in page  # a fresh form to try again
    cookie, token = _login_form(assistant)
    other_cookie, other_token = _login_form(assistant)
    for headers, form_token in (({}, token), ({"Cookie": other_cookie}, token), ({"Cookie": cookie}, "forged")):
        status, _, got = call(assistant, "POST", "/desk/login", headers=headers,
                              form={"username": name, "password": password, "csrf_token": form_token})
        assert status == 403 and "desk_session=" not in (got.get("Set-Cookie") or "")
    status, _, got = call(assistant, "POST", "/desk/login", headers={"Cookie": cookie},
                          form={"username": name, "password": password, "csrf_token": token})
    assert status == 302 and "desk_session=" in got["Set-Cookie"]
    # the JSON sign-in stays usable by API clients (no cookie, no form)
    assert login(assistant, name, password)


# --- Secure cookies and HSTS behind a trusted TLS proxy ----------------------

def _page_sign_in(desk, name, password, headers):
    cookie, token = _login_form(desk, headers)
    status, _, got = call(desk, "POST", "/desk/login", headers={"Cookie": cookie, **headers},
                          form={"username": name, "password": password, "csrf_token": token})
    assert status == 302
    return got


def test_secure_cookies_and_hsts_only_behind_a_trusted_tls_proxy(assistant, proxied):
    name, password = _user(assistant)
    https = {"X-Forwarded-Proto": "https"}
    # the trusted proxy says the browser came over TLS: Secure cookies, HSTS
    got = _page_sign_in(proxied, name, password, https)
    assert "secure" in got["Set-Cookie"].lower() and "max-age=" in got["Strict-Transport-Security"]
    status, _, got = call(proxied, "GET", "/desk/login", headers=https)
    assert "secure" in got["Set-Cookie"].lower() and got["Strict-Transport-Security"]
    # plain HTTP through the proxy: no Secure flag (the browser would drop it), no HSTS
    got = _page_sign_in(proxied, name, password, {"X-Forwarded-Proto": "http"})
    assert "secure" not in got["Set-Cookie"].lower() and "Strict-Transport-Security" not in got
    # the same header from anyone else is not believed
    got = _page_sign_in(assistant, name, password, https)
    assert "secure" not in got["Set-Cookie"].lower() and "Strict-Transport-Security" not in got
    # nor does an untrusted caller choose its address: X-Forwarded-For is ignored by the plain desk
    status, body, _ = call(assistant, "GET", "/health", headers={"X-Forwarded-For": "1.2.3.4", **https})
    assert status == 200


# --- transcripts: agents read what they handle or what waits in their queues --

def _waiting_handoff(assistant, sam, conversation_id):
    status, body, _ = call(assistant, "GET", "/api/handoffs?status=waiting", token=sam)
    found = [h for h in body["handoffs"] if h["conversation_id"] == conversation_id]
    assert found, body
    return found[-1]


def test_agents_read_only_the_transcripts_they_handle_or_that_wait_in_their_queues(assistant):
    sam = login(assistant, "sam", "sam-demo-pass")
    sender = assistant.new_sender()
    assistant.say(sender, "hello")
    assistant.say(sender, "let me speak to an agent")
    handoff = _waiting_handoff(assistant, sam, sender)
    department = handoff["department"]
    other = next(d for d in staff.DEPARTMENTS if d != department)
    in_queue = login(assistant, *_user(assistant, departments=[department]))
    also_in_queue = login(assistant, *_user(assistant, departments=[department]))
    elsewhere = login(assistant, *_user(assistant, departments=[other]))
    path = f"/api/conversations/{sender}"

    assert call(assistant, "GET", path, token=sam)[0] == 200
    assert call(assistant, "GET", path, token=in_queue)[0] == 200
    status, body, _ = call(assistant, "GET", path, token=elsewhere)
    assert status == 403 and "transcript" not in body
    # nor through the handoff page, nor by claiming it from another queue
    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=elsewhere)[0] == 403

    assert call(assistant, "POST", f"/api/handoffs/{handoff['id']}/claim", token=in_queue)[0] == 200
    # claimed: it is this agent's conversation now, no longer in anyone's queue
    assert call(assistant, "GET", path, token=in_queue)[0] == 200
    assert call(assistant, "GET", path, token=also_in_queue)[0] == 403
    assert call(assistant, "GET", path, token=sam)[0] == 200

    # a conversation never handed to a partner: supervisors only
    quiet = assistant.new_sender()
    assistant.say(quiet, "hello")
    assert call(assistant, "GET", f"/api/conversations/{quiet}", token=in_queue)[0] == 403
    assert call(assistant, "GET", f"/api/conversations/{quiet}", token=sam)[0] == 200


def test_the_desk_pages_keep_transcripts_to_the_same_agents(assistant):
    sam = login(assistant, "sam", "sam-demo-pass")
    sender = assistant.new_sender()
    assistant.say(sender, "let me speak to an agent")
    handoff = _waiting_handoff(assistant, sam, sender)
    other = next(d for d in staff.DEPARTMENTS if d != handoff["department"])
    for departments, expected in (([handoff["department"]], 200), ([other], 403)):
        name, password = _user(assistant, departments=departments)
        cookie = _page_sign_in(assistant, name, password, {})["Set-Cookie"].split(";", 1)[0]
        status, page, _ = call(assistant, "GET", f"/desk/handoffs/{handoff['id']}", headers={"Cookie": cookie})
        assert status == expected
        assert ("let me speak to an agent" in page) == (expected == 200)
        status, page, _ = call(assistant, "GET", f"/desk/conversations/{sender}", headers={"Cookie": cookie})
        assert status == expected and ("let me speak to an agent" in page) == (expected == 200)


# --- CSV cells ----------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_csv_cells_that_could_run_as_formulas_are_neutralised():
    rows = [{"id": f, "client": f, "channel": "rest", "started": "2026-01-01T00:00:00", "last": "2026-01-01T00:00:00",
             "patient_turns": 1, "intents": [f], "handoff": False, "wait_seconds": [], "outcome": f, "flags": [f]}
            for f in FORMULAS]
    import csv
    import io

    cells = [cell for row in list(csv.reader(io.StringIO(review.csv_export(rows), newline="")))[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells and "'-2+3" in cells
    assert review.csv_cell(-5) == -5 and review.csv_cell("12.50") == "12.50"  # numbers stay numbers
