"""The request inside a message, found by its words when they are plain:
a person asked for ("just put me through to an actual human"), hardship
("I lost my job and can't afford this"), and, in a long message, a
dispute or a plan.  The classifier reads short messages well; a long,
angry or rambling one buries the request in feelings and history, and a
plain ask for a person must be handed off the first time, however it is
wrapped.  bot.nlp.component applies it after the classifier."""
from __future__ import annotations

import re
from typing import Optional

from bot.nlp.general import question_about_question

PERSON = re.compile(
    r"\b(talk|speak|chat)\w*\s+(to|with)\s+(a |an |some |someone |somebody )?(real |live |actual |human )?(person|human|someone|somebody|sombody|somone|some one|agent|rep|representative|operator)\b|"
    r"\b(put|transfer|connect|send)\s+me\s+(through\s+)?(to|with)\s+(a |an )?(real |live |actual )?(person|human|someone|somebody|agent|rep|representative|operator|billing)\b|"
    r"\bget me (a |an )?(real |live |actual )?(person|human|someone|somebody|agent|rep|representative)\b|"
    r"\b(human being|real person|live person|live agent|actual person|actual human)\b|"
    r"^\W*(agent|human|operator|representative|rep|person)\W*(pls|please|plz|now)?\W*$|\brep (pls|please|plz)\b",
    re.I)
NOT_PERSON = re.compile(r"\b(don'?t|do not|no need to|never|not)\s+(want|need|have)?\s*(to\s+)?(talk|speak)", re.I)
# "is this a real human being?", "are you a live agent?", "real person or bot": a question about
# what answers (bot_challenge), not an ask for one, unless it also asks ("is there a person I can talk to")
ABOUT_THE_BOT = re.compile(
    r"^\W*((wait|hold on|so|um|uh|ok|hey|hi|hello)\W+)*(are|r|is|am|was)\s+(you|u|this|that|there|it|i|someone|somebody|anybody|anyone|a|an)\b|"
    r"\b(person|human|human being|agent|people)\s+or\s+(a |an )?(bot|robot|machine|computer|automated|ai|program|recording)\b|"
    r"\b(bot|robot|machine|computer|automated|ai|program|recording)\s+or\s+(a |an )?(real |live |actual )?(person|human|agent)\b",
    re.I)
ASKS = re.compile(r"\b(talk|speak|chat|transfer|connect|put me|get me|want|need|give me|let me|can i have)\b", re.I)
HARDSHIP = re.compile(
    r"\b(lost my job|laid off|unemployed|out of work|can'?t afford|cannot afford|can not afford|couldn'?t afford|"
    r"no way (i|we) can (pay|afford)|drowning in|on disability|fixed income|struggling to pay|(hours|pay) (got|was|were) cut|"
    r"don'?t have (any )?(money|insurance)|no insurance|uninsured|can'?t pay (this|it|that|any of)|cannot pay (this|it|that|any of)|"
    r"single mom|hardship)\b", re.I)
AT_ONCE = re.compile(r"\b(all at once|at once|in one (go|payment)|in full|all at one time)\b", re.I)
# "actually do 120", "make it 75 instead": a change to what was just read back, never a greeting or a question about the bot
CORRECTION = re.compile(r"^\W*(actually|wait|no|nope|make (it|that)|change (it|that)( to)?|instead|rather|oh)\b.*\d|\d.*\binstead\W*$", re.I)
_NOT_A_CORRECTION = {"bot_challenge", "greet", "goodbye", "thank_you", "opt_out", "wrong_number", "human_handoff"}
DISPUTE = re.compile(r"\b((charged|billed) (me )?(twice|two times|double)|same .{0,30}\b(twice|two times)|not my bill|isn'?t my bill|"
                     r"never (got|received|had|went)|mistake on (my|the) bill|overcharged|wrong charge|didn'?t (get|receive|have) (that|this|it))\b", re.I)
PLAN = re.compile(r"\b(payment plan|pay (it )?(off )?(a little|bit by bit|over time|in installments|monthly)|a little at a time|monthly payments|"
                  r"installments|payment arrangements?)\b", re.I)
LONG = 25  # words: a message this long is read for its request

# what a question asked back at a verification question is not
_NOT_A_QUESTION = {"wrong_number", "deny", "goodbye", "opt_out"}
# what the classifier may say that the finder leaves alone
_KEEP_FOR_HARDSHIP = {"payment_plan", "change_payment_plan", "financial_assistance", "human_handoff", "dispute_charge", "opt_out", "wrong_number"}


def request_in(text: str, intent: Optional[str]) -> Optional[str]:
    """The intent the words plainly ask for, when it differs from the
    classifier's ``intent``; None to keep the classifier's."""
    text = text or ""
    found = None
    if intent in _NOT_A_CORRECTION and CORRECTION.search(text):
        found = "inform"  # answered as a change to the read-back (bot/actions/confirm.py) or a fallback
    elif intent in _NOT_A_QUESTION and question_about_question(text) is not None:
        found = "inform"  # "is this safe? how do I know this is really the hospital" is not a wrong number
    elif PERSON.search(text) and not NOT_PERSON.search(text) and not (ABOUT_THE_BOT.search(text) and not ASKS.search(text)):
        found = "human_handoff"
    elif len(text.split()) >= 3 and HARDSHIP.search(text) and intent not in _KEEP_FOR_HARDSHIP and not (AT_ONCE.search(text) and not re.search(r"afford", text, re.I)):
        found = "financial_assistance"
    elif len(text.split()) >= LONG:
        if DISPUTE.search(text):
            found = "dispute_charge"
        elif PLAN.search(text):
            found = "payment_plan"
    return found if found != intent else None


def says_hardship(text: str) -> bool:
    """Can't pay (not "can't pay it all at once"): assistance comes first."""
    text = text or ""
    return bool(HARDSHIP.search(text)) and not (AT_ONCE.search(text) and not re.search(r"afford", text, re.I))
