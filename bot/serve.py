"""Start the action server, the desk, the Rasa server and the outreach
worker and beat under the supervisor (selfpay/supervisor.py: a program
that dies is logged and started again), wait until they answer, and stay
in the foreground until Ctrl-C, which stops them all.  The programs are
data: one line of commands() or outreach_commands() each.
Usage: python -m bot.serve  (make run does the set-up first)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from billing import clock
from selfpay.settings import ACTIONS_PORT, DESK_PORT, PROJECT_ROOT, RASA_PORT, VAR, environment
from selfpay.supervisor import Program, Supervisor
from bot.train import model_path


def wait_until_up(url: str, seconds: float, processes: list[subprocess.Popen]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def rasa_command(model: str, env: dict, port: int, interface: str | None = None) -> list[str]:
    return [
        sys.executable, "-m", "bot.rasa_main", "run", "--enable-api", "--auth-token", env["RASA_TOKEN"], "--model", model,
        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--port", str(port), "--cors", "*",
        *(["--interface", interface] if interface else []),
    ]


def commands(model: str, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT, env: dict | None = None,
             desk_port: int = DESK_PORT) -> dict:
    env = env or environment()
    python = sys.executable
    return {
        "actions": [python, "-m", "bot.action_server", "--port", str(actions_port)],
        "desk": [python, "-m", "desk", "--port", str(desk_port)],
        "event-feed": [python, "-m", "desk.projection"],  # Rasa's event broker -> the desk's tables
        "rasa": rasa_command(model, env, rasa_port),
    }


def outreach_commands() -> dict:
    """The outreach engine (connectors/outreach_engine.py): the Celery worker
    that sends attempts, and beat, which runs the planner on its schedule."""
    celery = [sys.executable, "-m", "celery", "-A", "connectors.outreach_engine"]
    return {
        "worker": celery + ["worker", "--pool", "solo", "--loglevel", "INFO"],
        "beat": celery + ["beat", "--loglevel", "INFO"],
    }


def process_environment(env: dict) -> dict:
    # one TensorFlow thread per prediction: many small predictions, not one big one
    return clock.shared({"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1", **env})


def programs(model: str, env: dict, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT,
             desk_port: int = DESK_PORT, outreach: bool = False) -> list[Program]:
    """What `make run` runs, one program a line of commands() and outreach_commands()."""
    env = process_environment(env)
    wanted = {**commands(model, rasa_port, actions_port, env, desk_port), **(outreach_commands() if outreach else {})}
    return [Program(name, command, env, PROJECT_ROOT) for name, command in wanted.items()]


def start(model: str, env: dict, log_dir, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT,
          desk_port: int = DESK_PORT, outreach: bool = False) -> list[subprocess.Popen]:
    """The programs started once, unsupervised (the tests and the bench stop them with stop())."""
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for program in programs(model, env, rasa_port, actions_port, desk_port, outreach):
        with open(log_dir / f"{program.name}.log", "ab") as log:
            processes.append(subprocess.Popen(program.command, cwd=program.cwd, env=program.env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True))
    return processes


def stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def wait_for(checks: list[str], supervisor: Supervisor, seconds: float, should_stop=lambda: False) -> bool:
    """Every URL answers 200 within ``seconds`` (a program that dies on the way is started again)."""
    deadline = time.monotonic() + seconds
    for url in checks:
        while not answers(url):
            supervisor.check()
            if time.monotonic() >= deadline or should_stop():
                return False
            time.sleep(0.5)
    return True


def answers(url: str) -> bool:
    """The URL answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def supervise(supervisor: Supervisor, checks: list[str], banner: str, log_dir, seconds: float = 180) -> int:
    """Start, wait until every check answers, print the banner, then keep
    every program running until Ctrl-C (or SIGTERM) stops them all."""
    started = time.monotonic()
    stopping: list[bool] = []
    # Ctrl-C and SIGTERM stop everything, also when SIGINT came in ignored (a make run started in the background)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    supervisor.start()
    if not wait_for(checks, supervisor, seconds, lambda: bool(stopping)):
        supervisor.stop()
        if stopping:
            print("stopped")
            return 0
        print(f"a service did not start within {seconds:.0f} s; see the logs in {log_dir}", file=sys.stderr)
        return 1
    print(f"ready in {time.monotonic() - started:.0f} s\n{banner}\n"
          f"a service that stops is started again (logged in {log_dir / 'supervisor.log'}); Ctrl-C stops everything",
          flush=True)
    supervisor.run(lambda: bool(stopping))
    print("stopped")
    return 0


def main() -> int:
    model = model_path()
    if not model.exists():
        print(f"no trained model at {model}; run `make train` first", file=sys.stderr)
        return 1
    env = environment()
    log_dir = VAR / "log"
    supervisor = Supervisor(programs(str(model), env, outreach=True), log_dir=log_dir, run_dir=VAR / "run", echo=True)
    checks = [f"http://127.0.0.1:{ACTIONS_PORT}/health", f"http://127.0.0.1:{DESK_PORT}/health",
              f"http://127.0.0.1:{RASA_PORT}/status?token={env['RASA_TOKEN']}"]
    banner = (
        f"  assistant (REST):  POST http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook\n"
        f"  Rasa HTTP API:     http://127.0.0.1:{RASA_PORT}/ (token in RASA_TOKEN)\n"
        f"  action server:     http://127.0.0.1:{ACTIONS_PORT}/health\n"
        f"  partner desk:      {env['DESK_PUBLIC_URL']}/desk/ (demo users alex / alex-demo-pass, sam / sam-demo-pass)\n"
        f"  web chat:          {env['DESK_PUBLIC_URL']}/chat?client=riverside\n"
        f"  outreach:          worker and beat (logs worker.log, beat.log); `selfpay outreach plan --now ...`\n"
        f"  logs:              {log_dir}, pids in {VAR / 'run'}\n"
        "talk to it with `make shell` in another terminal"
    )
    return supervise(supervisor, checks, banner, log_dir)


if __name__ == "__main__":
    sys.exit(main())
