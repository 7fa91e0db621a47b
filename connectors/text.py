"""What every patient-facing channel does to patient text before Rasa
sees it: card numbers out (billing.redaction, the one rule), and no
message may pose as an intent: Rasa reads a leading "/" as
"/intent{entities}", so patient text never starts with one."""
from __future__ import annotations

from billing.redaction import redact_card_numbers


def patient_text(text: str | None) -> str:
    cleaned, _count = redact_card_numbers((text or "").strip())
    while cleaned.startswith("/"):
        cleaned = cleaned[1:].lstrip()
    return cleaned
