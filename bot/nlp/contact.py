"""Reading which contact detail a patient wants to change."""
from __future__ import annotations

import re
from typing import Optional

FIELD_WORDS = (
    ("email", re.compile(r"\b(e-?mail|email address)\b|@", re.I)),
    ("phone", re.compile(r"\b(phone|cell|mobile|number to (call|reach|text)|telephone|call me at|text me at|new (phone )?number|new #|ph#|my #)(?!\w)|"
                         r"\bnew\s*#", re.I)),
    ("address", re.compile(r"\b(address|moved|moving|new place|mailing|live at|street|apartment|zip)\b", re.I)),
    ("name", re.compile(r"\b(name|married|divorced|last name|maiden)\b", re.I)),
)


def contact_field(text: str) -> Optional[str]:
    for field, words in FIELD_WORDS:
        if words.search(text or ""):
            return field
    return None
