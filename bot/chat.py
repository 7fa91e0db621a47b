"""Talk to the running assistant from a terminal, as a patient would
over the REST channel.  Usage: python -m bot.chat [--client lakeside]"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid

from selfpay.settings import RASA_PORT, environment


def send(url: str, sender: str, text: str, client: str) -> list[dict]:
    body = json.dumps({"sender": sender, "message": text, "metadata": {"client": client}}).encode()
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {environment()['REST_CHANNEL_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"[]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", default="riverside", help="client health system (riverside or lakeside)")
    parser.add_argument("--url", default=f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook")
    args = parser.parse_args()
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print(f"Talking to the {args.client} assistant as {sender}. Type /quit to leave.")
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if text in ("/quit", "/exit"):
            return 0
        if not text:
            continue
        try:
            replies = send(args.url, sender, text, args.client)
        except urllib.error.URLError as exc:
            print(f"cannot reach the assistant at {args.url} ({exc.reason}); is `make run` running?", file=sys.stderr)
            return 1
        for reply in replies:
            print(f"bot> {reply.get('text', '')}")


if __name__ == "__main__":
    sys.exit(main())
