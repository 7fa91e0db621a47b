"""Questions that need no account, and questions about our questions.

- ``definition_asked``: "what is a copay?", "whats an out of pocket
  maximum": the term, answered in general words before verification;
- ``general_question``: "do you offer payment plans?", "do you have a
  charity care program?": the client's terms, before verification;
- ``question_about_question``: "why do you need that?", "is this safe?",
  "where do I find it?" asked at a verification question: the reason,
  and the question again, at no attempt cost.

A question about this patient's own bill ("how much of MY bill is
deductible") is not general: it waits for verification.
"""
from __future__ import annotations

import re
from typing import Optional

_ASKING = r"(what('?s| is| are| does| do)?|whats|define|definition of|meaning of|explain|tell me what|is (a|an|the)|how does (a|an|the)?)"
TERMS = (
    ("out_of_pocket_max", r"out[- ]of[- ]pocket (max(imum)?|limit)|oop max"),
    ("coinsurance", r"co-?insurance"),
    ("copay", r"co-?pays?|co-?payments?"),
    ("deductible", r"deductibles?"),
    ("eob", r"\beobs?\b|explanation of benefits"),
    ("allowed_amount", r"allowed amount"),
    ("prior_authorization", r"prior auth(orization)?|pre-?authorization"),
    ("in_network", r"in[- ]network|out[- ]of[- ]network"),
)
_MINE = re.compile(r"\b(my|mine|i owe|i paid|me|our|i was|i got|did (my|the) insurance|on (my|this) (bill|account))\b", re.I)
_PLANS = re.compile(r"\b(do|does|can) (you|u|y'?all|ya|the hospital|riverside|lakeside)( guys)? (offer|have|do|allow|give|set up)\b.*\b(plans?|monthly payments?|installments?|payment arrangements?)\b|"
                    r"\bare (payment )?plans (available|an option)\b|\bis there (a|any) (payment )?plan\b", re.I)
_ASSISTANCE = re.compile(r"\b(do|does) (you|u|y'?all|the hospital)( guys)? (have|offer|do)\b.*\b(charity|financial (assistance|aid|help)|assistance|help paying|discount program|sliding scale)\b|"
                         r"\bis there (a|any) (charity|financial assistance|assistance) program\b", re.I)

_WHY = re.compile(r"^\W*(why|what for|how come)\W*$|\bwhy (do|would|should) (you|u|i)\b|\bwhat do you need (that|it|this|my \w+) for\b|\bwhy is that needed\b|"
                  r"\bwhat('?s| is) (that|it) for\b|\bwhy do you want\b", re.I)
_SAFE = re.compile(r"\b(is (this|it|that) (safe|secure|legit|real|a scam)|is my (info|information|data) safe|how do i know (this|you|it)|are you (legit|real|a scam)|scam)\b", re.I)
_WHERE = re.compile(r"\b(where (do|can|would) i (find|get|see)|where is (it|that|the account number)|i don'?t (have|know) (it|my account|the account)|"
                    r"what account number|which number)\b", re.I)


def definition_asked(text: str) -> Optional[str]:
    """The insurance term a general question asks about, or None."""
    text = text or ""
    if _MINE.search(text):
        return None
    for term, pattern in TERMS:
        if re.search(rf"\b{_ASKING}\b.*({pattern})|({pattern}).*\b(mean|means|meaning|stand for)\b|^\W*({pattern})\W*\?\W*$", text, re.I):
            if term == "eob" and not re.search(r"\b(bill|mean|what is|whats|what's)\b", text, re.I):
                return None
            return term
    return None


_WHAT_YOU_DO = re.compile(r"\bwhat (can|do|else can) (you|u) (help( me)? with|do( for me)?)\b|\bwhat are you able to\b|\bwhat can i ask\b|"
                          r"\bhow can (you|u) help\b|\bwhat (kind of )?(things|stuff) can you\b", re.I)


def general_question(text: str) -> Optional[str]:
    """'plans' or 'assistance' for a question about what the client offers,
    'capabilities' for "what can you help me with", or None."""
    text = text or ""
    if _WHAT_YOU_DO.search(text):
        return "capabilities"
    if _PLANS.search(text):
        return "plans"
    if _ASSISTANCE.search(text):
        return "assistance"
    return None


def question_about_question(text: str) -> Optional[str]:
    """'why', 'safe' or 'where' for a question asked back at a verification question, or None."""
    text = text or ""
    if any(ch.isdigit() for ch in text):
        return None
    if _SAFE.search(text):
        return "safe"
    if _WHERE.search(text):
        return "where"
    if _WHY.search(text):
        return "why"
    return None
