"""A small process supervisor: `make run` and `make cluster` start their
programs through it (DESIGN.md, Runtime).

Each program runs in its own session (its own process group) with its
output appended to ``<log_dir>/<name>.log`` and its pid in
``<run_dir>/<name>.pid``.  A program that dies is logged (to
``supervisor.log`` and the terminal) and started again: half a second
after a death, and when it keeps dying soon after its start, a little
slower each time, never more than 4 s apart, so a death is always
answered within 5 s.  Before a start the dead program's whole group is
killed, so children it left (a Celery pool, say) do not hold its port.
``stop()`` sends every group SIGTERM, then SIGKILL to what is left after
``stop_seconds``, and removes the pid files; nothing is started after it.

Why our own and not supervisord or honcho: honcho stops everything when
one process dies (what `make run` did), and supervisord is a daemon with
its own configuration, socket and control tool that `make run` would have
to drive from the foreground for Ctrl-C to stop everything; this is the
100 lines the product needs (a list of commands, restart, pid files, stop),
with its own tests (tests/unit/test_supervisor.py).
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

FIRST_DELAY = 0.5
LONGEST_DELAY = 4.0
# a program that lived this long before dying was working: its next death starts the delays again
STEADY_SECONDS = 30.0


@dataclass(frozen=True)
class Program:
    """One supervised program: its name (pid and log file names), the
    command, and the environment and folder it runs with."""

    name: str
    command: List[str]
    env: Optional[Dict[str, str]] = None
    cwd: Optional[Path] = None


@dataclass
class _Running:
    program: Program
    process: Optional[subprocess.Popen] = None
    started_at: float = 0.0
    due_at: Optional[float] = None  # when a dead program starts again
    delay: float = FIRST_DELAY


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Supervisor:
    programs: List[Program]
    log_dir: Path
    run_dir: Path
    stop_seconds: float = 10.0
    echo: bool = False  # the deaths and starts on the terminal too
    restarts: Dict[str, int] = field(default_factory=dict)
    delays: Dict[str, List[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_dir, self.run_dir = Path(self.log_dir), Path(self.run_dir)
        self._running = {p.name: _Running(p) for p in self.programs}
        self._stopped = False
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = logging.getLogger(f"selfpay.supervisor.{id(self)}")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        handler = logging.FileHandler(self.log_dir / "supervisor.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        self.log.addHandler(handler)
        if self.echo:
            terminal = logging.StreamHandler()
            terminal.setFormatter(logging.Formatter("supervisor: %(message)s"))
            self.log.addHandler(terminal)
        for name in self._running:
            self.restarts.setdefault(name, 0)
            self.delays.setdefault(name, [])

    def _spawn(self, running: _Running) -> None:
        program = running.program
        with open(self.log_dir / f"{program.name}.log", "ab") as log:
            running.process = subprocess.Popen(
                program.command, cwd=program.cwd, env=program.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        running.started_at, running.due_at = time.monotonic(), None
        # written whole, then renamed: a reader never sees half a pid file
        pid_file = self.run_dir / f"{program.name}.pid"
        partial = pid_file.with_suffix(".pid.new")
        partial.write_text(f"{running.process.pid}\n")
        partial.replace(pid_file)

    def start(self) -> None:
        for running in self._running.values():
            self._spawn(running)
            self.log.info("%s started (pid %d)", running.program.name, running.process.pid)

    def processes(self) -> List[subprocess.Popen]:
        return [r.process for r in self._running.values() if r.process is not None]

    def pid(self, name: str) -> Optional[int]:
        process = self._running[name].process
        return process.pid if process is not None else None

    def check(self) -> List[str]:
        """Note the programs that died and start the ones whose turn has
        come; the names started again."""
        if self._stopped:
            return []
        now, started = time.monotonic(), []
        for running in self._running.values():
            process, name = running.process, running.program.name
            if running.due_at is None and process is not None and process.poll() is not None:
                lived = now - running.started_at
                if lived >= STEADY_SECONDS:
                    running.delay = FIRST_DELAY
                running.due_at = now + running.delay
                self.delays[name].append(running.delay)
                self.log.warning("%s (pid %d) died (%s) after %.0f s; starting it again in %.1f s",
                                 name, process.pid, _how_it_ended(process.returncode), lived, running.delay)
                running.delay = min(LONGEST_DELAY, running.delay * 2)
                # what it left behind in its group goes with it
                _kill_group(process.pid, signal.SIGKILL)
            if running.due_at is not None and now >= running.due_at:
                self._spawn(running)
                self.restarts[name] += 1
                self.log.warning("%s started again (pid %d)", name, running.process.pid)
                started.append(name)
        return started

    def run(self, should_stop=lambda: False, every: float = 0.2) -> None:
        """Supervise until ``should_stop()`` says so (or Ctrl-C), then stop."""
        try:
            while not should_stop():
                self.check()
                time.sleep(every)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopped = True
        alive = [r.process for r in self._running.values() if r.process is not None]
        for process in alive:
            _kill_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_seconds
        for process in alive:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # the program and anything it left in its group
            _kill_group(process.pid, signal.SIGKILL)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for name in self._running:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        for handler in list(self.log.handlers):
            handler.close()
            self.log.removeHandler(handler)
