"""The real servers, as a pytest plugin (tests/conftest.py registers it):
the action server, the desk and the Rasa server started as `make run`
starts them, with their own billing database and SQL tracker store, and
local servers speaking Twilio's REST API and SMTP."""
from __future__ import annotations

import json
import os
import socketserver
import threading
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from billing import db, seed
from bot import serve
from selfpay.settings import environment
from bot.train import model_path
from tests.conftest import DEMO_FILE, DEMO_NOW, DEMO_SINCE

# SELFPAY_TEST_PORT_BASE lets two test runs on one machine use their own ports
PORT_BASE = int(os.environ.get("SELFPAY_TEST_PORT_BASE", "15000"))
RASA_PORT = PORT_BASE + 5
ACTIONS_PORT = PORT_BASE + 55
DESK_PORT = PORT_BASE + 3080
TOKEN = "integration-test-token"
# what Twilio would sign with: the account's auth token and our public URL
TWILIO_AUTH_TOKEN = "integration-twilio-auth-token"
PUBLIC_URL = "https://selfpay.example.test"


class Assistant:
    def __init__(self, env: dict):
        self.env = env
        self.base = f"http://127.0.0.1:{RASA_PORT}"

    def say(self, sender: str, text: str, client: str = "riverside", metadata: dict | None = None) -> list[str]:
        meta = {"client": client, **(metadata or {})}
        body = json.dumps({"sender": sender, "message": text, "metadata": meta}).encode()
        with urllib.request.urlopen(self.rest_request(body), timeout=60) as response:
            return [m.get("text", "") for m in json.loads(response.read())]

    def rest_request(self, body: bytes, token: str | None = None, headers: dict | None = None) -> urllib.request.Request:
        """A POST to the REST channel with the channel's bearer token (or the given one)."""
        token = self.env["REST_CHANNEL_TOKEN"] if token is None else token
        all_headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        return urllib.request.Request(f"{self.base}/webhooks/rest/webhook", data=body, headers=all_headers, method="POST")

    def rest(self, body: bytes, token: str | None = None, headers: dict | None = None) -> tuple[int, object]:
        """(status, parsed JSON or text) of a raw REST channel call."""
        try:
            with urllib.request.urlopen(self.rest_request(body, token, headers), timeout=60) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def twilio(self, path: str, params: dict, *, sign: bool = True, signature: str | None = None, body: bytes | None = None):
        """POST a form as Twilio does, signed with twilio's own RequestValidator
        over PUBLIC_URL + path; returns (status, text)."""
        from urllib.parse import urlencode

        from twilio.request_validator import RequestValidator

        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            headers["X-Twilio-Signature"] = signature or RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params)
        data = body if body is not None else urlencode(params).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def api(self, method: str, path: str, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        sep = "&" if "?" in path else "?"
        request = urllib.request.Request(
            f"{self.base}{path}{sep}token={TOKEN}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    @staticmethod
    def new_sender() -> str:
        return f"it-{uuid.uuid4().hex[:12]}"


class _TwilioApi(BaseHTTPRequestHandler):
    server_version = "FakeTwilio/1.0"

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
        state = self.server.state
        if state.fail_next > 0:
            state.fail_next -= 1
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"code": 20500, "message": "Internal Server Error", "status": 500}).encode())
            return
        state.sent.append(form)
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"sid": f"SM{uuid.uuid4().hex}", "status": "queued", "to": form["To"][0], "body": form["Body"][0]}).encode())

    def log_message(self, *args):
        pass


@contextmanager
def fake_twilio_api():
    """A local server speaking Twilio's REST API (Messages): what the
    assistant and the desk send outside a reply lands in ``sent``."""
    server = HTTPServer(("127.0.0.1", 0), _TwilioApi)

    class State:
        sent: list = []
        fail_next = 0
        url = f"http://127.0.0.1:{server.server_address[1]}"

    server.state = State()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def twilio_api():
    with fake_twilio_api() as state:
        yield state


class _Smtp(socketserver.StreamRequestHandler):
    """Enough of SMTP (RFC 5321) for smtplib to deliver a message."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 smtp.test ESMTP")
        sender, recipients = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return  # the client hung up
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "QUIT":
                self.reply("221 bye")
                return
            if verb in ("EHLO", "HELO"):
                self.reply("250 smtp.test")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip(" <>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with .")
                lines = []
                while True:
                    data = self.rfile.readline().decode(errors="replace").rstrip("\r\n")
                    if data == ".":
                        break
                    lines.append(data[1:] if data.startswith("..") else data)
                self.server.messages.append({"from": sender, "to": recipients, "data": "\n".join(lines)})
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            else:
                self.reply("502 not implemented")


@contextmanager
def fake_smtp_server():
    """A local server speaking SMTP: the emails the product sends land in ``messages``."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def smtp_server():
    with fake_smtp_server() as server:
        yield server


class NotStarted(RuntimeError):
    pass


@contextmanager
def running_assistant(var: Path, twilio_url: str, smtp_port: int):
    """The action server, the desk and the Rasa server, as `make run`
    starts them, on a fresh billing database (the demo data) under var."""
    model = model_path()
    if not model.exists():
        raise NotStarted(f"no trained model at {model}: `make test` trains it first (or run `make train`)")
    database = f"sqlite:///{var / 'selfpay.db'}"
    db.migrate(database)
    with db.session_scope(database) as session:
        seed.load(session, DEMO_FILE)
    env = environment({
        "DATABASE_URL": database,
        "TRACKER_STORE_URL": f"sqlite:///{var / 'tracker.db'}",
        "EVENT_BROKER_TYPE": "SQL",
        "EVENT_BROKER_URL": f"sqlite:///{var / 'events.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
        "RASA_TOKEN": TOKEN,
        "SELFPAY_NOW": DEMO_NOW,
        "SELFPAY_NOW_SINCE": DEMO_SINCE,
        "REST_CHANNEL_TOKEN": "integration-rest-token",
        "ACTION_SERVER_TOKEN": "integration-action-token",
        "LOCK_STORE_TYPE": "in_memory",
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{DESK_PORT}",
        "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_FROM": "billing@riverside.example",
    })
    processes = serve.start(str(model), env, var / "log", rasa_port=RASA_PORT, actions_port=ACTIONS_PORT, desk_port=DESK_PORT)
    try:
        up = (
            serve.wait_until_up(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, processes)
            and serve.wait_until_up(f"http://127.0.0.1:{DESK_PORT}/health", 60, processes)
            and serve.wait_until_up(f"http://127.0.0.1:{RASA_PORT}/status?token={TOKEN}", 180, processes)
        )
        if not up:
            logs = "\n".join((var / "log" / f"{n}.log").read_text(errors="replace")[-3000:] for n in ("actions", "desk", "rasa"))
            raise NotStarted(f"the assistant did not start:\n{logs}")
        assistant = Assistant(env)
        assistant.var = var
        assistant.database = database
        assistant.desk = f"http://127.0.0.1:{DESK_PORT}"
        yield assistant
    finally:
        serve.stop(processes)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, twilio_api, smtp_server):
    try:
        with running_assistant(tmp_path_factory.mktemp("var"), twilio_api.url, smtp_server.server_address[1]) as running:
            yield running
    except NotStarted as problem:
        pytest.fail(str(problem))


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, driven through ChromeDriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def alex(assistant):
    """A desk API token for agent alex."""
    from tests.integration.helpers import login

    return login(assistant, "alex", "alex-demo-pass")
