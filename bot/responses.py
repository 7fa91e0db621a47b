"""The approved scripts (bot/domain.yml responses), for code that picks a
response by name or says one outside Rasa (the channels)."""
from __future__ import annotations

import functools
from typing import Dict

import yaml

from selfpay.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "bot" / "domain.yml"


@functools.lru_cache(maxsize=1)
def responses() -> Dict[str, list]:
    return yaml.safe_load(DOMAIN_FILE.read_text())["responses"]


def defined(name: str) -> bool:
    return name in responses()
