"""Turn latency of the balance and the payment conversations through the
REST channel, and of the voice webhook (TwiML out), with the real action
server, desk and SQL tracker store, next to bare Rasa measured in the same
run (DESIGN.md's targets are ratios to it): the ``rasa init`` bot (Rasa's
own starter project, trained as ``rasa init`` trains it, kept in models/),
served by stock ``rasa run`` (Rasa's REST channel, in-memory tracker and
lock stores, no action server, no event broker), talked to as its own
conversation (greet, sad, yes, bye).  Every shape is measured at 8 and at
16 concurrent conversations (``--concurrency``, ``--cluster-concurrency``)
and the ratio of its p95 to bare Rasa's at the same concurrency is
printed: the targets are make run at 8 (1.5x) and make cluster at 16
(1.0x).  Bare Rasa is measured first and again last, and the ratios are
taken against both runs' turns together (its figure moves from minute to
minute on a shared machine).  ``--shape stock`` adds stock ``rasa run`` on our own model and
action server (what bot/rasa_main.py's fixes are worth on Rasa itself).
The voice webhook is measured twice, at 8 calls: ``voice``, calls at a
caller's pace (each reply heard to its end, then the answer spoken or
keyed: how Twilio's webhooks of 8 concurrent calls arrive, and what the
250 ms target is about), and ``voice-flat``, the same calls with no pause
at all (capacity: every webhook as soon as the last is answered).
Usage: python -m bench.turns [--conversations 48] [--shape bare --shape run]"""
from __future__ import annotations

import argparse
import html
import json
import os
import random
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
BARE_PORT = 25006
# where the turns go: the servers this bench starts, or (--running) ones already up, e.g. make cluster's HAProxy
TARGET = {"base": f"http://127.0.0.1:{RASA_PORT}"}
# name -> (patient turns, what the replies must contain)
SCENARIOS = {
    # the balance as it stands (the payment scenario, and other shapes in the same run, pay $1 a time on it)
    "balance": (["hi", "whats my balance", "march 3 1985", "40012345", "thanks"], "Your balance on account 40012345 is $"),
    # verification, amount, card on file, confirmation, charge: $1 a time on Maria's $412.50
    "payment": (["i want to pay $1", "march 3 1985", "40012345", "card", "yes"], "confirmation number is"),
    # bare Rasa: the rasa init bot's own conversation (its greet, mood_unhappy, affirm and goodbye)
    "rasa-init": (["hello there", "I am sad", "yes", "bye"], "Bye"),
}
BARE_SCENARIO = "rasa-init"


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


# a caller's pace on the phone: the reply is heard to its end (Polly reads about 160 words a minute; a <Pause> lasts
# its length), then the answer is spoken (about 150 words a minute, then speechTimeout="auto"'s end-of-speech pause
# and recognition, about a second) or keyed (3 keys a second, then #); each wait varies by up to 20% (seeded)
HEARD_WORDS_PER_SECOND, SPOKEN_WORDS_PER_SECOND, END_OF_SPEECH_SECONDS, KEYS_PER_SECOND = 160 / 60, 150 / 60, 1.0, 3.0


def hearing_seconds(twiml: str) -> float:
    """How long Twilio takes to read a TwiML answer to the caller."""
    words = sum(len(html.unescape(said).split()) for said in re.findall(r"<Say[^>]*>(.*?)</Say>", twiml, re.S))
    pauses = sum(int(n) for n in re.findall(r'<Pause length="(\d+)"', twiml))
    return words / HEARD_WORDS_PER_SECOND + pauses


def answering_seconds(extra: dict) -> float:
    """How long the caller takes to say or key the next answer."""
    if extra.get("Digits"):
        return (len(extra["Digits"]) + 1) / KEYS_PER_SECOND
    if extra.get("SpeechResult"):
        return len(extra["SpeechResult"].split()) / SPOKEN_WORDS_PER_SECOND + END_OF_SPEECH_SECONDS
    return 0.0


