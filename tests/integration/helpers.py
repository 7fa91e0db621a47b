"""What the integration tests share: calling the desk, signing in, and
reading the assistant's replies as one text."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request


def joined(replies) -> str:
    return " ".join(replies)


def call(assistant, method, path, payload=None, token=None, headers=None, form=None):
    """(status, parsed JSON or text) from the desk."""
    all_headers = dict(headers or {})
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        all_headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(assistant.desk + path, data=data, method=method, headers=all_headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            status, body, got = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        status, body, got = error.code, error.read().decode(), error.headers
    try:
        return status, json.loads(body), got
    except ValueError:
        return status, body, got


def login(assistant, username, password):
    status, body, _ = call(assistant, "POST", "/api/login", {"username": username, "password": password})
    assert status == 200, body
    return body["token"]
