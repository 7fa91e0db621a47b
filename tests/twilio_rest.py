"""A local server speaking Twilio's REST API for Messages and Calls, for the
outreach tests: what is sent lands in ``messages`` and ``calls`` (the
form Twilio's official client posted), and a test can make the next
requests fail as Twilio does (a 5xx, a 429) or refuse a number with an
error code (21610: the number replied STOP)."""
from __future__ import annotations

import json
import re
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class TwilioState:
    def __init__(self, url: str):
        self.url = url
        self.messages: list = []
        self.calls: list = []
        self.fail_next: list = []          # statuses to answer the next requests with (500, 429 ...)
        self.refuse: dict = {}             # number -> (status, Twilio error code)
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.calls.clear()
            self.fail_next.clear()
            self.refuse.clear()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeTwilioRest/1.0"

    def _answer(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
        state: TwilioState = self.server.state
        kind = re.search(r"/Accounts/[^/]+/(Messages|Calls)\.json$", self.path)
        if not kind:
            return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
        with state.lock:
            failing = state.fail_next.pop(0) if state.fail_next else None
            refused = state.refuse.get(form.get("To"))
        if failing:
            return self._answer(failing, {"code": 20429 if failing == 429 else 20500, "message": "try again", "status": failing})
        if refused:
            status, code = refused
            return self._answer(status, {"code": code, "message": f"refused ({code})", "status": status})
        if kind.group(1) == "Messages":
            sid = f"SM{uuid.uuid4().hex}"
            with state.lock:
                state.messages.append({"sid": sid, "at": time.monotonic(), **form})
            return self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To"), "body": form.get("Body")})
        sid = f"CA{uuid.uuid4().hex}"
        with state.lock:
            state.calls.append({"sid": sid, "at": time.monotonic(), **form})
        return self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To")})

    def log_message(self, *args):
        pass


@contextmanager
def twilio_rest():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.state = TwilioState(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