def voice_conversation(index: int, paced: bool = True) -> list[float]:
    """One call: the webhook's answer times (a held turn's <Redirect> followed, each a sample); ``paced``: with
    the caller's listening and answering between webhooks, and the calls' starts spread over the first one."""
    pace = random.Random(f"voice-{index}")

    def caller_waits(seconds: float) -> None:
        if paced:
            time.sleep(seconds * pace.uniform(0.8, 1.2))

    if paced and index < CALLS_AT_ONCE["n"]:
        time.sleep(pace.uniform(0, 20))  # the first calls do not all ring in the same second
    call_sid = f"CAbench{uuid.uuid4().hex}"
    # every call from its own number, as concurrent callers are (one number is rate-limited: billing.ratelimit)
    caller = f"+1555019{uuid.uuid4().int % 10000:04d}"
    timings, replies = [], []
    query = ""
    twiml = ""
    for extra in VOICE_TURNS:
        caller_waits(hearing_seconds(twiml) + answering_seconds(extra))
        seconds, twiml = voice_turn(call_sid, query, extra, caller)
        timings.append(seconds)
        # a turn held past its budget: Twilio follows the hold's <Redirect>, each a webhook call of its own
        held = re.search(r'<Redirect method="POST">([^<]+)</Redirect>', twiml)
        while held and "<Gather" not in twiml:
            caller_waits(hearing_seconds(twiml))
            seconds, twiml = voice_turn(call_sid, html.unescape(held.group(1)).removeprefix(VOICE_HOOK), {}, caller)
            timings.append(seconds)
            held = re.search(r'<Redirect method="POST">([^<]+)</Redirect>', twiml)
        replies.append(twiml)
        action = re.search(r'<Gather action="([^"]+)"', twiml)
        query = html.unescape(action.group(1)).removeprefix(VOICE_HOOK) if action else ""
    if "Your balance on account" not in replies[-1]:
        raise RuntimeError(f"voice call {call_sid} did not reach the balance: {replies}")
    return timings


# how many calls run at once (voice_conversation spreads the first ones' starts)
CALLS_AT_ONCE = {"n": 8}
VOICE_CALLS_AT_ONCE = 8  # DESIGN.md: the voice webhook's p95 at 8 concurrent calls
VOICE_SCENARIOS = ("voice", "voice-flat")
LABELS = {"voice": "voice webhook, calls at a caller's pace", "voice-flat": "voice webhook, back to back (no caller pauses)"}


