"""The NLU process (bot/nlu_process.py): its parse is the Rasa server's own, a child that dies is replaced
while the server parses, one that cannot load is given up on, and none outlives its server."""
import asyncio
import os
import subprocess
import sys
import time

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from bot import nlu_process, rasa_main
from bot.train import model_path
from selfpay.settings import PROJECT_ROOT

MESSAGES = [
    ("whats my balance", None),
    ("i want to pay $1", None),
    ("maria garcia 3/3/85", None),
    ("40012345", {"client": "riverside"}),
    ("cuatro cero cero uno dos tres cuatro cinco", {"client": "lakeside"}),
    ("quiero hacer un plan de pagos", {"client": "lakeside", "language": "es"}),
    ("/greet", None),
    ("", None),
]


@pytest.fixture(scope="module")
def server_processor():
    # Rasa's own parse, without this process's fixes (applying them here would change Rasa's classes and the
    # clock for every later test): the child's, with them, must give the same
    return Agent.load(str(model_path())).processor


@pytest.fixture(scope="module")
def child():
    process = nlu_process.NluProcess(str(model_path()), rasa_main.apply_to_parsing)
    process.start()  # it loads while the test's own copy of the model loads
    yield process
    process.stop()


def _message(text, metadata):
    return UserMessage(text, None, "patient-nlu", metadata, "rest", "m-" + str(abs(hash(text))), metadata)


def test_the_child_parses_as_the_server_would(child, server_processor):
    child.start_future().result(timeout=300)
    for text, metadata in MESSAGES:
        message = _message(text, metadata)
        there = asyncio.run(child.parse(message, True))
        here = server_processor._parse_message_with_graph(message, DialogueStateTracker.from_events("patient-nlu", []), True)
        assert there == here, text
    assert asyncio.run(child.parse(_message("whats my balance", None), True))["intent"]["name"] == "check_balance"


def test_a_child_killed_is_replaced_and_its_messages_parsed_by_the_server(child, monkeypatch):
    monkeypatch.setattr(nlu_process, "_RESTART_PAUSE_SECONDS", 0.0)
    first = child.pid()
    os.kill(first, 9)
    time.sleep(1)
    # the message of that moment: not parsed there, so the caller (rasa_main.parse_message) parses it
    assert asyncio.run(child.parse(_message("whats my balance", None), True)) is None
    assert not child.given_up
    child.usable()  # a new child starts loading
    child.start_future().result(timeout=300)
    assert child.pid() not in (None, first)
    assert asyncio.run(child.parse(_message("whats my balance", None), True))["intent"]["name"] == "check_balance"


def test_a_child_that_cannot_load_is_given_up_after_three_tries(tmp_path, monkeypatch):
    monkeypatch.setattr(nlu_process, "_RESTART_PAUSE_SECONDS", 0.0)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a model")
    process = nlu_process.NluProcess(str(broken))
    process.start()
    deadline = time.monotonic() + 120
    while not process.given_up and time.monotonic() < deadline:
        assert asyncio.run(process.parse(_message("hi", None), True)) is None
        time.sleep(0.2)
    assert process.given_up
    assert not process.usable() and process.pid() is None


def test_the_child_ends_with_its_server():
    script = ("import sys, time; from bot import nlu_process; from bot.train import model_path; "
              "p = nlu_process.NluProcess(str(model_path())); p.start()\n"
              "while p.pid() is None: time.sleep(0.1)\n"
              "print(p.pid(), flush=True); time.sleep(600)")
    server = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(server.stdout.readline())
        time.sleep(2)  # the child is loading the model
        assert os.path.exists(f"/proc/{child_pid}")
    finally:
        server.kill()
        server.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
