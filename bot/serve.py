"""Start the action server, the desk and the Rasa server, wait until they answer,
and stay in the foreground until Ctrl-C, which stops them all.
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


def commands(model: str, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT, env: dict | None = None,
             desk_port: int = DESK_PORT) -> dict:
    env = env or environment()
    python = sys.executable
    return {
        "actions": [python, "-m", "bot.action_server", "--port", str(actions_port)],
        "desk": [python, "-m", "desk", "--port", str(desk_port)],
        "event-feed": [python, "-m", "desk.projection"],  # Rasa's event broker -> the desk's tables
        "rasa": [
            python, "-m", "bot.rasa_main", "run", "--enable-api", "--auth-token", env["RASA_TOKEN"], "--model", model,
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml", "--port", str(rasa_port),
            "--cors", "*",
        ],
    }


def outreach_commands() -> dict:
    """The outreach engine (connectors/outreach_engine.py): the Celery worker
    that sends attempts, and beat, which runs the planner on its schedule."""
    celery = [sys.executable, "-m", "celery", "-A", "connectors.outreach_engine"]
    return {
        "worker": celery + ["worker", "--pool", "solo", "--loglevel", "INFO"],
        "beat": celery + ["beat", "--loglevel", "INFO"],
    }


def start(model: str, env: dict, log_dir, rasa_port: int = RASA_PORT, actions_port: int = ACTIONS_PORT,
          desk_port: int = DESK_PORT, outreach: bool = False) -> list[subprocess.Popen]:
    log_dir.mkdir(parents=True, exist_ok=True)
    # one TensorFlow thread per prediction: many small predictions, not one big one
    env = clock.shared({"TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1", **env})
    processes = []
    wanted = {**commands(model, rasa_port, actions_port, env, desk_port), **(outreach_commands() if outreach else {})}
    for name, cmd in wanted.items():
        log = open(log_dir / f"{name}.log", "ab")
        processes.append(subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
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


def main() -> int:
    model = model_path()
    if not model.exists():
        print(f"no trained model at {model}; run `make train` first", file=sys.stderr)
        return 1
    env = environment()
    log_dir = VAR / "log"
    started = time.monotonic()
    processes = start(str(model), env, log_dir, outreach=True)
    ok = (
        wait_until_up(f"http://127.0.0.1:{ACTIONS_PORT}/health", 90, processes)
        and wait_until_up(f"http://127.0.0.1:{DESK_PORT}/health", 60, processes)
        and wait_until_up(f"http://127.0.0.1:{RASA_PORT}/status?token={env['RASA_TOKEN']}", 120, processes)
    )
    if not ok:
        print(f"a service did not start; see actions.log, desk.log and rasa.log in {log_dir}", file=sys.stderr)
        stop(processes)
        return 1
    print(
        f"ready in {time.monotonic() - started:.0f} s\n"
        f"  assistant (REST):  POST http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook\n"
        f"  Rasa HTTP API:     http://127.0.0.1:{RASA_PORT}/ (token in RASA_TOKEN)\n"
        f"  action server:     http://127.0.0.1:{ACTIONS_PORT}/health\n"
        f"  partner desk:      {env['DESK_PUBLIC_URL']}/desk/ (demo users alex / alex-demo-pass, sam / sam-demo-pass)\n"
        f"  web chat:          {env['DESK_PUBLIC_URL']}/chat?client=riverside\n"
        f"  outreach:          worker and beat (logs worker.log, beat.log); `selfpay outreach plan --now ...`\n"
        f"  logs:              {log_dir}\n"
        "talk to it with `make shell` in another terminal; Ctrl-C stops everything",
        flush=True,
    )
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    failed = [p for p in processes if p.poll() not in (None, 0, -signal.SIGTERM)]
    stop(processes)
    if failed and not stopping:
        print(f"a service stopped unexpectedly; see {log_dir}", file=sys.stderr)
        return 1
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
