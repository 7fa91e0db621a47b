"""The approved scripts that are not Rasa responses (billing/scripts.yml):
what the channels, the notices and the desk say on their own, with each
client's overrides.  The one loader for them; the bot's responses stay in
bot/domain/ and are said through Rasa."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from billing.contact import display_phone
from billing.language import DEFAULT, spoken
from billing.ratelimit import MAX_MESSAGE_CHARS

SCRIPTS_FILE = Path(__file__).with_name("scripts.yml")


@functools.lru_cache(maxsize=1)
def scripts() -> Dict[str, List[dict]]:
    return yaml.safe_load(SCRIPTS_FILE.read_text())["scripts"]


def defined(name: str) -> bool:
    return name in scripts()


def choose(variations: List[dict], slots: Mapping[str, Any], channel: Optional[str] = None) -> Optional[dict]:
    """The one rule for which variation of a script or response is said
    (billing/scripts.yml here; the bot's responses through Rasa, see
    bot/responses.py): of the variations whose conditions all hold (a
    ``{type: slot, name, value}`` condition holds when the slot has that
    value; a ``channel`` one when it is the output channel), the one in the
    conversation's language wins, then one for this channel, then the most
    specific (most conditions), then the first written.  A variation with no
    language condition is in the default language (English): it is what a
    language without its own variation hears."""
    language = slots.get("language") or DEFAULT

    def holds(variation) -> bool:
        if variation.get("channel") and variation["channel"] != channel:
            return False
        return all(slots.get(c.get("name")) == c.get("value") for c in variation.get("condition") or []
                   if c.get("type", "slot") == "slot")

    def in_language(variation) -> bool:
        named = [c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"]
        return (named[0] if named else DEFAULT) == language

    fitting = [(index, v) for index, v in enumerate(variations) if holds(v)]
    if not fitting:
        return None
    ranked = sorted(fitting, key=lambda item: (not in_language(item[1]), not item[1].get("channel"),
                                               -len(item[1].get("condition") or []), item[0]))
    return ranked[0][1]


def script(name: str, client=None, *, language: str = DEFAULT, **values) -> str:
    """The script's text for this client in this language (``choose``),
    filled in with the client's name and number.  A variation for a
    language has ``{type: slot, name: language, value: es}``; one for a
    client ``{type: slot, name: client_id, value: <id>}``."""
    variations = scripts()[name]
    slots = {"language": spoken(language), "client_id": client.id if client is not None else None}
    text = (choose(variations, slots) or variations[0])["text"]
    if client is not None:
        values = {"client_name": client.name, "client_phone": display_phone(client.phone_number), **values}
    return text.format(**values)


def cut_note(language: str = DEFAULT) -> str:
    """What a channel says before its answer to a message it cut to the cap."""
    return script("utter_channel_message_cut", language=language, limit=f"{MAX_MESSAGE_CHARS:,}")