def conversation(scenario: str, index: int = 0) -> list[float]:
    if scenario in VOICE_SCENARIOS:
        return voice_conversation(index, paced=scenario == "voice")
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
    parser.add_argument("--conversations", type=int, default=48)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS) + list(VOICE_SCENARIOS), action="append", help="default: all")
    parser.add_argument("--calls", type=int, default=32, help="voice calls at a caller's pace (each about 30 s long)")
    parser.add_argument("--shape", choices=["bare", "stock", "run", "cluster"], action="append",
                        help="bare: the rasa init bot on stock rasa run, in-memory stores; stock: stock rasa run on our model; "
                             "run: make run's shape; cluster: make cluster's (PostgreSQL, Redis, 2 Rasa servers behind HAProxy); "
                             "default: bare, run, cluster")
    parser.add_argument("--cluster-concurrency", type=int, default=16,
                        help="every shape is also measured at this many concurrent conversations (make cluster's target)")
    parser.add_argument("--running", metavar="URL",
                        help="send the turns to servers already running there (e.g. http://127.0.0.1:5005 under make cluster; "
                             "voice needs their TWILIO_AUTH_TOKEN=bench-twilio-token and PUBLIC_URL=https://bench.example.test)")
    args = parser.parse_args()
    if not args.running and not model_path().exists():
        # Rasa would load the newest model it finds instead, and the bench would measure that
        print(f"no trained model at {model_path()}; run `make train` first", file=sys.stderr)
        return 1
    if args.running:
        TARGET["base"] = args.running.rstrip("/")
        print_reports(args, "the running servers at " + TARGET["base"], measure(args, args.scenario or [s for s in SCENARIOS if s != BARE_SCENARIO] + list(VOICE_SCENARIOS)))
        return 0
    var = Path(tempfile.mkdtemp(prefix="selfpay-bench-"))
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{var / 'selfpay.db'}"
    db.migrate(database)
    with db.session_scope(database) as session:
        if seed.database_is_empty(session):
            seed.load(session, seed.DEFAULT_DATA_FILE)
    env = environment({
        "DATABASE_URL": database,
        "TRACKER_STORE_URL": os.environ.get("BENCH_TRACKER_STORE_URL") or f"sqlite:///{var / 'tracker.db'}",
        "EVENT_BROKER_URL": f"sqlite:///{var / 'events.db'}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{DESK_PORT}",
        "TWILIO_AUTH_TOKEN": BENCH_TWILIO_TOKEN,
        "PUBLIC_URL": BENCH_PUBLIC_URL,
    })
    results: dict = {}  # (shape, concurrency) -> reports
    shapes = args.shape or ["bare", "run", "cluster"]
    if "bare" in shapes and len(shapes) > 1:
        # bare Rasa's own figure moves from minute to minute on a shared machine: measured before and after the
        # other shapes, and the ratios taken against both runs' turns together
        shapes = ["bare"] + [s for s in shapes if s != "bare"] + ["bare-again"]
    widths = sorted({args.concurrency, args.cluster_concurrency})
    ours = [s for s in (args.scenario or list(SCENARIOS)) if s not in VOICE_SCENARIOS and s != BARE_SCENARIO]
    voice = [s for s in (args.scenario or VOICE_SCENARIOS) if s in VOICE_SCENARIOS]
    for shape in shapes:
        starter = {"bare": start_rasa_init, "bare-again": start_rasa_init, "stock": start_stock, "run": start_run,
                   "cluster": start_cluster}[shape]
        processes, base = starter(env, var / shape)
        try:
            if not processes:
                print(f"{shape}: the servers did not start; logs in {var / shape}", file=sys.stderr)
                return 1
            TARGET["base"] = base
            for width in widths:
                results[shape, width] = measure(args, [BARE_SCENARIO] if shape.startswith("bare") else ours, width)
                print_reports(args, f"{shape} (as measured)", results[shape, width], width)
            if shape in ("run", "cluster") and voice:
                results[shape + "-voice", VOICE_CALLS_AT_ONCE] = measure(args, voice, VOICE_CALLS_AT_ONCE)
                print_reports(args, f"{shape}, voice calls (as measured)", results[shape + "-voice", VOICE_CALLS_AT_ONCE],
                              VOICE_CALLS_AT_ONCE)
        finally:
            stop_shape(processes)
    what = f"tracker store {env['TRACKER_STORE_URL'].split(':', 1)[0]}, billing db {database.split(':', 1)[0]}"
    cluster_shape = "PostgreSQL tracker store and billing db, Redis locks, RabbitMQ events, 2 Rasa servers behind HAProxy"
    described = {"bare": "the rasa init bot, stock rasa run, in-memory tracker and lock stores",
                 "bare-again": "the rasa init bot again, after the other shapes",
                 "stock": "stock rasa run on our model and action server, in-memory tracker and lock stores",
                 "run": "make run: " + what, "cluster": "make cluster: " + cluster_shape}
    for (shape, width), reports in results.items():
        print_reports(args, f"{shape}: {described[shape.removesuffix('-voice')]}", reports, width)
    targets = {("run", args.concurrency): "1.5x", ("cluster", args.cluster_concurrency): "1.0x"}
    for width in widths:
        bare = [t for run in ("bare", "bare-again") for name, timings, _ in results.get((run, width), [])
                if name == BARE_SCENARIO for t in timings]
        if not bare:
            continue
        for shape in ("stock", "run", "cluster"):
            if (shape, width) not in results:
                continue
            target = targets.get((shape, width))
            print(f"{shape} against bare Rasa at {width} concurrent (both its runs: p95 {percentile(bare, 95) * 1000:.0f} ms, "
                  f"p50 {percentile(bare, 50) * 1000:.0f} ms; " + (f"target DESIGN.md: p95 at most {target}):" if target else "no target):"))
            for name, timings, _ in results[shape, width]:
                print(f"  {name}: p95 {percentile(timings, 95) / percentile(bare, 95):.2f}x, "
                      f"p50 {percentile(timings, 50) / percentile(bare, 50):.2f}x")
    return 0


