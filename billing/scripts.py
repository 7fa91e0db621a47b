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


def script(name: str, client=None, *, language: str = "en", **values) -> str:
    """The script's text for this client in this language: a variation
    conditioned on the client (and the language) wins, then one for the
    language, then the plain one; filled in with the client's name and number.
    A variation for a language has ``{type: slot, name: language, value: es}``."""
    variations = scripts()[name]

    def says(variation, slot: str, value) -> bool:
        return any(c.get("name") == slot and value is not None and c.get("value") == value
                   for c in variation.get("condition") or [])

    def fits(variation) -> bool:
        """No condition that names another client or another language."""
        for c in variation.get("condition") or []:
            if c.get("name") == "client_id" and (client is None or c.get("value") != client.id):
                return False
            if c.get("name") == "language" and c.get("value") != language:
                return False
        return True

    client_id = client.id if client is not None else None
    ranked = sorted((v for v in variations if fits(v)),
                    key=lambda v: (not says(v, "client_id", client_id), not says(v, "language", language)))
    text = (ranked or variations)[0]["text"]
    if client is not None:
        values = {"client_name": client.name, "client_phone": display_phone(client.phone_number), **values}
    return text.format(**values)


def cut_note() -> str:
    """What a channel says before its answer to a message it cut to the cap."""
    return script("utter_channel_message_cut", limit=f"{MAX_MESSAGE_CHARS:,}")
