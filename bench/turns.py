"""Turn latency of the balance and the payment conversations through the
REST channel, and of the voice webhook (TwiML out), with the real action
server, desk and SQL tracker store, at 8 concurrent conversations.  Usage: python -m bench.turns [--conversations 80]"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from billing import db, seed
from bot import serve
from selfpay.settings import environment
from bot.train import model_path

RASA_PORT, ACTIONS_PORT, DESK_PORT = 25005, 25055, 28080
# where the turns go: the servers this bench starts, or (--running) ones already up, e.g. make cluster's HAProxy
TARGET = {"base": f"http://127.0.0.1:{RASA_PORT}"}
# name -> (patient turns, what the replies must contain)
SCENARIOS = {
    "balance": (["hi", "whats my balance", "march 3 1985", "40012345", "thanks"], "$412.50"),
    # verification, amount, card on file, confirmation, charge: $1 a time on Maria's $412.50
    "payment": (["i want to pay $1", "march 3 1985", "40012345", "card", "yes"], "confirmation number is"),
}


def turn(sender: str, text: str) -> tuple[float, str]:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"client": "riverside"}}).encode()
    request = urllib.request.Request(
        f"{TARGET['base']}/webhooks/rest/webhook", data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {environment()['REST_CHANNEL_TOKEN']}"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        replies = json.loads(response.read())
    return time.perf_counter() - started, " ".join(r.get("text", "") for r in replies)


BENCH_TWILIO_TOKEN, BENCH_PUBLIC_URL = "bench-twilio-token", "https://bench.example.test"
VOICE_HOOK = "/webhooks/twilio_voice/webhook"
# the voice webhook, TwiML out: call start, speech, keypad date of birth and account;
# each turn posts to the <Gather action> the last answer gave, as Twilio does
VOICE_TURNS = [{}, {"SpeechResult": "what's my balance"}, {"Digits": "03031985"}, {"Digits": "40012345"}]


def voice_turn(call_sid: str, query: str, extra: dict, caller: str) -> tuple[float, str]:
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    params = {"CallSid": call_sid, "From": caller, "To": "+15550100100", "CallStatus": "in-progress", **extra}
    signature = RequestValidator(BENCH_TWILIO_TOKEN).compute_signature(BENCH_PUBLIC_URL + VOICE_HOOK + query, params)
    request = urllib.request.Request(
        f"{TARGET['base']}{VOICE_HOOK}{query}", data=urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        twiml = response.read().decode()
    return time.perf_counter() - started, twiml


def voice_conversation(_: str) -> list[float]:
    call_sid = f"CAbench{uuid.uuid4().hex}"
    # every call from its own number, as concurrent callers are (one number is rate-limited: billing.ratelimit)
    caller = f"+1555019{uuid.uuid4().int % 10000:04d}"
    timings, replies = [], []
    query = ""
    for extra in VOICE_TURNS:
        seconds, twiml = voice_turn(call_sid, query, extra, caller)
        timings.append(seconds)
        replies.append(twiml)
        action = re.search(r'<Gather action="([^"]+)"', twiml)
        query = html.unescape(action.group(1)).removeprefix(VOICE_HOOK) if action else ""
    if "Your balance on account" not in replies[-1]:
        raise RuntimeError(f"voice call {call_sid} did not reach the balance: {replies}")
    return timings


def conversation(scenario: str) -> list[float]:
    if scenario == "voice":
        return voice_conversation(scenario)
    texts, expected = SCENARIOS[scenario]
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    timings, replies = [], []
    for text in texts:
        seconds, reply = turn(sender, text)
        timings.append(seconds)
        replies.append(reply)
    if expected not in " ".join(replies):
        raise RuntimeError(f"{scenario} conversation {sender} did not finish: {replies}")
    return timings


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=80)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS) + ["voice"], action="append", help="default: all")
    parser.add_argument("--running", metavar="URL",
                        help="send the turns to servers already running there (e.g. http://127.0.0.1:5005 under make cluster; "
                             "voice needs their TWILIO_AUTH_TOKEN=bench-twilio-token and PUBLIC_URL=https://bench.example.test)")
    args = parser.parse_args()
    if args.running:
        TARGET["base"] = args.running.rstrip("/")
        return measure(args, "the running servers at " + TARGET["base"])
    var = Path(tempfile.mkdtemp(prefix="selfpay-bench-"))
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{var / 'selfpay.db'}"
    db.migrate(database)
    with db.session_scope(database) as session:
        if seed.database_is_empty(session):
            seed.load(session, seed.DEFAULT_DATA_FILE)
    env = environment({
        "DATABASE_URL": database,
        "TRACKER_STORE_URL": os.environ.get("BENCH_TRACKER_STORE_URL") or f"sqlite:///{var / 'tracker.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{DESK_PORT}",
        "TWILIO_AUTH_TOKEN": BENCH_TWILIO_TOKEN,
        "PUBLIC_URL": BENCH_PUBLIC_URL,
    })
    processes = serve.start(str(model_path()), env, var / "log", rasa_port=RASA_PORT, actions_port=ACTIONS_PORT, desk_port=DESK_PORT)
    try:
        if not (serve.wait_until_up(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, processes)
                and serve.wait_until_up(f"http://127.0.0.1:{RASA_PORT}/status?token={env['RASA_TOKEN']}", 180, processes)):
            print(f"services did not start; logs in {var / 'log'}", file=sys.stderr)
            return 1
        return measure(args, f"tracker store {env['TRACKER_STORE_URL'].split(':', 1)[0]}, billing db {database.split(':', 1)[0]}")
    finally:
        serve.stop(processes)


def measure(args, what: str) -> int:
    reports = []
    for scenario in args.scenario or list(SCENARIOS) + ["voice"]:
        conversation(scenario)  # warm up
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(conversation, [scenario] * args.conversations))
        reports.append((scenario, [t for conv in results for t in conv], time.perf_counter() - started))
    print(f"{args.conversations} conversations each, {args.concurrency} concurrent, {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f}), {what}")
    for scenario, timings, elapsed in reports:
        print(f"  {scenario}: {len(timings)} turns in {elapsed:.1f} s = {len(timings) / elapsed:.1f} turns/s; "
              f"p50 {percentile(timings, 50) * 1000:.0f} ms, p95 {percentile(timings, 95) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms, mean {statistics.mean(timings) * 1000:.0f} ms")
    print("  targets (DESIGN.md): REST turns p50 <= 60 ms, p95 <= 150 ms; voice webhook p95 <= 250 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