def start_run(env: dict, var: Path) -> tuple[list, str]:
    """make run's shape: the action server, the desk, the event feed and our Rasa server (bot.serve)."""
    processes = serve.start(str(model_path()), env, var / "log", rasa_port=RASA_PORT, actions_port=ACTIONS_PORT, desk_port=DESK_PORT)
    if not (serve.wait_until_up(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, processes)
            and serve.wait_until_up(f"http://127.0.0.1:{RASA_PORT}/status?token={env['RASA_TOKEN']}", 180, processes)):
        serve.stop(processes)
        return [], ""
    wait_for_nlu_processes([var / "log" / "rasa.log"])
    return processes, f"http://127.0.0.1:{RASA_PORT}"


def wait_for_nlu_processes(logs: list, seconds: float = 180) -> None:
    """Until each Rasa server's log says its NLU process parses (bot/nlu_process.py): a server answers while its
    NLU process is still loading, and what is measured is the shape at work, not its start."""
    from bot import nlu_process

    said = nlu_process.STARTED.split("{pid}")[-1]
    if not nlu_process.enabled():
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(log.exists() and said in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.5)
    print(f"the NLU processes did not say they parse within {seconds:.0f} s ({logs}): measuring anyway", file=sys.stderr)


CLUSTER_PORTS = {"rasa": 25105, "actions": 25155, "desk": 28180, "redis": 26379}


class _ClusterShape:
    """make cluster's programs under the supervisor on the bench's ports, with its own databases and Redis."""

    def __init__(self, supervisor, watcher, stopping, urls: list, redis):
        self.supervisor, self.watcher, self.stopping, self.urls, self.redis = supervisor, watcher, stopping, urls, redis

    def stop(self) -> None:
        from bot import cluster_stores

        self.stopping.set()
        self.watcher.join(timeout=30)
        for url in self.urls:
            cluster_stores.drop_database(url)
        self.redis.kill()
        self.redis.wait()


def start_cluster(env: dict, var: Path) -> tuple[list, str]:
    """make cluster's shape: PostgreSQL (databases of the bench's own, dropped after), its own Redis, RabbitMQ,
    2 Rasa servers and 2 action servers behind HAProxy, the desk and the event feed."""
    import subprocess
    import threading
    import uuid

    from bot import cluster, cluster_stores
    from selfpay.supervisor import Supervisor

    var.mkdir(parents=True, exist_ok=True)
    server = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
    name = f"selfpay_bench_{uuid.uuid4().hex[:8]}"
    redis = subprocess.Popen(["redis-server", "--port", str(CLUSTER_PORTS["redis"]), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(var)], stdout=open(var / "redis.log", "ab"), stderr=subprocess.STDOUT)
    cenv = environment({
        **{k: v for k, v in env.items() if k in ("TWILIO_AUTH_TOKEN", "PUBLIC_URL")},
        "DATABASE_URL": f"{server}/{name}", "TRACKER_STORE_URL": f"{server}/{name}_tracker",
        "LOCK_STORE_TYPE": "redis", "LOCK_STORE_HOST": "127.0.0.1", "LOCK_STORE_PORT": str(CLUSTER_PORTS["redis"]),
        "LOCK_STORE_DB": "1", "OUTREACH_BROKER_URL": f"redis://127.0.0.1:{CLUSTER_PORTS['redis']}/2",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{CLUSTER_PORTS['actions']}/webhook",
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{CLUSTER_PORTS['desk']}", "RASA_URL": f"http://127.0.0.1:{CLUSTER_PORTS['rasa']}",
        "RASA_INSTANCES": "2", "CLUSTER_PROCESSES": "rasa,actions,haproxy,desk,event-feed", "CLUSTER_RASA_SERVERS": "",
        "CLUSTER_ACTIONS_SERVERS": "", "CLUSTER_BIND": "127.0.0.1", "REST_RATE_PER_MINUTE": "100000",
    }, cluster=True)
    time.sleep(0.5)  # Redis up
    cluster_stores.prepare(cenv)
    config = var / "haproxy.cfg"
    config.write_text(cluster.haproxy_config(cenv, CLUSTER_PORTS["rasa"], CLUSTER_PORTS["actions"], var / "haproxy.sock"))
    programs = cluster.programs(str(model_path()), cenv, config, CLUSTER_PORTS["rasa"], CLUSTER_PORTS["actions"], CLUSTER_PORTS["desk"])
    supervisor = Supervisor(programs, log_dir=var / "log", run_dir=var / "run")
    stopping = threading.Event()
    watcher = threading.Thread(target=supervisor.run, args=(stopping.is_set,), daemon=True)
    supervisor.start()
    watcher.start()
    shape = _ClusterShape(supervisor, watcher, stopping, [cenv["DATABASE_URL"], cenv["TRACKER_STORE_URL"]], redis)
    deadline = time.monotonic() + 600
    for url in cluster.checks(cenv, CLUSTER_PORTS["rasa"], CLUSTER_PORTS["actions"], CLUSTER_PORTS["desk"]):
        while not serve.answers(url):
            if time.monotonic() > deadline:
                shape.stop()
                return [], ""
            time.sleep(0.5)
    while {"rasa-1", "rasa-2"} - _served(var / "haproxy.sock"):
        if time.monotonic() > deadline:
            shape.stop()
            return [], ""
        time.sleep(0.5)
    wait_for_nlu_processes([var / "log" / "rasa-1.log", var / "log" / "rasa-2.log"])
    return [shape], f"http://127.0.0.1:{CLUSTER_PORTS['rasa']}"


