"""payment_plan and change_payment_plan: offer the plans the client's
policy allows, take "6 months" or "$50 a month", explain the nearest
allowed terms, confirm, and set up or change the schedule through
billing.plans."""
from __future__ import annotations

import re

import datetime as dt
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import clock, ledger, plans
from billing.clients import ClientInfo
from billing.models import Account
from billing.plans import PlanRefused, PlanTerms
from billing.vocabulary import InstallmentStatus
from bot.actions.common import (
    CARD_WORDS, LINK_WORDS, StarterAction, answer_required, card_from_slot, card_named_in, cards_on_file, client_values, conversation_client,
    entity_in, is_verified, latest_intent, patient_account, request_message, say_card, language_of, say_date, say_money, session_scope,
)
from bot.actions.confirm import ask, register, revises
from bot.nlp.numbers import parse_decimal
from bot.nlp.requests import says_hardship
from bot.nlp.scan import scan

PLAN_FORM_SLOTS = ("plan_request", "plan_method", "plan_nearest")
# a request that is the counter-offer the patient said yes to: its terms are agreed,
# so once the payment method is chosen the plan is set up without another read-back
AGREED = "+agreed"


def describe(terms: PlanTerms, language: str = "en") -> str:
    return plans.terms_words(terms, language)


def read_request(tracker: Tracker, text: str, max_months: int, message: Optional[Dict[str, Any]] = None) -> Optional[str]:
    """'months:6' or 'monthly:50.00' from what the patient said (the
    latest message unless another is given), or None."""
    if message is None and latest_intent(tracker) == "affirm" and tracker.get_slot("plan_nearest"):
        return tracker.get_slot("plan_nearest") + AGREED
    message = message or tracker.latest_message
    months, amount = entity_in(message, "months"), entity_in(message, "amount")
    for item in scan(text):
        if item.label == "months" and months is None:
            months = item.value
        if item.label == "amount" and amount is None:
            amount = item.value
    if months is not None:
        return f"months:{int(Decimal(str(months)))}"
    if amount is not None:
        return f"monthly:{amount}"
    number = parse_decimal(text.strip().rstrip("."))
    if number is not None and number > 0:
        return f"months:{int(number)}" if number <= max_months and number == int(number) else f"monthly:{number}"
    return None


def terms_for(request: str, policy, balance: Decimal) -> PlanTerms:
    kind, value = request.removesuffix(AGREED).split(":", 1)
    if kind == "months":
        return plans.terms_for_months(policy, balance, int(value))
    return plans.terms_for_monthly(policy, balance, Decimal(value))


def explain_refusal(dispatcher: CollectingDispatcher, client: ClientInfo, refused: PlanRefused, balance: Decimal,
                    language: str = "en") -> List[EventType]:
    policy = client.policy.payment_plan
    values = dict(
        balance=say_money(balance), min_months=policy.min_months, max_months=policy.max_months,
        min_monthly=say_money(policy.min_monthly_payment), min_balance=say_money(policy.min_balance), **client_values(client),
    )
    if refused.reason in ("below_minimum_balance", "nothing_owed", "pay_in_full"):
        dispatcher.utter_message(response=f"utter_plan_refused_{refused.reason}", **values)
        if refused.reason == "below_minimum_balance":
            # no plan can be made: what can be done instead
            dispatcher.utter_message(response="utter_plan_other_options", **values)
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("plan_nearest", None)]
    nearest = refused.nearest[0] if refused.nearest else None
    dispatcher.utter_message(response="utter_plan_outside_policy", **values)
    if nearest is None:
        dispatcher.utter_message(response="utter_plan_other_options", **values)
        return [SlotSet("plan_nearest", None)]
    dispatcher.utter_message(response="utter_plan_nearest", terms=describe(nearest, language), **values)
    return [SlotSet("plan_nearest", f"months:{nearest.months}")]


