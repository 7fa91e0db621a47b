"""python -m desk [--port N]: serve the web service.  The desk's
composition root: it installs the notification senders (connectors) in
billing's port before serving."""
from __future__ import annotations

import argparse
import logging

from selfpay.settings import DESK_PORT
from connectors import wiring
from desk.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="desk")
    parser.add_argument("--port", type=int, default=DESK_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    wiring.install()
    create_app().run(host=args.host, port=args.port, access_log=True)


if __name__ == "__main__":
    main()
