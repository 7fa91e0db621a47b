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
* The domain is its own: Rasa sends none (``enable_selective_domain`` in
  endpoints.yml), since the whole domain, every approved script in both
  languages (about 90 kB), went with every call, several a turn, to be
  encoded, sent and parsed again; the forms' validators read their
  required slots from this server's load of ``bot/domain``, the files the
  model is trained from (tests/unit/test_action_domain.py holds the two
  equal).  A call that carries a domain (an action marked ``send_domain``)
  keeps its own.

Usage: python -m bot.action_server [--port 5055]
"""
from __future__ import annotations

import argparse
import gc
import hmac
import logging
import sys
from functools import lru_cache
from typing import Any, Dict

from rasa_sdk.executor import ActionExecutor
from sanic import response
from sanic.request import Request
from selfpay import settings

TOKEN_ENV = "ACTION_SERVER_TOKEN"
DOMAIN_DIR = settings.PROJECT_ROOT / "bot" / "domain"
_SDK_RUN = ActionExecutor.run
OPEN_PATHS = ("/health",)

logger = logging.getLogger(__name__)


def token_ok(request: Request, expected: str) -> bool:
    given = request.args.get("token") or ""
    scheme, _, bearer = (request.headers.get("Authorization") or "").partition(" ")
    if not given and scheme.lower() == "bearer":
        given = bearer.strip()
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@lru_cache(maxsize=1)
def local_domain() -> Dict[str, Any]:
    """The domain as Rasa would send it (``Domain.as_dict``), read once from the files the model is trained from."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(DOMAIN_DIR)).as_dict()


async def run_with_local_domain(self: ActionExecutor, action_call: Dict[str, Any]):
    """rasa-sdk's ActionExecutor.run, given this server's domain when the call carries none."""
    if isinstance(action_call, dict) and "domain" not in action_call:
        action_call = {**action_call, "domain": local_domain()}
    return await _SDK_RUN(self, action_call)


def create_app(expected_token: str):
    from rasa_sdk.endpoint import create_app as sdk_app

    ActionExecutor.run = run_with_local_domain
    local_domain()  # read at start, not on the first call
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
