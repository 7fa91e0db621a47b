"""The capabilities of the assistant, one row each: what the rest of the
code needs to know about one (DESIGN.md, "One capability, one name").

A capability has the same name in bot/data/nlu|rules|stories/, bot/domain/,
bot/actions/, bot/nlp/ (when it reads text of its own), billing/ and its
tests.  Its row says:

- ``intents``: the intents that ask for it;
- ``needs_verification``: nothing of it before the patient is verified
  (an unverified request starts verification, a locked one is refused:
  the rules of bot/data/rules/generated.yml, from ``bot.rules``);
- ``starters``: by intent, the "module:function" run for a verified
  patient after verification (``resumes``), as fn(dispatcher, session, client, tracker)
  -> events; a function may set ``next_form`` to go on with a form.
  Named, not imported, so this module imports nothing of bot/actions
  (bot.actions.identity resolves it when it runs);
- ``department``: the partner queue a conversation about it is handed to
  (billing.handoffs keeps the queues, their names and hours);
- ``handoff_words``: what the assistant did, in words a partner reads in a
  handoff summary, by the action (or form) that did it;
- ``not_done``: what a "no" to its confirmation question is answered
  with, by the kind of pending step (bot/actions/confirm.py);
- ``forms``: its forms, each with what a "no" inside it is answered with
  and which interruptions it allows (the generated rules).

Plain data: adding a capability is one row here, its files, and
``python -m bot.rules``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Tuple

# what a patient may do inside any form (the generated rules, bot.rules)
STOPS = ("deny", "human_handoff", "goodbye", "opt_out", "wrong_number")   # end the form
ASIDES = ("check_balance", "bot_challenge")                                 # answered, then the form goes on
INTERRUPTIONS = STOPS + ASIDES


@dataclass(frozen=True)
class Form:
    name: str
    # what a "no" in the form is answered with
    stopped: str
    # the action that runs when the form is done (verification's is action_after_verification, with its own rules)
    done: Optional[str] = None
    # the interruptions (of INTERRUPTIONS) the form answers
    interruptions: Tuple[str, ...] = INTERRUPTIONS
    # a starter action opens it (the next_form slot): it also goes on after verification
    started: bool = True


@dataclass(frozen=True)
class Capability:
    name: str
    intents: Tuple[str, ...] = ()
    needs_verification: bool = False
    resumes: bool = False
    starters: Mapping[str, str] = field(default_factory=dict)
    department: Optional[str] = None
    handoff_words: Mapping[str, str] = field(default_factory=dict)
    not_done: Mapping[str, str] = field(default_factory=dict)
    forms: Tuple[Form, ...] = ()


CAPABILITIES: Tuple[Capability, ...] = (
    Capability(
        "balance", intents=("check_balance",), needs_verification=True, resumes=True,
        starters={"check_balance": "bot.actions.balance:resume_balance"}, department="billing",
        handoff_words={"action_check_balance": "told the balance"},
    ),
    Capability(
        "payments", intents=("make_payment", "payment_declined"), needs_verification=True, resumes=True,
        starters={"make_payment": "bot.actions.payments:start_payment",
                  "payment_declined": "bot.actions.payments:tell_declined"},
        department="billing",
        handoff_words={"payment_form": "started a payment", "action_confirm_payment": "took a payment"},
        not_done={"payment": "utter_payment_not_made", "schedule": "utter_payment_not_made",
                  "cancel_scheduled": "utter_payment_not_made", "retry": "utter_payment_not_made"},
        forms=(Form("payment_form", "utter_payment_not_made", "action_confirm_payment"),),
    ),
    Capability(
        "plans", intents=("payment_plan", "change_payment_plan"), needs_verification=True, resumes=True,
        starters={"payment_plan": "bot.actions.plans:start_plan",
                  "change_payment_plan": "bot.actions.plans:start_plan_change"},
        department="billing",
        handoff_words={"plan_form": "offered a payment plan", "action_confirm_plan": "set up a payment plan",
                       "plan_change_form": "started a plan change"},
        not_done={"plan": "utter_plan_not_changed", "plan_change": "utter_plan_not_changed"},
        forms=(Form("plan_form", "utter_plan_not_changed", "action_confirm_plan"),
               Form("plan_change_form", "utter_plan_not_changed", "action_confirm_plan_change")),
    ),
    Capability(
        "coverage", intents=("insurance_question", "explain_eob"), needs_verification=True, resumes=True,
        starters={"insurance_question": "bot.actions.coverage:tell_coverage",
                  "explain_eob": "bot.actions.coverage:tell_coverage"},
        department="insurance",
        handoff_words={"action_explain_coverage": "explained the insurance coverage"},
    ),
    Capability(
        "disputes", intents=("dispute_charge",), needs_verification=True, resumes=True,
        starters={"dispute_charge": "bot.actions.disputes:start_dispute"}, department="disputes",
        not_done={"dispute": "utter_dispute_not_opened"},
        forms=(Form("dispute_form", "utter_dispute_not_opened", "action_confirm_dispute"),),
    ),
    Capability(
        "assistance", intents=("financial_assistance",), needs_verification=True, resumes=True,
        starters={"financial_assistance": "bot.actions.assistance:start_assistance"}, department="financial_counseling",
        not_done={"assistance": "utter_assistance_not_started", "assistance_offer": "utter_assistance_not_started"},
        forms=(Form("assistance_form", "utter_assistance_not_started", "action_screen_assistance"),),
    ),
    Capability(
        "credit", intents=("credit_balance",), needs_verification=True, resumes=True,
        starters={"credit_balance": "bot.actions.credit:tell_credit"}, department="billing",
        not_done={"refund": "utter_refund_not_made"},
    ),
    Capability(
        "insurance", intents=("update_insurance",), needs_verification=True, resumes=True,
        starters={"update_insurance": "bot.actions.insurance:start_update_insurance"}, department="insurance",
        not_done={"insurance": "utter_insurance_not_sent"},
        forms=(Form("insurance_form", "utter_insurance_not_sent", "action_confirm_insurance"),),
    ),
    Capability(
        # a change of contact details picks no queue: the topic before it does
        "contact", intents=("update_contact_info",), needs_verification=True, resumes=True,
        starters={"update_contact_info": "bot.actions.contact:start_update_contact"},
        not_done={"contact": "utter_contact_not_changed"},
        forms=(Form("contact_form", "utter_contact_not_changed", "action_confirm_contact"),),
    ),
    Capability(
        "statements", intents=("itemized_statement",), needs_verification=True, resumes=True,
        starters={"itemized_statement": "bot.actions.statements:send_statement"}, department="billing",
        not_done={"statement_text": "utter_statement_not_texted"},
    ),
    Capability(
        "identity",
        forms=(Form("verification_form", "utter_ok_anything_else",
                    interruptions=tuple(i for i in INTERRUPTIONS if i != "check_balance"), started=False),),
    ),
    Capability(
        "handoffs",
        intents=("human_handoff", "credit_reporting", "other_department", "opt_out", "wrong_number", "callback_request"),
        handoff_words={"action_other_department": "gave another department's number",
                       "utter_credit_reporting": "gave the credit reporting answer", "callback_form": "took callback details",
                       "action_fallback": "did not understand a message"},
        not_done={"handoff": "utter_ok_anything_else"},
        forms=(Form("callback_form", "utter_ok_anything_else", "action_submit_callback", interruptions=("deny", "opt_out"), started=False),),
    ),
    Capability(
        "general", intents=("greet", "goodbye", "affirm", "deny", "thank_you", "bot_challenge", "inform"),
    ),
)

BY_NAME: Dict[str, Capability] = {c.name: c for c in CAPABILITIES}
# what a no to a confirmation whose kind no capability names is answered with
DEFAULT_NOT_DONE = "utter_payment_not_made"


def capability_of(intent: Optional[str]) -> Optional[Capability]:
    return next((c for c in CAPABILITIES if intent in c.intents), None)


def verified_intents() -> List[str]:
    """The intents whose answer needs a verified patient, in the registry's order."""
    return [i for c in CAPABILITIES if c.needs_verification for i in c.intents]


