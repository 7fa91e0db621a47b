"""The action server's composition root: rasa-sdk's app with the project's
actions, answering only Rasa (DESIGN.md, Channels).

* It listens on ``ACTIONS_HOST`` (127.0.0.1 unless told otherwise: in a
  cluster spanning machines, the address the Rasa servers reach).
* Every call but ``/health`` must carry ``ACTION_SERVER_TOKEN``: Rasa sends
  it as the ``token`` query parameter from ``endpoints.yml``
  (``action_endpoint: token:``); ``Authorization: Bearer`` works too.
  Without it, or with a wrong one: 401, and the tracker in the body is
  never read.
* An action that fails answers 500 without echoing the request (rasa-sdk's
  own handler sends the whole tracker back).
* No access log: the URL carries the token.

Usage: python -m bot.action_server [--port 5055]
"""
from __future__ import annotations

import argparse
import gc
import hmac
import logging
import sys

from sanic import response
from sanic.request import Request
from selfpay import settings

TOKEN_ENV = "ACTION_SERVER_TOKEN"
OPEN_PATHS = ("/health",)

logger = logging.getLogger(__name__)


def token_ok(request: Request, expected: str) -> bool:
    given = request.args.get("token") or ""
    scheme, _, bearer = (request.headers.get("Authorization") or "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = bearer.strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def create_app(expected_token: str):
    from rasa_sdk.endpoint import create_app as sdk_app

    app = sdk_app("bot.actions", cors_origins=None)

    @app.on_request
    async def only_rasa(request: Request):
        if request.path in OPEN_PATHS:
            return None
        if not token_ok(request, expected_token):
            logger.warning("refused %s %s from %s: no or wrong action server token", request.method, request.path, request.ip)
            return response.json({"error": "this server answers only the assistant"}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception):
        logger.error("action call %s failed", request.path, exc_info=exception)
        status = getattr(exception, "status_code", 500)
        return response.json({"error": "the action could not be run"}, status=status if 400 <= status < 600 else 500)

    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=settings.ACTIONS_PORT)
    parser.add_argument("--host", default=settings.get("ACTIONS_HOST"))
    args = parser.parse_args(argv)
    token = settings.secret(TOKEN_ENV)
    if not token:
        print(f"{TOKEN_ENV} is not set: the action server would refuse every call", file=sys.stderr)
        return 2
    from rasa_sdk import utils

    from connectors import wiring

    wiring.install()  # the actions tell patients through billing's port
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = create_app(token)
    # what the actions loaded (the NLP rules, the billing core, SQLAlchemy's mappers) lives as long as the
    # server: frozen, a full garbage collection in the middle of a call no longer walks it (bot/rasa_main.py)
    gc.collect()
    gc.freeze()
    logger.info("action server on http://%s:%s (token required)", args.host, args.port)
    app.run(args.host, args.port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
