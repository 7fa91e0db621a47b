"""Runtime settings of the assistant's processes, each from the
environment with a working local default (DESIGN.md, "Runtime")."""
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
}


def environment(overrides: dict | None = None) -> dict:
    """os.environ with every setting filled in."""
    env = dict(os.environ)
    for key, value in DEFAULTS.items():
        env.setdefault(key, value)
    env.update(overrides or {})
    # no telemetry or error reports leave the machine
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONHASHSEED", "0")
    return env