def resumable_intents() -> List[str]:
    """The intents answered after verification, when asked before it."""
    return [i for c in CAPABILITIES if c.resumes for i in c.intents]


def is_resumable(intent: Optional[str]) -> bool:
    capability = capability_of(intent)
    return capability is not None and capability.resumes


def starter_name(intent: str) -> Optional[str]:
    capability = capability_of(intent)
    if capability is None or not capability.resumes:
        return None
    return capability.starters.get(intent)


def starter(intent: Optional[str]) -> Optional[Callable]:
    """The function that answers ``intent`` after verification, or None."""
    name = starter_name(intent) if intent else None
    if name is None:
        return None
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def topic_department(intents: Iterable[str]) -> Optional[str]:
    """The queue the conversation's latest topic belongs to, or None."""
    for intent in reversed(list(intents)):
        capability = capability_of(intent)
        if capability is not None and capability.department is not None:
            return capability.department
    return None


def handoff_words(action: Optional[str]) -> Optional[str]:
    """What ``action`` did, in a partner's words, or None."""
    for capability in CAPABILITIES:
        if action in capability.handoff_words:
            return capability.handoff_words[action]
    return None


def owner_of_step(kind: Optional[str]) -> Optional[Capability]:
    """The capability a pending step of ``kind`` belongs to (its not_done row)."""
    return next((c for c in CAPABILITIES if kind in c.not_done), None)


def not_done(kind: Optional[str]) -> str:
    """What a no to a pending step of ``kind`` is answered with."""
    for capability in CAPABILITIES:
        if kind in capability.not_done:
            return capability.not_done[kind]
    return DEFAULT_NOT_DONE


def forms() -> List[Form]:
    return [form for c in CAPABILITIES for form in c.forms]