def start_plan(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    values = client_values(client)
    account = patient_account(session, client, tracker)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    current = plans.active_plan(session, account)
    if current is not None:
        upcoming = next((i for i in current.installments if i.status == InstallmentStatus.DUE), None)
        dispatcher.utter_message(
            response="utter_plan_exists", monthly_amount=say_money(current.monthly_amount),
            next_due_date=say_date(upcoming.due_date if upcoming else None, language_of(tracker)), **values,
        )
        return [SlotSet("next_form", "none")]
    policy = client.policy.payment_plan
    balance = ledger.balance(session, account)
    asked = request_message(tracker, "payment_plan")
    if asked and says_hardship(asked["text"]) and balance > client.policy.small_balance_write_off_max:
        # "I lost my job, can I do a plan": assistance first, on the client's terms
        dispatcher.utter_message(response="utter_assistance_first", **values)
        return [SlotSet("next_form", "none"), ask("assistance_offer", "action_start_plan", account_id=account.id)]
    try:
        offered = plans.offers(policy, balance)
    except PlanRefused as refused:
        explain_refusal(dispatcher, client, refused, balance, language_of(tracker))
        return [SlotSet("next_form", "none")]
    events: List[EventType] = [SlotSet("next_form", "plan_form"), SlotSet("plan_nearest", None)]
    asked = request_message(tracker, "payment_plan")
    request = read_request(tracker, asked["text"], policy.max_months, asked) if asked else None
    events.append(SlotSet("plan_request", request))
    if request is None:
        dispatcher.utter_message(
            response="utter_plan_offers", balance=say_money(balance), min_months=policy.min_months, max_months=policy.max_months,
            min_monthly=say_money(policy.min_monthly_payment), offers=plans.offers_words(offered, language_of(tracker)),
            **values,
        )
    return events


class ActionStartPlan(StarterAction):
    start = staticmethod(start_plan)

    def name(self) -> Text:
        return "action_start_plan"


class ActionAskPlanMethod(Action):
    def name(self) -> Text:
        return "action_ask_plan_method"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            cards = cards_on_file(patient_account(session, client, tracker))
            dispatcher.utter_message(response="utter_ask_plan_method", card=say_card(cards[0], language_of(tracker)), **client_values(client))
        return []


class ValidatePlanForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_plan_form"

    @answer_required
    def validate_plan_request(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            balance = ledger.balance(session, account)
            request = str(slot_value or "")
            if not request.startswith(("months:", "monthly:")):
                request = read_request(tracker, request, client.policy.payment_plan.max_months) or ""
            if not request:
                dispatcher.utter_message(response="utter_explain_plan_request", **client_values(client))
                return {"plan_request": None}
            try:
                terms_for(request, client.policy.payment_plan, balance)
            except PlanRefused as refused:
                events = explain_refusal(dispatcher, client, refused, balance, language_of(tracker))
                return {"plan_request": None, "plan_nearest": events[0]["value"]}
            slots: Dict[Text, Any] = {"plan_request": request, "plan_nearest": None}
            if not cards_on_file(account):
                slots["plan_method"] = "link"
        return slots

    @answer_required
    def validate_plan_method(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(slot_value or "")
        if text == "link" or text.startswith("card:"):
            return {"plan_method": text}
        with session_scope() as session:
            client = conversation_client(tracker, session)
            cards = cards_on_file(patient_account(session, client, tracker))
            named = card_named_in(text, cards)
            if named is not None:
                return {"plan_method": f"card:{named.id}"}
            # "no, i'll pay myself each month" / "no, con el enlace": a no to autopay, whatever the classifier thought
            if LINK_WORDS.search(text) or latest_intent(tracker) == "deny" or re.match(r"^\W*(no|nope|nah|nel)\b", text, re.I):
                return {"plan_method": "link"}
            if latest_intent(tracker) == "affirm" or CARD_WORDS.search(text):
                return {"plan_method": f"card:{cards[0].id}"}
            dispatcher.utter_message(response="utter_explain_plan_method", card=say_card(cards[0], language_of(tracker)), **client_values(client))
        return {"plan_method": None}


class ActionConfirmPlan(Action):
    def name(self) -> Text:
        return "action_confirm_plan"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet(slot, None) for slot in PLAN_FORM_SLOTS]
        request = tracker.get_slot("plan_request")
        if not is_verified(tracker) or not request:
            return reset
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            balance = ledger.balance(session, account)
            try:
                terms = terms_for(request, client.policy.payment_plan, balance)
            except PlanRefused as refused:
                explain_refusal(dispatcher, client, refused, balance, language_of(tracker))
                return reset
            method = card_from_slot(account, tracker.get_slot("plan_method"))
            first = plans.first_due_date(clock.today())
            fields = dict(account_id=account.id, months=terms.months, monthly=str(terms.monthly), method_id=method.id if method else None,
                          start=first.isoformat())
            if request.endswith(AGREED):
                # the counter-offer was read back and agreed, the method chosen: set it up now
                return reset + _create_plan(dispatcher, session, client, tracker, {"kind": "plan", **fields})
            dispatcher.utter_message(
                response="utter_confirm_plan" if method else "utter_confirm_plan_by_link", terms=describe(terms, language_of(tracker)),
                balance=say_money(balance), first_date=say_date(first, language_of(tracker)), card=say_card(method, language_of(tracker)), **client_values(client),
            )
        return reset + [ask("plan", self.name(), **fields)]


def _account_for(session, tracker: Tracker, pending: Dict[str, Any]) -> Optional[Account]:
    account = session.get(Account, int(pending["account_id"]))
    return account if account is not None and account.patient_id == tracker.get_slot("patient_id") else None


@register("plan")
def _create_plan(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = _account_for(session, tracker, pending)
    if account is None:
        return []
    policy = client.policy.payment_plan
    balance = ledger.balance(session, account)
    values = client_values(client)
    try:
        terms = plans.terms_for_months(policy, balance, int(pending["months"]))
        if terms.monthly != Decimal(pending["monthly"]):
            terms = plans.terms_for_monthly(policy, balance, Decimal(pending["monthly"]))
        plan = plans.create_plan(
            session, account, policy, terms, actor="bot", payment_method_id=pending.get("method_id"),
            start=dt.date.fromisoformat(pending["start"]),
        )
    except PlanRefused as refused:
        if refused.reason == "plan_exists":
            dispatcher.utter_message(response="utter_plan_already_set_up", **values)
        else:
            explain_refusal(dispatcher, client, refused, balance, language_of(tracker))
        return []
    method = next((c for c in cards_on_file(account) if c.id == plan.payment_method_id), None)
    dispatcher.utter_message(
        response="utter_plan_created" if method else "utter_plan_created_by_link", terms=describe(terms, language_of(tracker)),
        first_date=say_date(plan.installments[0].due_date, language_of(tracker)), card=say_card(method, language_of(tracker)), account_number=account.account_number, **values,
    )
    dispatcher.utter_message(response="utter_anything_else")
    return []


def _revise_plan(dispatcher, session, client, tracker, pending, text) -> Optional[Dict[str, Any]]:
    """ "no, make it 8 months" at the plan's read-back: the terms changed, if the policy allows them."""
    account = _account_for(session, tracker, pending)
    if account is None:
        return None
    policy = client.policy.payment_plan
    request = read_request(tracker, text, policy.max_months, tracker.latest_message)
    changed = dict(pending)
    named = card_named_in(text, cards_on_file(account))
    if named is not None:
        changed["method_id"] = named.id
    if request is not None and request != "months:0":
        try:
            terms = terms_for(request, policy, ledger.balance(session, account))
        except PlanRefused:
            return None
        changed.update(months=terms.months, monthly=str(terms.monthly))
    return changed


def _read_back_plan(dispatcher, session, client, tracker, pending, asked_by) -> List[EventType]:
    account = _account_for(session, tracker, pending)
    balance = ledger.balance(session, account)
    terms = plans.terms_for_months(client.policy.payment_plan, balance, int(pending["months"]))
    if terms.monthly != Decimal(pending["monthly"]):
        terms = plans.terms_for_monthly(client.policy.payment_plan, balance, Decimal(pending["monthly"]))
    method = next((c for c in cards_on_file(account) if c.id == pending.get("method_id")), None)
    dispatcher.utter_message(
        response="utter_confirm_plan" if method else "utter_confirm_plan_by_link", terms=describe(terms, language_of(tracker)), balance=say_money(balance),
        first_date=say_date(dt.date.fromisoformat(pending["start"]), language_of(tracker)), card=say_card(method, language_of(tracker)), **client_values(client),
    )
    fields = {k: v for k, v in pending.items() if k not in ("kind", "asked_by", "id")}
    return [ask("plan", asked_by, **fields)]


revises("plan")((_revise_plan, _read_back_plan))


# --- change_payment_plan ----------------------------------------------------------

def read_change(tracker: Tracker, text: str, account: Account, max_months: int,
                message: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """What the patient wants changed: terms, the day of the month, or the card."""
    message = message or tracker.latest_message
    cards = cards_on_file(account)
    named = card_named_in(text, cards)
    if named is not None:
        return {"what": "card", "method_id": named.id}
    if LINK_WORDS.search(text):
        return {"what": "card", "method_id": None}
    day = entity_in(message, "date")
    if day:
        return {"what": "day", "day": dt.date.fromisoformat(day).day}
    for item in scan(text):
        if item.label == "date":
            return {"what": "day", "day": dt.date.fromisoformat(str(item.value)).day}
    request = read_request(tracker, text, max_months, message)
    if request is not None:
        return {"what": "terms", "request": request}
    return None


def propose_change(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker, account: Account,
                   change: Dict[str, Any], asked_by: str) -> List[EventType]:
    values = client_values(client)
    if change["what"] == "card":
        method = next((c for c in cards_on_file(account) if c.id == change["method_id"]), None)
        dispatcher.utter_message(response="utter_confirm_plan_card", card=say_card(method, language_of(tracker)), **values)
        return [ask("plan_change", asked_by, account_id=account.id, **change)]
    if change["what"] == "day":
        if not 1 <= change["day"] <= 28:
            dispatcher.utter_message(response="utter_plan_day_out_of_range", **values)
            return []
        dispatcher.utter_message(response="utter_confirm_plan_day", day=change["day"] if language_of(tracker) == "es" else _ordinal(change["day"]), **values)
        return [ask("plan_change", asked_by, account_id=account.id, **change)]
    balance = ledger.balance(session, account)
    try:
        terms = terms_for(change["request"], client.policy.payment_plan, balance)
    except PlanRefused as refused:
        explain_refusal(dispatcher, client, refused, balance, language_of(tracker))
        dispatcher.utter_message(response="utter_plan_change_needs_partner", **values)
        return []
    dispatcher.utter_message(response="utter_confirm_plan_terms", terms=describe(terms, language_of(tracker)), balance=say_money(balance), **values)
    return [ask("plan_change", asked_by, account_id=account.id, what="terms", months=terms.months, monthly=str(terms.monthly))]


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def start_plan_change(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    values = client_values(client)
    account = patient_account(session, client, tracker)
    if account is None or plans.active_plan(session, account) is None:
        dispatcher.utter_message(response="utter_no_plan_to_change", **values)
        return [SlotSet("next_form", "none")]
    change = None
    asked = request_message(tracker, "change_payment_plan")
    if asked is not None:
        change = read_change(tracker, asked["text"], account, client.policy.payment_plan.max_months, asked)
    if change is None:
        return [SlotSet("next_form", "plan_change_form"), SlotSet("plan_change", None)]
    return [SlotSet("next_form", "none")] + propose_change(dispatcher, session, client, tracker, account, change, "action_start_plan_change")


class ActionStartPlanChange(StarterAction):
    start = staticmethod(start_plan_change)

    def name(self) -> Text:
        return "action_start_plan_change"


class ValidatePlanChangeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_plan_change_form"

    @answer_required
    def validate_plan_change(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            if read_change(tracker, str(slot_value or ""), account, client.policy.payment_plan.max_months) is None:
                dispatcher.utter_message(response="utter_explain_plan_change", **client_values(client))
                return {"plan_change": None}
        return {"plan_change": str(slot_value)}


class ActionConfirmPlanChange(Action):
    def name(self) -> Text:
        return "action_confirm_plan_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = tracker.get_slot("plan_change")
        if not is_verified(tracker) or not text:
            return [SlotSet("plan_change", None)]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            change = read_change(tracker, text, account, client.policy.payment_plan.max_months)
            if change is None:
                return [SlotSet("plan_change", None)]
            return [SlotSet("plan_change", None)] + propose_change(dispatcher, session, client, tracker, account, change, self.name())


@register("plan_change")
def _change_plan(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = _account_for(session, tracker, pending)
    if account is None:
        return []
    values = client_values(client)
    reason = "changed at the patient's request in conversation"
    try:
        if pending["what"] == "card":
            plan = plans.change_card(session, account, pending.get("method_id"), actor="bot", reason=reason)
        elif pending["what"] == "day":
            plan = plans.change_day(session, account, int(pending["day"]), actor="bot", reason=reason)
        else:
            policy = client.policy.payment_plan
            balance = ledger.balance(session, account)
            terms = plans.terms_for_months(policy, balance, int(pending["months"]))
            if terms.monthly != Decimal(pending["monthly"]):
                terms = plans.terms_for_monthly(policy, balance, Decimal(pending["monthly"]))
            plan = plans.change_terms(session, account, policy, terms, actor="bot", reason=reason)
    except PlanRefused as refused:
        explain_refusal(dispatcher, client, refused, ledger.balance(session, account), language_of(tracker))
        return []
    upcoming = next((i for i in plan.installments if i.status == InstallmentStatus.DUE), None)
    method = next((c for c in cards_on_file(account) if c.id == plan.payment_method_id), None)
    dispatcher.utter_message(
        response="utter_plan_changed", next_amount=say_money(upcoming.amount if upcoming else plan.monthly_amount),
        next_due_date=say_date(upcoming.due_date if upcoming else None, language_of(tracker)), card=say_card(method, language_of(tracker)), **values,
    )
    dispatcher.utter_message(response="utter_anything_else")
    return []