def _served(socket_path: Path) -> set:
    from bot import cluster

    try:
        return cluster.serving(socket_path)
    except OSError:
        return set()


def stop_shape(processes: list) -> None:
    for shape in [p for p in processes if isinstance(p, _ClusterShape)]:
        shape.stop()
    serve.stop([p for p in processes if not isinstance(p, _ClusterShape)])


def start_stock(env: dict, var: Path) -> tuple[list, str]:
    """Stock ``rasa run`` on our model and action server (no bot.rasa_main patches, Rasa's own REST channel,
    in-memory tracker and lock stores, no event broker)."""
    var.mkdir(parents=True, exist_ok=True)
    (var / "endpoints.yml").write_text(f"action_endpoint:\n  url: http://127.0.0.1:{ACTIONS_PORT}/webhook\n"
                                       f"  token: {env['ACTION_SERVER_TOKEN']}\n")
    commands = {"actions": [sys.executable, "-m", "bot.action_server", "--port", str(ACTIONS_PORT)],
                "rasa-stock": _stock_rasa(env, var, model_path(), var / "endpoints.yml")}
    processes = _start(commands, env, var)
    if not (serve.wait_until_up(f"http://127.0.0.1:{ACTIONS_PORT}/health", 120, processes) and _bare_up(env, processes)):
        serve.stop(processes)
        return [], ""
    return processes, f"http://127.0.0.1:{BARE_PORT}"


def rasa_init_model() -> Path:
    """The rasa init bot's model: Rasa's own starter project, trained as ``rasa init`` trains it, once for
    this Rasa (kept in models/ under a hash of the project and Rasa's version)."""
    import hashlib
    import shutil
    import subprocess

    import rasa
    from rasa.cli import scaffold

    from selfpay.settings import MODELS

    project = Path(scaffold.__file__).parent / "initial_project"
    digest = hashlib.sha256(rasa.__version__.encode())
    for path in sorted(p for p in project.rglob("*") if p.is_file() and p.suffix in (".yml", ".py")):
        digest.update(path.relative_to(project).as_posix().encode() + path.read_bytes())
    # in a folder of its own: Rasa, given a model file that is not there, loads the newest model in models/,
    # and that must never be the starter bot
    folder = MODELS / "bare-rasa"
    model = folder / f"rasa-init-{digest.hexdigest()[:16]}.tar.gz"
    if not model.exists():
        print(f"training the rasa init bot (bare Rasa) into {model}", file=sys.stderr, flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="rasa-init-"))
        try:
            shutil.copytree(project, work / "bot")
            with open(folder / "rasa-init-train.log", "ab") as log:
                subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
                                "--data", "data", "--out", str(folder), "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                               cwd=work / "bot", check=True, stdout=log, stderr=subprocess.STDOUT)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return model


