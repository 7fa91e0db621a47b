"""The cluster shape for the fault drills: `make cluster`'s programs
(bot/cluster.py) under the supervisor, on their own ports
(SELFPAY_TEST_PORT_BASE + 105 ...), their own PostgreSQL databases (dropped
after), their own Redis and their own RabbitMQ virtual host (deleted
after: the machine's RabbitMQ is shared), with the local Twilio REST
stand-in."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy.engine import make_url

from bot import cluster, cluster_stores, serve
from bot.train import model_path
from selfpay.settings import PROJECT_ROOT, environment
from selfpay.supervisor import Supervisor
from tests.conftest import DEMO_NOW, DEMO_SINCE, POSTGRES_ADMIN_URL
from tests.servers import PORT_BASE, PUBLIC_URL, TWILIO_AUTH_TOKEN
from tests.twilio_rest import twilio_rest

# HAProxy's two front doors, then the instances behind them (instance_port)
RASA_PORT = PORT_BASE + 105
ACTIONS_PORT = PORT_BASE + 155
DESK_PORT = PORT_BASE + 3180
REDIS_PORT = PORT_BASE + 379  # the drill's own Redis: it is killed too, and nobody else's
# the cluster reaches the billing database through a relay the drill cuts (tests/cluster/relay.py):
# PostgreSQL itself is the machine's, and other people use it
BILLING_RELAY_PORT = PORT_BASE + 432
TOKEN = "drill-rasa-token"
REST_TOKEN = "drill-rest-token"


class Cluster:
    def __init__(self, env: dict, supervisor: Supervisor, var, redis: list, relay: subprocess.Popen | None = None):
        self.env, self.supervisor, self.var, self.redis, self.relay = env, supervisor, var, redis, relay
        self.base = f"http://127.0.0.1:{RASA_PORT}"
        self.run_dir, self.log_dir = var / "run", var / "log"

    def served(self, backend: str = "rasa") -> set[str]:
        """The servers HAProxy sends ``backend``'s requests to now (none while HAProxy is away)."""
        try:
            return cluster.serving(self.var / "haproxy.sock", backend)
        except OSError:
            return set()

    def wait_served(self, names: set[str], backend: str = "rasa", seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while not names <= self.served(backend):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def cut_billing_database(self) -> None:
        """The billing database out of the cluster's reach: every connection reset, new ones refused."""
        self.relay.send_signal(signal.SIGUSR1)

    def restore_billing_database(self) -> None:
        self.relay.send_signal(signal.SIGUSR2)

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def health_url(self, name: str) -> str | None:
        """What answers when the program is back (None: it serves no HTTP)."""
        if name.startswith("rasa-"):
            return f"http://127.0.0.1:{cluster.instance_port(RASA_PORT, int(name.split('-')[1]))}/status?token={TOKEN}"
        if name.startswith("actions-"):
            return f"http://127.0.0.1:{cluster.instance_port(ACTIONS_PORT, int(name.split('-')[1]))}/health"
        return {"haproxy": f"http://127.0.0.1:{RASA_PORT}/haproxy/health", "desk": f"http://127.0.0.1:{DESK_PORT}/health"}.get(name)


@pytest.fixture(scope="session")
def cluster_twilio():
    """The local server speaking Twilio's REST API (Messages and Calls) the cluster sends to."""
    with twilio_rest() as state:
        yield state


@pytest.fixture(scope="session")
def the_cluster(tmp_path_factory, cluster_twilio):
    twilio_api = cluster_twilio
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first (or run `make train`)")
    var = tmp_path_factory.mktemp("cluster")
    name = f"selfpay_drill_{uuid.uuid4().hex[:8]}"
    server = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    relay = start_relay(var, make_url(POSTGRES_ADMIN_URL))
    relayed = make_url(POSTGRES_ADMIN_URL).set(host="127.0.0.1", port=BILLING_RELAY_PORT, database=name)
    env = environment({
        "DATABASE_URL": relayed.render_as_string(hide_password=False),
        "TRACKER_STORE_URL": f"{server}/{name}_tracker",
        "LOCK_STORE_TYPE": "redis",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": str(REDIS_PORT),
        "LOCK_STORE_DB": "1",
        "OUTREACH_BROKER_URL": f"redis://127.0.0.1:{REDIS_PORT}/2",
        "OUTREACH_BROKER_FOLDER": str(var / "outreach"),
        "RASA_TOKEN": TOKEN,
        "REST_CHANNEL_TOKEN": REST_TOKEN,
        "ACTION_SERVER_TOKEN": "drill-action-token",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
        "DESK_PUBLIC_URL": f"http://127.0.0.1:{DESK_PORT}",
        "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
        "PUBLIC_URL": PUBLIC_URL,
        "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio_api.url,
        "SELFPAY_NOW": DEMO_NOW,
        "SELFPAY_NOW_SINCE": DEMO_SINCE,
        "RASA_INSTANCES": "2",
        "CLUSTER_PROCESSES": ",".join(cluster.KINDS),
        "CLUSTER_RASA_SERVERS": "",
        "CLUSTER_ACTIONS_SERVERS": "",
        "CLUSTER_BIND": "127.0.0.1",
        # the drill's REST conversations come from one address: no rate limit between them
        "REST_RATE_PER_MINUTE": "100000",
    }, cluster=True)
    env["EVENT_BROKER_URL"] = rabbit_vhost(name)
    redis = start_redis(var)
    cluster_stores.prepare(env)
    (var / "outreach").mkdir()
    config = var / "haproxy.cfg"
    config.write_text(cluster.haproxy_config(env, RASA_PORT, ACTIONS_PORT, var / "haproxy.sock"))
    programs = cluster.programs(str(model), env, config, RASA_PORT, ACTIONS_PORT, DESK_PORT)
    supervisor = Supervisor(programs, log_dir=var / "log", run_dir=var / "run")
    stopping = threading.Event()
    watcher = threading.Thread(target=supervisor.run, args=(stopping.is_set,), daemon=True)
    supervisor.start()
    watcher.start()
    try:
        if not serve.wait_for(cluster.checks(env, RASA_PORT, ACTIONS_PORT, DESK_PORT), _NoCheck(), 600):
            logs = "\n".join(f"--- {p.name}\n" + (var / "log" / f"{p.name}.log").read_text(errors="replace")[-2000:]
                             for p in programs)
            pytest.fail(f"the cluster did not start:\n{logs}")
        started = Cluster(env, supervisor, var, redis, relay)
        # and HAProxy sends to every server (a server that answers is up for HAProxy after two checks):
        # else the first conversations move when the second Rasa server joins
        assert started.wait_served({"rasa-1", "rasa-2"}, "rasa") and started.wait_served({"actions-1", "actions-2"}, "actions"), \
            "HAProxy did not take every server in"
        yield started
    finally:
        stopping.set()
        watcher.join(timeout=30)
        relay.send_signal(signal.SIGUSR2)  # whatever a failed drill left cut
        for url in (env["DATABASE_URL"], env["TRACKER_STORE_URL"]):
            cluster_stores.drop_database(url)
        subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, timeout=60)
        redis[0].kill()
        redis[0].wait()
        relay.kill()
        relay.wait()


