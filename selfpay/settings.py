"""Runtime settings of every process (Rasa, the action server, the desk,
the command line), each from the environment with a working local default
(DESIGN.md, "Runtime"; docs/operations.md lists them).

``get(name)`` is the one way code reads a setting: the environment's value,
else the local default.  ``secret(name)`` reads a token or password, which
has no default inside a process: a process that `make run` starts gets the
local development values through ``environment()``, and one started any
other way without them refuses what the secret guards."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR = PROJECT_ROOT / "var"
MODELS = PROJECT_ROOT / "models"

RASA_PORT = int(os.environ.get("RASA_PORT", "5005"))
ACTIONS_PORT = int(os.environ.get("ACTIONS_PORT", "5055"))
DESK_PORT = int(os.environ.get("DESK_PORT", "8080"))

DEFAULTS = {
    "DATABASE_URL": f"sqlite:///{VAR / 'selfpay.db'}",
    "TRACKER_STORE_URL": f"sqlite:///{VAR / 'tracker.db'}",
    "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
    "RASA_TOKEN": "local-dev-token",
    # the REST channel's bearer token (integrations, make shell, tests, bench)
    "REST_CHANNEL_TOKEN": "local-dev-rest-token",
    # what Rasa sends the action server with every call (endpoints.yml)
    "ACTION_SERVER_TOKEN": "local-dev-action-token",
    "DESK_SECRET": "local-dev-desk-secret",
    "PUBLIC_URL": f"http://127.0.0.1:{RASA_PORT}",
    # where patients open payment links (the desk's web service)
    "DESK_PUBLIC_URL": f"http://127.0.0.1:{DESK_PORT}",
    # where the desk reaches the assistant (web chat)
    "RASA_URL": f"http://127.0.0.1:{RASA_PORT}",
    "LOCK_STORE_TYPE": "in_memory",
    "LOCK_STORE_HOST": "127.0.0.1",
    "LOCK_STORE_PORT": "6379",
    "LOCK_STORE_DB": "1",
    "SELFPAY_DEFAULT_CLIENT": "riverside",
    "ACTIONS_HOST": "127.0.0.1",
    "SMTP_PORT": "25",
    "SMTP_FROM": "billing@selfpay.invalid",
    "SANDBOX_GATEWAY_MODE": "normal",
    "SANDBOX_GATEWAY_DELAY": "0",
    # outreach: texts and calls a second from one client number (Twilio long codes: 1)
    "OUTREACH_SENDS_PER_SECOND": "1",
    # the outreach engine's broker (Celery): a folder under var/ needs no server; make cluster sets redis://
    "OUTREACH_BROKER_URL": "filesystem://",
    "OUTREACH_BROKER_FOLDER": str(VAR / "outreach-broker"),
    # how often the planner runs for a client whose policy does not say (outreach.plan_every_minutes)
    "OUTREACH_PLAN_EVERY_SECONDS": "300",
    # how often beat looks for clients whose planner run is due
    "OUTREACH_TICK_SECONDS": "60",
    # how long a handoff is offered only to the partners on shift who speak its language (billing.handoffs.offer)
    "HANDOFF_LANGUAGE_FIRST_MINUTES": "5",
    # how long the Rasa server waits for one action call before trying it once more (bot/rasa_main.py)
    "ACTION_CALL_TIMEOUT_SECONDS": "6",
    # 1: the Rasa server parses patient messages (NLU) in a child process on another core (bot/nlu_process.py); 0: itself
    "NLU_PROCESS": "1",
    # Rasa's event broker (endpoints.yml), what feeds the desk's conversation tables (desk/projection.py):
    # SQL (Rasa's SQLEventBroker, a database of its own under var/) or pika (RabbitMQ; make cluster)
    "EVENT_BROKER_TYPE": "SQL",
    # SQL: a full SQLAlchemy URL, never the tracker store; pika: amqp://host:port/vhost
    "EVENT_BROKER_URL": f"sqlite:///{VAR / 'events.db'}",
    # pika only (the SQL broker ignores them when the URL is a full one): RabbitMQ's local default account
    "EVENT_BROKER_USERNAME": "guest",
    "EVENT_BROKER_PASSWORD": "guest",
    # pika: the queue and fanout exchange Rasa's PikaEventBroker declares by default (durable queue)
    "EVENT_BROKER_QUEUE": "rasa_core_events",
    "EVENT_BROKER_EXCHANGE": "rasa-exchange",
    # how often the desk's consumer looks for new events in the SQL broker (RabbitMQ pushes)
    "EVENT_FEED_POLL_SECONDS": "0.5",
    # pika: how long a desk read waits for the feed to empty RabbitMQ's queue first
    "EVENT_FEED_WAIT_SECONDS": "3",
    # pika: after the feed lost RabbitMQ, conversations active this long before are caught up from Rasa's HTTP API
    "EVENT_FEED_RECONCILE_SECONDS": "3600",
    # how long a refused or cut-off action call waits before its second try (a restarted HAProxy is back in about 1 s)
    "ACTION_RETRY_PAUSE_SECONDS": "1.5",
    # how long an unanswered webhook delivery (SMS MessageSid, voice turn, REST Idempotency-Key) stays
    # its first receiver's after the receiver last refreshed it (billing/inbound.py: every quarter of
    # this while it works): a retry after that answers it itself (its receiver died mid-turn)
    "INBOUND_CLAIM_LEASE_SECONDS": "6",
    # how long a retry waits for the answer of a first delivery still being answered; then the
    # caller is asked to send again (REST and SMS: 503 with Retry-After)
    "INBOUND_RETRY_WAIT_SECONDS": "12",
    # make cluster (docs/scale-out.md): how many Rasa servers and action servers this machine runs
    "RASA_INSTANCES": "2",
    # which of the cluster's processes this machine runs (rasa, actions, haproxy, desk, event-feed, worker, beat)
    "CLUSTER_PROCESSES": "rasa,actions,haproxy,desk,event-feed,worker,beat",
    # host:port of every Rasa server and every action server HAProxy sends to; empty: this machine's own
    "CLUSTER_RASA_SERVERS": "",
    "CLUSTER_ACTIONS_SERVERS": "",
    # where this machine's cluster processes listen (0.0.0.0 when other machines reach them)
    "CLUSTER_BIND": "127.0.0.1",
    # the PostgreSQL database make cluster creates its databases from
    "POSTGRES_ADMIN_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
}

# make cluster's values where the environment says nothing (DEFAULTS fill in the rest)
CLUSTER_DEFAULTS = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/selfpay_cluster",
    "TRACKER_STORE_URL": "postgresql://postgres@127.0.0.1:5432/selfpay_cluster_tracker",
    "LOCK_STORE_TYPE": "redis",
    "OUTREACH_BROKER_URL": "redis://127.0.0.1:6379/2",
    # Rasa's own: a conversation lock left by a Rasa server killed mid-turn frees itself after this
    # many seconds (Rasa's default, 60, is four Twilio webhook budgets)
    "TICKET_LOCK_LIFETIME": "12",
    # the desk's conversation tables fed through RabbitMQ (desk/projection.py)
    "EVENT_BROKER_TYPE": "pika",
    "EVENT_BROKER_URL": "amqp://127.0.0.1:5672/",
}


def get(name: str, default: str | None = None) -> str | None:
    """The setting: the environment's non-empty value, else the default."""
    return os.environ.get(name) or (DEFAULTS.get(name) if default is None else default)


def secret(name: str) -> str:
    """A token or password: the environment's value or "" (no default)."""
    return os.environ.get(name) or ""


def flag(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def environment(overrides: dict | None = None, cluster: bool = False) -> dict:
    """os.environ with every setting filled in (make cluster's values first when ``cluster``)."""
    env = dict(os.environ)
    for key, value in (CLUSTER_DEFAULTS if cluster else {}).items():
        env.setdefault(key, value)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    env.update(overrides or {})
    # no telemetry or error reports leave the machine
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONHASHSEED", "0")
    return env
