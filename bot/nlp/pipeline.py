"""The spaCy pipeline: blank English, an entity ruler with the payers of
``bot.nlp.payers`` and the patterns shipped in ``patterns/`` (departments),
and the value rules of
``bot.nlp.scan`` (dates, amounts, account numbers ...).  Every entity
carries its normalised value in ``span._.value``."""
from typing import List, Optional

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from bot.nlp import payers
from bot.nlp.scan import scan

PATTERNS_DIR = Path(__file__).resolve().parent / "patterns"

if not Span.has_extension("value"):
    Span.set_extension("value", default=None)


class ValueRules:
    """Adds the rule-found numeric entities to ``doc.ents`` with values."""

    def __init__(self, today: Optional[dt.date] = None):
        self.today = today

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for span in doc.ents:  # from the entity ruler: value from the pattern id
            span._.value = span.ent_id_ if span.ent_id_ and span.ent_id_ != "__text__" else span.text.title()
            spans.append(span)
        for found in scan(doc.text, self.today):
            span = doc.char_span(found.start, found.end, label=found.label, alignment_mode="expand")
            if span is None:
                continue
            span._.value = found.value
            spans.append(span)
        kept = filter_spans(spans)
        values = {(s.start_char, s.end_char): s._.value for s in kept}
        doc.ents = kept
        for ent in doc.ents:
            ent._.value = values.get((ent.start_char, ent.end_char))
        return doc


@Language.factory("selfpay_values")
def _make_value_rules(nlp: Language, name: str) -> ValueRules:
    return ValueRules()


def load_patterns() -> List[dict]:
    patterns = payers.patterns()
    for path in sorted(PATTERNS_DIR.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                patterns.append(json.loads(line))
    return patterns


def build() -> Language:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(load_patterns())
    nlp.add_pipe("selfpay_values")
    return nlp


@lru_cache(maxsize=1)
def shared() -> Language:
    return build()


def extract(text: str, nlp: Optional[Language] = None) -> List[dict]:
    """Entities of ``text`` as Rasa wants them: entity, value, start, end."""
    doc = (nlp or shared())(text)
    return [
        {"entity": ent.label_, "value": ent._.value, "start": ent.start_char, "end": ent.end_char, "text": ent.text}
        for ent in doc.ents
    ]