def rabbit_vhost(name: str) -> str:
    """A RabbitMQ virtual host of the drill's own on the machine's server
    (Rasa's queue and the desk feed's in it, nobody else's): its amqp URL."""
    for command in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        done = subprocess.run(["rabbitmqctl", *command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"rabbitmqctl {' '.join(command)}: {done.stderr.strip()}"
    return f"amqp://127.0.0.1:5672/{name}"


def start_relay(var, upstream) -> subprocess.Popen:
    """tests/cluster/relay.py between the cluster and the billing database's PostgreSQL."""
    relay = subprocess.Popen([sys.executable, "-m", "tests.cluster.relay", str(BILLING_RELAY_PORT), upstream.host or "127.0.0.1",
                              str(upstream.port or 5432)], cwd=PROJECT_ROOT, stdout=open(var / "relay.log", "ab"),
                             stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", BILLING_RELAY_PORT), timeout=1).close()
            return relay
        except OSError:
            assert time.monotonic() < deadline and relay.poll() is None, "the billing database's relay did not start"
            time.sleep(0.1)


def start_redis(var, into: list | None = None) -> list:
    """The drill's Redis (no persistence, as a cache of locks and queued tasks); ``into[0]`` is its process."""
    into = into if into is not None else [None]
    into[0] = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(var)], stdout=open(var / "redis.log", "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
        assert time.monotonic() < deadline, "the drill's Redis did not start"
        time.sleep(0.1)
    return into


@pytest.fixture(scope="session")
def cluster_assistant(the_cluster):
    """tests/servers.py's Assistant, talking to the cluster through HAProxy."""
    from tests.servers import Assistant

    assistant = Assistant(the_cluster.env)
    assistant.base = the_cluster.base
    assistant.var, assistant.database = the_cluster.var, the_cluster.env["DATABASE_URL"]
    assistant.desk = f"http://127.0.0.1:{DESK_PORT}"
    return assistant


class _NoCheck:
    """The watcher thread supervises; waiting only waits."""

    def check(self):
        return []
