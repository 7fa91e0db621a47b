"""The supervisor that `make run` and `make cluster` stand on: a program
that dies is logged and started again within 5 s, its pid file says
which process it is now, and stopping stops every program for good."""
from __future__ import annotations

import os
import signal
import sys
import time

from selfpay.supervisor import Program, Supervisor

# a program that stays up until it is stopped
SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)"]


def _pid(run_dir, name) -> int:
    return int((run_dir / f"{name}.pid").read_text())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive: waitpid reaps our own children
    return True


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_killed_program_is_logged_and_back_within_5_seconds_with_its_new_pid(tmp_path):
    supervisor = Supervisor([Program("one", SLEEPER), Program("two", SLEEPER)], log_dir=tmp_path / "log", run_dir=tmp_path / "run")
    supervisor.start()
    try:
        first, other = _pid(tmp_path / "run", "one"), _pid(tmp_path / "run", "two")
        os.kill(first, signal.SIGKILL)
        killed_at = time.monotonic()
        assert _until(lambda: supervisor.check() is None or _pid(tmp_path / "run", "one") != first, 5)
        back_in = time.monotonic() - killed_at
        new = _pid(tmp_path / "run", "one")
        assert new != first and _alive(new)
        assert back_in < 5
        # the other program was left alone
        assert _pid(tmp_path / "run", "two") == other
        log = (tmp_path / "log" / "supervisor.log").read_text()
        assert f"one (pid {first}) died (signal SIGKILL)" in log
        assert f"one started again (pid {new})" in log
        assert supervisor.restarts["one"] == 1 and supervisor.restarts["two"] == 0
    finally:
        supervisor.stop()
    assert not _alive_child(new) and not _alive_child(other)
    assert not (tmp_path / "run" / "one.pid").exists() and not (tmp_path / "run" / "two.pid").exists()


def _alive_child(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # already reaped: gone
    return finished == 0


def test_a_program_that_keeps_failing_is_retried_slower_but_never_more_than_4_seconds_apart(tmp_path):
    failing = Program("flaky", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor([failing], log_dir=tmp_path / "log", run_dir=tmp_path / "run")
    supervisor.start()
    try:
        assert _until(lambda: supervisor.check() is None or supervisor.restarts["flaky"] >= 4, 15)
        delays = supervisor.delays["flaky"]
        assert delays == sorted(delays) and max(delays) <= 4
        assert "flaky (pid" in (tmp_path / "log" / "supervisor.log").read_text()
        assert "died (exit code 3)" in (tmp_path / "log" / "supervisor.log").read_text()
    finally:
        supervisor.stop()


def test_stopping_ends_a_program_that_ignores_sigterm_and_its_children(tmp_path):
    # a program that ignores SIGTERM and has a child of its own
    stubborn = [sys.executable, "-c",
                "import signal, subprocess, sys, time\n"
                "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                "child = subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.1)'])\n"
                "open(sys.argv[1], 'w').write(str(child.pid))\n"
                "while True: time.sleep(0.1)\n", str(tmp_path / "child.pid")]
    supervisor = Supervisor([Program("stubborn", stubborn)], log_dir=tmp_path / "log", run_dir=tmp_path / "run",
                            stop_seconds=1)
    supervisor.start()
    assert _until(lambda: (tmp_path / "child.pid").exists() and (tmp_path / "child.pid").read_text(), 10)
    grandchild = int((tmp_path / "child.pid").read_text())
    started = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - started < 5
    assert _until(lambda: not _alive(grandchild) or _zombie(grandchild), 5)
    # nothing is started again after a stop
    assert supervisor.check() == []


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_program_that_dies_while_its_group_lives_on_is_replaced_not_doubled(tmp_path):
    """kill -9 of a program's main process leaves its children; the new
    start must not find the old one's children still holding its port."""
    parent = [sys.executable, "-c",
              "import subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.1)'])\n"
              "open(sys.argv[1], 'a').write(str(child.pid) + '\\n')\n"
              "while True: time.sleep(0.1)\n", str(tmp_path / "children")]
    supervisor = Supervisor([Program("parent", parent)], log_dir=tmp_path / "log", run_dir=tmp_path / "run")
    supervisor.start()
    try:
        assert _until(lambda: (tmp_path / "children").exists() and (tmp_path / "children").read_text().strip(), 10)
        first_child = int((tmp_path / "children").read_text().split()[0])
        os.kill(_pid(tmp_path / "run", "parent"), signal.SIGKILL)
        assert _until(lambda: supervisor.check() is None or supervisor.restarts["parent"] == 1, 5)
        assert _until(lambda: not _alive(first_child) or _zombie(first_child), 5)
    finally:
        supervisor.stop()
