"""Reading a dispute: why the patient disputes a charge, and which of the
account's charges (service lines) they mean."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from bot.nlp.scan import scan

# the reasons in the order the question numbers them (utter_ask_dispute_reason)
REASONS = ("duplicate", "not_received", "amount_wrong", "insurance_should_pay", "quality_of_care")
REASON_WORDS = (
    ("duplicate", re.compile(r"\b(duplicate|duplicated|twice|two times|double|billed (me )?again|same (test|thing|charge))\b", re.I)),
    ("not_received", re.compile(r"\b(never (had|got|received|did)|didn'?t (have|get|receive)|did not (have|get|receive)|not (done|received)|wasn'?t done)\b", re.I)),
    ("insurance_should_pay", re.compile(r"\b(insurance|insurer|my plan|coverage) (should|was supposed|needs? to|has to)\b|\bshould (be|have been) covered\b", re.I)),
    ("amount_wrong", re.compile(r"\b(too (much|high)|overcharged|wrong (amount|price)|amount is wrong|costs? too)\b", re.I)),
    ("quality_of_care", re.compile(r"\b(quality|bad care|poor care|treated badly|rude|mistake in my care|malpractice)\b", re.I)),
)
# how patients name a kind of visit
VISIT_WORDS = {
    "lab": re.compile(r"\b(lab|labs|lab work|blood ?work|blood test)\b", re.I),
    "emergency": re.compile(r"\b(er|e\.r\.|emergency)\b", re.I),
    "inpatient": re.compile(r"\b(hospital stay|stayed|admitted|inpatient)\b", re.I),
    "outpatient_surgery": re.compile(r"\b(surgery|operation|procedure)\b", re.I),
}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")


def dispute_reason(text: str) -> Optional[str]:
    text = str(text or "")
    stripped = text.strip().lower()
    if stripped.isdigit() and 1 <= int(stripped) <= len(REASON_WORDS):
        return REASONS[int(stripped) - 1]
    if stripped in REASONS:
        return stripped
    for reason, words in REASON_WORDS:
        if words.search(text):
            return reason
    return None


def pick_line(text: str, lines: Sequence) -> Optional[object]:
    """The service line a patient means: its number in the list, its date,
    or words of its description.  Identical lines (a duplicate) resolve to
    the later one: that is the charge being disputed."""
    text = str(text or "").strip().lower()
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= len(lines):
        return lines[int(text) - 1]
    candidates: List = list(lines)
    dates = [f.value for f in scan(text) if f.label == "date"]
    if dates:
        on = [line for line in candidates if line.encounter.date_of_service.isoformat() in dates]
        if on:
            candidates = on
    visits = [kind for kind, words in VISIT_WORDS.items() if words.search(text)]
    if visits:
        of_kind = [line for line in candidates if line.encounter.kind in visits]
        if of_kind:
            candidates = of_kind
    words = [w for w in re.findall(r"[a-z]{4,}", text)
             if w not in MONTHS and w not in ("charge", "charged", "that", "this", "test", "billed", "twice", "work", "bill", "from")]
    if words:
        scored = [(sum(w in line.description.lower() for w in words), line) for line in candidates]
        best = max(score for score, _ in scored)
        if best > 0:
            candidates = [line for score, line in scored if score == best]
        elif not dates and not visits:
            return None
    elif not dates and not visits:
        return None
    same = {(line.description, line.charge, line.encounter.date_of_service) for line in candidates}
    if len(same) == 1:
        return candidates[-1]
    return None
