"""The approved scripts that are not Rasa responses (billing/scripts.yml):
what the channels, the notices and the desk say on their own, with each
client's overrides.  The one loader for them; the bot's responses stay in
bot/domain/ and are said through Rasa."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List

import yaml

from billing.contact import display_phone
from billing.ratelimit import MAX_MESSAGE_CHARS

SCRIPTS_FILE = Path(__file__).with_name("scripts.yml")


@functools.lru_cache(maxsize=1)
def scripts() -> Dict[str, List[dict]]:
    return yaml.safe_load(SCRIPTS_FILE.read_text())["scripts"]


def defined(name: str) -> bool:
    return name in scripts()


def script(name: str, client=None, **values) -> str:
    """The script's text for this client (a variation conditioned on
    client_id wins), filled in with the client's name and number."""
    variations = scripts()[name]
    chosen = [v for v in variations if any(c.get("name") == "client_id" and client is not None and c.get("value") == client.id
                                           for c in v.get("condition") or [])]
    plain = [v for v in variations if not v.get("condition")]
    text = (chosen or plain or variations)[0]["text"]
    if client is not None:
        values = {"client_name": client.name, "client_phone": display_phone(client.phone_number), **values}
    return text.format(**values)


def cut_note() -> str:
    """What a channel says before its answer to a message it cut to the cap."""
    return script("utter_channel_message_cut", limit=f"{MAX_MESSAGE_CHARS:,}")
