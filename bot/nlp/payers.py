"""The payers patients name, one list: the entity ruler's `payer`
patterns (bot.nlp.pipeline) and the payer named in passing in a request
("my insurance changed, it's now aetna") both come from it."""
from __future__ import annotations

import re
from typing import List, Optional

# (the payer's name, the ways patients say it: lower case, words apart)
PAYERS = (
    ("Blue Cross Blue Shield", (
        "blue cross", "blue cross blue shield", "blue cross and blue shield", "blue cross blue", "blue cross shield",
        "blue cross and shield", "blue cross blue shield of illinois", "blue cross and blue shield of illinois",
        "blue cross of illinois", "bcbs", "bluecross", "bcbsil")),
    ("UnitedHealthcare", (
        "unitedhealthcare", "united healthcare", "united health care", "unitedhealth", "unitedhealth care", "united health",
        "united health group", "united healthcare group", "uhc")),
    ("Aetna", ("aetna", "etna")),
    ("Cigna", ("cigna", "signa")),
    ("Humana", ("humana",)),
    ("Kaiser Permanente", ("kaiser", "kaiser permanente")),
    ("Medicare", ("medicare",)),
    ("Medicaid", ("medicaid",)),
    ("Anthem", ("anthem",)),
    ("Tricare", ("tricare",)),
    ("Molina", ("molina",)),
    ("Ambetter", ("ambetter",)),
    ("Oscar", ("oscar",)),
    ("WellCare", ("wellcare", "well care")),
    ("Highmark", ("highmark",)),
    ("Centene", ("centene",)),
    ("CareSource", ("caresource",)),
    ("Amerigroup", ("amerigroup",)),
    ("Peach State", ("peachstate", "peach state")),
)

_NAMED = [(name, re.compile(r"\b(" + "|".join(r"\s+".join(map(re.escape, v.split())) for v in sorted(variants, key=len, reverse=True))
                            + r")\b", re.I))
          for name, variants in PAYERS]


def patterns() -> List[dict]:
    """The entity ruler's patterns: every way of saying a payer, its name as the id."""
    return [{"label": "payer", "pattern": [{"LOWER": word} for word in variant.split()], "id": name}
            for name, variants in PAYERS for variant in variants]


def named_payer(text: str) -> Optional[str]:
    """The first payer of the list that ``text`` names, or None."""
    for name, words in _NAMED:
        if words.search(text or ""):
            return name
    return None
