"""python -m desk [--port N]: serve the web service."""
from __future__ import annotations

import argparse
import logging

from selfpay.settings import DESK_PORT
from desk.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="desk")
    parser.add_argument("--port", type=int, default=DESK_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    create_app().run(host=args.host, port=args.port, access_log=True)


if __name__ == "__main__":
    main()
