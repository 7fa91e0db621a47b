"""The corpus of whole patient conversations (tests/conversations/*.yml),
played against the real servers, and what it measures.

A corpus file::

    capability: plans          # the default for its conversations
    client: riverside
    conversations:
      - id: plans-counter-offer-yes
        goal: a plan at what she can afford, after a counter-offer
        turns:
          - "need a payment plan"                      # a patient message
          - say: "3/3/85 acct 40012345"
            reply: ["412\\.50"]                         # each pattern is in the bot's answer to it
            not: ["didn't understand"]                  # none of these is
          - say: "ok yes"
            reply: ["set up", "first payment"]
        account:                                        # the desk API's account, after the conversation
          "40012345": {plan: true, balance: "412.50", payments: 0}
        handoff: "plan"                                 # a handoff of this conversation whose summary says this
        sms: {from: "+15550101008", to: "+15550100200"} # optional: played as texts through the signed Twilio
                                                        # SMS webhook from that number, not over the REST channel

Task success: every check of the conversation holds.  Every bot turn is
also checked for a next step (a question, or what the patient can say or
do next); a turn that ends a conversation (goodbye, an opt-out, a partner
taking over) needs none.  Fallbacks are the "didn't understand" answers.

Each conversation starts from the demo data: the billing database is
restored (SQLite's backup API) from a freshly seeded copy first.

Usage: python -m tests.conversations.runner [--only ID_OR_CAPABILITY_OR_FILE] [--verbose]
(``--only es`` plays the conversations of es.yml.)
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import yaml

CORPUS = Path(__file__).resolve().parent
TARGET_SUCCESS = 0.95

# each in English and Spanish (the assistant answers in the conversation's language)
FALLBACK = re.compile(r"didn't understand|no le entendí", re.I)
# what counts as offering the patient a next step
NEXT_STEP = re.compile(
    r"\?|\b(just )?(say|tell me|ask me|ask for|reply|call|text|key in|press|let me know)\b|connecting you|goodbye|"
    r"will (call|text|email|contact) you|a partner will|partner (has|is)|secure payment page|payment page|"
    r"\bwhen you're ready\b|take care|\bjust ask\b|if you( would|'d)? like|"
    r"\b(diga|dígame|llame|llámenos|responda|oprima|pídame|pregunte)\b|le (estoy )?comunic|adiós|página de pago",
    re.I,
)
# turns that end the conversation need no next step
ENDING = re.compile(r"goodbye|connecting you|partner|opted out|won't (text|call|contact)|no more (texts|messages)|unsubscribed|"
                    r"meant for someone else, please ignore it|"
                    r"adiós|le estoy comunicando|representante|ya no recibirá|canceló los mensajes|ignórelo", re.I)


@dataclass
class Turn:
    say: str
    reply: List[str] = field(default_factory=list)
    not_: List[str] = field(default_factory=list)


@dataclass
class Conversation:
    id: str
    goal: str
    capability: str
    client: str
    turns: List[Turn]
    account: Dict[str, dict]
    handoff: Optional[str]
    fast: bool
    file: str
    sms: Optional[Dict[str, str]] = None


@dataclass
class Result:
    conversation: Conversation
    problems: List[str]
    turns: int
    no_next_step: List[str]
    fallbacks: int
    transcript: List[tuple]

    @property
    def success(self) -> bool:
        return not self.problems


def load(paths: Optional[Iterable[Path]] = None) -> List[Conversation]:
    conversations, seen = [], set()
    for path in sorted(paths or CORPUS.glob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for raw in data.get("conversations") or []:
            turns = []
            for t in raw["turns"]:
                if isinstance(t, str):
                    turns.append(Turn(t))
                else:
                    turns.append(Turn(str(t["say"]), list(t.get("reply") or []), list(t.get("not") or [])))
            conv = Conversation(
                id=raw["id"], goal=raw.get("goal", ""), capability=raw.get("capability") or data.get("capability", path.stem),
                client=raw.get("client") or data.get("client", "riverside"), turns=turns,
                account={str(k): v for k, v in (raw.get("account") or {}).items()}, handoff=raw.get("handoff"),
                fast=bool(raw.get("fast")), file=path.name, sms=raw.get("sms"),
            )
            if conv.id in seen:
                raise ValueError(f"{path.name}: conversation id {conv.id} is used twice")
            seen.add(conv.id)
            conversations.append(conv)
    return conversations


def pristine_database(directory: Path) -> Path:
    """A billing database freshly loaded with the demo data."""
    from billing import db, seed
    from tests.conftest import DEMO_FILE

    path = directory / "pristine.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as session:
        seed.load(session, DEMO_FILE)
    return path


def restore(assistant, pristine: Path) -> None:
    """The servers' billing database back to the demo data (in place, so
    their open connections see it)."""
    live = assistant.database.split("///", 1)[1]
    with sqlite3.connect(pristine) as source, sqlite3.connect(live, timeout=30) as target:
        source.backup(target)


class Desk:
    def __init__(self, assistant):
        from tests.integration.helpers import login

        self.assistant = assistant
        self.login = lambda: login(assistant, "sam", "sam-demo-pass")
        self.token = None

    def get(self, path):
        """(status, body); signs in again when the token is gone (a restore drops desk sessions)."""
        from tests.integration.helpers import call

        self.token = self.token or self.login()
        status, body, _ = call(self.assistant, "GET", path, token=self.token)
        if status == 401:
            self.token = self.login()
            status, body, _ = call(self.assistant, "GET", path, token=self.token)
        return status, body


def _check_account(desk: Desk, number: str, want: dict) -> List[str]:
    status, account = desk.get(f"/api/accounts/{number}")
    if status != 200:
        return [f"account {number}: desk answered {status}"]
    problems = []
    if "balance" in want and Decimal(str(account["balance"])) != Decimal(str(want["balance"])):
        problems.append(f"account {number}: balance {account['balance']}, wanted {want['balance']}")
    if "plan" in want:
        plan = account.get("payment_plan")
        has = bool(plan) and str(plan.get("status", "active")).lower() not in ("cancelled", "canceled", "defaulted", "completed")
        if isinstance(want["plan"], bool) and has != want["plan"]:
            problems.append(f"account {number}: payment plan {'set up' if has else 'missing'}, wanted {'one' if want['plan'] else 'none'}")
        elif isinstance(want["plan"], dict) and plan:
            for key, value in want["plan"].items():
                if str(plan.get(key)) != str(value) and not (_is_number(plan.get(key)) and Decimal(str(plan.get(key))) == Decimal(str(value))):
                    problems.append(f"account {number}: plan {key} {plan.get(key)}, wanted {value}")
        elif isinstance(want["plan"], dict):
            problems.append(f"account {number}: no payment plan, wanted {want['plan']}")
    if "payments" in want:
        posted = [p for p in account.get("payments") or [] if str(p.get("status", "")).lower() in ("posted", "approved", "succeeded", "scheduled")]
        if len(posted) != int(want["payments"]):
            problems.append(f"account {number}: {len(posted)} payments, wanted {want['payments']}")
    if "disputes" in want:
        n = len(account.get("disputes") or [])
        if n != int(want["disputes"]):
            problems.append(f"account {number}: {n} disputes, wanted {want['disputes']}")
    if "assistance" in want:
        n = len(account.get("assistance_applications") or [])
        if n != int(want["assistance"]):
            problems.append(f"account {number}: {n} assistance applications, wanted {want['assistance']}")
    return problems


def _is_number(value) -> bool:
    try:
        Decimal(str(value))
        return True
    except Exception:
        return False


def play(assistant, conv: Conversation, desk: Optional[Desk] = None) -> Result:
    sender = f"corpus-{conv.id}-{assistant.new_sender()[3:]}"
    problems: List[str] = []
    no_next: List[str] = []
    fallbacks = 0
    transcript = []
    ended = False
    for number, turn in enumerate(conv.turns, 1):
        try:
            replies = _texted(assistant, conv.sms, turn.say) if conv.sms else assistant.say(sender, turn.say, client=conv.client)
        except Exception as error:  # a server error is a failed conversation, not a crashed run
            problems.append(f"turn {number}: {turn.say!r} -> {type(error).__name__}: {error}")
            break
        text = " ".join(replies)
        transcript.append((turn.say, text))
        fallbacks += len(FALLBACK.findall(text))
        for pattern in turn.reply:
            if not re.search(pattern, text, re.I):
                problems.append(f"turn {number}: {turn.say!r} -> wanted /{pattern}/, got: {text[:300]!r}")
        for pattern in turn.not_:
            if re.search(pattern, text, re.I):
                problems.append(f"turn {number}: {turn.say!r} -> must not say /{pattern}/, got: {text[:300]!r}")
        if text and ENDING.search(text):
            ended = True
        elif text and not NEXT_STEP.search(replies[-1] if replies else text) and not NEXT_STEP.search(text):
            no_next.append(f"turn {number}: {turn.say!r} -> {text[:200]!r}")
        elif not text and not ended:
            no_next.append(f"turn {number}: {turn.say!r} -> (no answer)")
    if conv.account or conv.handoff:
        desk = desk or Desk(assistant)
        for account_number, want in conv.account.items():
            problems += _check_account(desk, account_number, want)
        if conv.handoff:
            status, body = desk.get("/api/handoffs")
            mine = [h for h in ((body.get("handoffs") if isinstance(body, dict) else None) or []) if str(h.get("conversation_id", "")).endswith(sender)]
            if not mine:
                problems.append("no handoff of this conversation")
            elif conv.handoff is not True and not any(re.search(str(conv.handoff), h.get("summary") or "", re.I) for h in mine):
                problems.append(f"handoff summary lacks /{conv.handoff}/: {[h.get('summary') for h in mine]}")
    return Result(conv, problems, len(conv.turns), no_next, fallbacks, transcript)


def _texted(assistant, numbers: Dict[str, str], body: str) -> List[str]:
    """A text to the SMS webhook, signed as Twilio signs it; the texts sent back."""
    import html
    import uuid

    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC00000000000000000000000000000000",
              "From": numbers["from"], "To": numbers["to"], "Body": body, "NumMedia": "0"}
    status, twiml = assistant.twilio("/webhooks/twilio_sms/webhook", params)
    if status != 200:
        raise RuntimeError(f"the SMS webhook answered {status}: {twiml[:200]}")
    return [html.unescape(m) for m in re.findall(r"<Message>(.*?)</Message>", twiml, re.S)]


def run(assistant, conversations: List[Conversation], pristine: Path, verbose: bool = False, log=print) -> List[Result]:
    desk = Desk(assistant)
    results = []
    for conv in conversations:
        restore(assistant, pristine)
        result = play(assistant, conv, desk)
        results.append(result)
        if verbose or not result.success:
            log(f"{'ok  ' if result.success else 'FAIL'} {conv.id} ({conv.capability}): {conv.goal}")
            for problem in result.problems:
                log(f"       {problem}")
        if verbose and result.no_next_step:
            for line in result.no_next_step:
                log(f"       no next step: {line}")
    return results


def figures(results: List[Result]) -> dict:
    by_cap: Dict[str, List[Result]] = defaultdict(list)
    for r in results:
        by_cap[r.conversation.capability].append(r)
    bot_turns = sum(r.turns for r in results)
    return {
        "conversations": len(results),
        "task_success": sum(r.success for r in results) / max(1, len(results)),
        "per_capability": {cap: {"conversations": len(rs), "succeeded": sum(r.success for r in rs)} for cap, rs in sorted(by_cap.items())},
        "turns": bot_turns,
        "turns_without_next_step": sum(len(r.no_next_step) for r in results),
        "fallbacks": sum(r.fallbacks for r in results),
        "failed": [r.conversation.id for r in results if not r.success],
    }


def report(results: List[Result], log=print) -> bool:
    f = figures(results)
    log(f"Conversation corpus: {f['conversations']} conversations, {f['turns']} patient turns")
    log(f"  task success            {f['task_success']:.1%}  (target >= {TARGET_SUCCESS:.0%})")
    for cap, c in f["per_capability"].items():
        log(f"    {cap:<12} {c['succeeded']:>3}/{c['conversations']:<3} {c['succeeded'] / c['conversations']:.0%}")
    log(f"  turns without a next step {f['turns_without_next_step']}  (target 0)")
    log(f"  fallbacks               {f['fallbacks']}")
    met = f["task_success"] >= TARGET_SUCCESS and f["turns_without_next_step"] == 0
    log("  corpus targets " + ("met" if met else "NOT met"))
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the figures and failures here")
    args = parser.parse_args()
    from tests.servers import NotStarted, fake_smtp_server, fake_twilio_api, running_assistant

    conversations = [c for c in load() if not args.only or c.id in args.only or c.capability in args.only
                     or c.file[:-len(".yml")] in args.only]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp, fake_twilio_api() as twilio, fake_smtp_server() as smtp:
        tmp = Path(tmp)
        pristine = pristine_database(tmp)
        (tmp / "var").mkdir()
        try:
            with running_assistant(tmp / "var", twilio.url, smtp.server_address[1]) as assistant:
                results = run(assistant, conversations, pristine, verbose=args.verbose)
        except NotStarted as problem:
            print(problem, file=sys.stderr)
            return 2
    print(f"(played in {time.monotonic() - started:.0f} s)")
    report(results)
    out = args.json or (CORPUS.parent.parent / "results" / "conversations.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**figures(results), "problems": {r.conversation.id: r.problems + [f"no next step: {n}" for n in r.no_next_step]
                                                                 for r in results if r.problems or r.no_next_step}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
