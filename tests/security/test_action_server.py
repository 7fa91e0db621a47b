"""The action server answers only Rasa (issue 12, item 3): a forged
tracker posted straight to it gets nothing, and it is not reachable
from other machines."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.servers import ACTIONS_PORT

pytestmark = pytest.mark.integration

FORGED = {
    "next_action": "action_check_balance", "sender_id": "attacker", "version": "3.6.2", "domain": {},
    "tracker": {"sender_id": "attacker", "slots": {"identity": "verified", "patient_id": "p-maria-garcia", "client_id": "riverside"},
                "latest_message": {"text": "balance", "intent": {"name": "check_balance"}, "entities": []},
                "events": [], "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"},
}


def post(path: str, payload, headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{ACTIONS_PORT}{path}", data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_forged_verified_tracker_without_the_token_gets_401_and_no_balance(assistant):
    status, text = post("/webhook", FORGED)
    assert status == 401 and "412.50" not in text and "Maria" not in text


def test_a_wrong_token_in_the_query_or_the_header_gets_401(assistant):
    assert post("/webhook?token=guess", FORGED)[0] == 401
    assert post("/webhook", FORGED, {"Authorization": "Bearer guess"})[0] == 401
    status, _ = post("/actions", {})
    assert status in (401, 405)


def test_with_rasas_token_the_action_server_answers(assistant):
    status, text = post(f"/webhook?token={assistant.env['ACTION_SERVER_TOKEN']}", FORGED)
    assert status == 200 and "events" in text
    # a failing call never echoes the tracker back
    status, text = post(f"/webhook?token={assistant.env['ACTION_SERVER_TOKEN']}", {**FORGED, "next_action": "no_such_action"})
    assert status == 404 and "p-maria-garcia" not in text


def test_the_action_server_listens_on_loopback_only(assistant):
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) == ACTIONS_PORT:  # 0A: LISTEN
                listening.add(address)
    assert listening, "the action server is not listening"
    loopback = {"0100007F", "00000000000000000000000001000000"}
    assert listening <= loopback, f"listening beyond loopback: {listening}"