def start_rasa_init(env: dict, var: Path) -> tuple[list, str]:
    """Bare Rasa: the rasa init bot on stock ``rasa run`` (Rasa's REST channel, in-memory tracker and lock stores,
    no action server: the starter bot has no custom action, no event broker)."""
    var.mkdir(parents=True, exist_ok=True)
    (var / "endpoints.yml").write_text("")
    processes = _start({"rasa-init": _stock_rasa(env, var, rasa_init_model(), var / "endpoints.yml")}, env, var)
    if not _bare_up(env, processes):
        serve.stop(processes)
        return [], ""
    return processes, f"http://127.0.0.1:{BARE_PORT}"


def _stock_rasa(env: dict, var: Path, model: Path, endpoints: Path) -> list:
    (var / "credentials.yml").write_text("rest:\n")
    return [sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token", env["RASA_TOKEN"], "--model", str(model),
            "--endpoints", str(endpoints), "--credentials", str(var / "credentials.yml"), "--port", str(BARE_PORT)]


def _start(commands: dict, env: dict, var: Path) -> list:
    import subprocess

    penv = serve.process_environment(env)
    processes = []
    for name, command in commands.items():
        with open(var / f"{name}.log", "ab") as log:
            processes.append(subprocess.Popen(command, cwd=serve.PROJECT_ROOT, env=penv, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
    return processes


def _bare_up(env: dict, processes: list) -> bool:
    return serve.wait_until_up(f"http://127.0.0.1:{BARE_PORT}/status?token={env['RASA_TOKEN']}", 180, processes)


def measure(args, scenarios: list[str], concurrency: int | None = None) -> list:
    reports = []
    for scenario in scenarios:
        at_once = concurrency or args.concurrency
        CALLS_AT_ONCE["n"] = at_once
        count = args.calls if scenario == "voice" else args.conversations
        try:
            conversation(scenario, at_once)  # warm up (an index past the first calls: no spread start)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=at_once) as pool:
                results = list(pool.map(conversation, [scenario] * count, range(count)))
        except RuntimeError as problem:
            # a conversation that did not finish (a voice turn held past its budget on a loaded machine): said, not hidden
            print(f"  {scenario}: NOT MEASURED: {str(problem)[:300]}", file=sys.stderr, flush=True)
            continue
        reports.append((scenario, [t for conv in results for t in conv], time.perf_counter() - started))
    return reports


def print_reports(args, what: str, reports: list, concurrency: int | None = None) -> None:
    print(f"{args.conversations} conversations each ({args.calls} voice calls at a caller's pace), "
          f"{concurrency or args.concurrency} concurrent, {os.cpu_count()} cores "
          f"(load average {os.getloadavg()[0]:.1f}), {what}")
    for scenario, timings, elapsed in reports:
        print(f"  {LABELS.get(scenario, scenario)}: {len(timings)} turns in {elapsed:.1f} s = {len(timings) / elapsed:.1f} turns/s; "
              f"p50 {percentile(timings, 50) * 1000:.0f} ms, p95 {percentile(timings, 95) * 1000:.0f} ms, "
              f"max {max(timings) * 1000:.0f} ms, mean {statistics.mean(timings) * 1000:.0f} ms")
    print("  targets (DESIGN.md): REST turn p95 at most 1.5x bare Rasa's (the rasa init bot) at 8 concurrent (make run), "
          "1.0x at 16 (make cluster); "
          "voice webhook p95 at most 250 ms at 8 concurrent calls", flush=True)


if __name__ == "__main__":
    sys.exit(main())
