"""The approved scripts (the responses of the domain files in bot/domain/,
which Rasa merges), for code that picks a response by name."""
from __future__ import annotations

import functools
from typing import Dict

import yaml

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
