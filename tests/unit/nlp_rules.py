"""What the spaCy rules tests share: the day they read dates against and a
reader of one entity's values (the pipeline itself is the `nlp` fixture in
conftest.py)."""
import datetime as dt

TODAY = dt.date(2026, 11, 27)  # a Friday


def values(nlp, text, label):
    from bot.nlp.pipeline import extract

    return [e["value"] for e in extract(text, nlp) if e["entity"] == label]
