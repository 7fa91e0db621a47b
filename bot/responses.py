"""The approved scripts (the responses of the domain files in bot/domain/,
which Rasa merges), for code that picks a response by name; and how Rasa
picks the variation it says.

Rasa 3.6 picks at random among all the conditional variations whose
conditions hold, so a Spanish patient of a client with its own wording
would hear the client's English, the generic Spanish or the client's
Spanish by chance.  ``install`` makes Rasa's generator use the one rule of
billing.scripts.choose, as the channels' own scripts do: the variation in
the conversation's language, then the channel's, then the most specific.
An action may name the language of one message (``language="es"`` among
its values): the patient's record speaks at the very turn they are
verified."""
from __future__ import annotations

import copy
import functools
from typing import Any, Dict, Optional

import yaml

from billing.language import SPOKEN
from billing.scripts import choose
from selfpay.settings import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "bot" / "domain"


@functools.lru_cache(maxsize=1)
def responses() -> Dict[str, list]:
    merged: Dict[str, list] = {}
    for path in sorted(DOMAIN_DIR.rglob("*.yml")):
        merged.update((yaml.safe_load(path.read_text()) or {}).get("responses") or {})
    return merged


def defined(name: str) -> bool:
    return name in responses()


def generate_from_slots(self, utter_action: str, filled_slots: Dict[str, Any], output_channel: str,
                        **kwargs: Any) -> Optional[Dict[str, Any]]:
    """TemplatedNaturalLanguageGenerator.generate_from_slots, choosing the
    variation by billing.scripts.choose."""
    slots = dict(filled_slots or {})
    if kwargs.get("language") in SPOKEN:
        slots["language"] = kwargs["language"]
    chosen = choose(self.responses.get(utter_action) or [], slots, output_channel)
    if chosen is None:
        return None
    return self._fill_response(copy.deepcopy(chosen), filled_slots, **kwargs)


def install() -> None:
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    TemplatedNaturalLanguageGenerator.generate_from_slots = generate_from_slots
