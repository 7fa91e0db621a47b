"""Account support a verified patient can do themselves: dispute a
charge, apply for financial assistance, ask for a credit back.  Each ends
in a read-back and a yes (bot/actions/confirm.py); the billing core opens
the dispute, the application or the refund request, and a partner
finishes it in the desk."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import assistance, disputes, ledger, refunds
from billing.clients import ClientInfo
from billing.models import Account, ServiceLine
from bot.actions.common import (
    StarterAction, answer_required, channel_of, client_values, conversation_client, say_date, say_money, session_scope,
)
from bot.actions.confirm import ask, register
from bot.actions.payments import latest_text, patient_account, request_message, request_text, say_card
from bot.nlp.scan import scan

# --- dispute_charge ----------------------------------------------------------

REASON_WORDS = (
    ("duplicate", re.compile(r"\b(duplicate|duplicated|twice|two times|double|billed (me )?again|same (test|thing|charge))\b", re.I)),
    ("not_received", re.compile(r"\b(never (had|got|received|did)|didn'?t (have|get|receive)|did not (have|get|receive)|not (done|received)|wasn'?t done)\b", re.I)),
    ("insurance_should_pay", re.compile(r"\b(insurance|insurer|my plan|coverage) (should|was supposed|needs? to|has to)\b|\bshould (be|have been) covered\b", re.I)),
    ("amount_wrong", re.compile(r"\b(too (much|high)|overcharged|wrong (amount|price)|amount is wrong|costs? too)\b", re.I)),
    ("quality_of_care", re.compile(r"\b(quality|bad care|poor care|treated badly|rude|mistake in my care|malpractice)\b", re.I)),
)
REASON_WORDS_SAID = {
    "duplicate": "a duplicate charge",
    "not_received": "a service you did not receive",
    "amount_wrong": "a wrong amount",
    "insurance_should_pay": "something your insurance should have paid",
    "quality_of_care": "a concern about the quality of care",
}
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
        return list(REASON_WORDS_SAID)[int(stripped) - 1]
    if stripped in REASON_WORDS_SAID:
        return stripped
    for reason, words in REASON_WORDS:
        if words.search(text):
            return reason
    return None


def describe_line(line: ServiceLine) -> str:
    return f"{say_date(line.encounter.date_of_service)}: {line.description}, {say_money(line.charge)}"


def pick_line(text: str, lines: List[ServiceLine]) -> Optional[ServiceLine]:
    """The service line a patient means: its number in the list, its date,
    or words of its description.  Identical lines (a duplicate) resolve to
    the later one: that is the charge being disputed."""
    text = str(text or "").strip().lower()
    if not text:
        return None
    if text.isdigit() and 1 <= int(text) <= len(lines):
        return lines[int(text) - 1]
    candidates = list(lines)
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


def start_dispute(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    said = request_text(tracker, "dispute_charge")
    open_ones = disputes.open_disputes(session, account)
    if open_ones and re.search(r"\b(status|update|news|heard|what happened)\b", said, re.I):
        dispatcher.utter_message(response="utter_dispute_status", reference=open_ones[-1].reference,
                                 opened=say_date(open_ones[-1].opened_at.date()), **values)
        return [SlotSet("next_form", "none")]
    lines = disputes.service_lines(session, account)
    if not lines:
        dispatcher.utter_message(response="utter_dispute_no_lines", **values)
        return [SlotSet("next_form", "none")]
    # "i was charged twice for the metabolic panel on october 28" names both
    line = pick_line(said, lines) if len(said.split()) > 3 else None
    return [SlotSet("next_form", "dispute_form"), SlotSet("dispute_line", str(line.id) if line else None),
            SlotSet("dispute_reason", dispute_reason(said))]


class ActionStartDispute(StarterAction):
    start = staticmethod(start_dispute)

    def name(self) -> Text:
        return "action_start_dispute"


class ActionAskDisputeLine(Action):
    def name(self) -> Text:
        return "action_ask_dispute_line"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            lines = disputes.service_lines(session, patient_account(session, client, tracker))
            listing = "; ".join(f"{n}) {describe_line(line)}" for n, line in enumerate(lines, start=1))
            dispatcher.utter_message(response="utter_ask_dispute_line", line_list=listing,
                                     buttons=[{"title": describe_line(line), "payload": str(n)} for n, line in enumerate(lines, start=1)][:10])
        return []


class ValidateDisputeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_dispute_form"

    @answer_required
    def validate_dispute_line(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if str(slot_value).isdigit() and tracker.get_slot("requested_slot") != "dispute_line":
            return {"dispute_line": slot_value}  # set by the starter action: a line id
        with session_scope() as session:
            client = conversation_client(tracker, session)
            lines = disputes.service_lines(session, patient_account(session, client, tracker))
            line = pick_line(str(slot_value), lines)
            if line is None:
                dispatcher.utter_message(response="utter_explain_dispute_line")
                return {"dispute_line": None}
            return {"dispute_line": str(line.id)}

    @answer_required
    def validate_dispute_reason(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        reason = dispute_reason(str(slot_value))
        if reason is None:
            dispatcher.utter_message(response="utter_explain_dispute_reason")
            return {"dispute_reason": None}
        return {"dispute_reason": reason}


class ActionConfirmDispute(Action):
    """Read the dispute back before opening it."""

    def name(self) -> Text:
        return "action_confirm_dispute"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("dispute_line", None), SlotSet("dispute_reason", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            line = session.get(ServiceLine, int(tracker.get_slot("dispute_line") or 0))
            reason = tracker.get_slot("dispute_reason")
            if account is None or line is None or reason not in REASON_WORDS_SAID:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            dispatcher.utter_message(response="utter_confirm_dispute", line=describe_line(line), reason_words=REASON_WORDS_SAID[reason],
                                     **client_values(client))
            return reset + [ask("dispute", self.name(), account_id=account.id, line_id=line.id, reason=reason)]


@register("dispute")
def _open_dispute(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Account, int(pending["account_id"]))
    try:
        dispute = disputes.open_dispute(
            session, account, pending["reason"], actor="patient:bot", service_line_id=int(pending["line_id"]),
            description=f"opened by the patient in {channel_of(tracker)}", channel=channel_of(tracker), conversation_id=tracker.sender_id,
        )
    except disputes.DisputeError as refused:
        if refused.reason != "already_open":
            raise
        # one open dispute per charge: the patient is told the one already open
        already = disputes.open_dispute_of_line(session, int(pending["line_id"]))
        dispatcher.utter_message(response="utter_dispute_status", reference=already.reference,
                                 opened=say_date(already.opened_at.date()), **client_values(client))
        return [SlotSet("last_confirmation_number", already.reference)]
    dispatcher.utter_message(response="utter_dispute_opened", reference=dispute.reference, **client_values(client))
    return [SlotSet("last_confirmation_number", dispute.reference)]


# --- financial_assistance ---------------------------------------------------

NUMBER_WORDS = {w: n for n, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"))}
MONTHLY = re.compile(r"\b(a|per|each|every|/)\s*month|\bmonthly\b", re.I)
WEEKLY = re.compile(r"\b(a|per|each|every|/)\s*week|\bweekly\b", re.I)
THOUSANDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(k|thousand)\b", re.I)


_COUNT = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_TOTAL = re.compile(_COUNT + r"\s*(people|persons|of us|in (my|our|the) (house|household|home|family)|total)\b")
_PARTNER = re.compile(r"\b(wife|husband|spouse|partner|girlfriend|boyfriend|fianc[eé]e?)\b")
_CHILDREN = re.compile(_COUNT + r"\s+(kids|children|sons|daughters|grandkids|grandchildren|dependents)\b")
_ONE_CHILD = re.compile(r"\b(a|one|my|our)\s+(kid|child|son|daughter|baby|grandchild|grandson|granddaughter)\b")
_RELATIVE = re.compile(r"\b(mom|mother|dad|father|brother|sister|grandma|grandmother|grandpa|grandfather|aunt|uncle|cousin|nephew|niece)\b")


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def read_household(text: str) -> Optional[int]:
    """People in the household, the patient included: "4", "four of us",
    "just me", "me, my wife and our two kids"."""
    text = str(text or "").lower()
    if re.search(r"\b(just me|only me|myself only|me alone|live alone|just myself)\b", text):
        return 1
    total = _TOTAL.search(text)
    if total:
        size = _count(total.group(1))
        return size if 1 <= size <= 20 else None
    described = _PARTNER.search(text) or _CHILDREN.search(text) or _ONE_CHILD.search(text) or _RELATIVE.search(text)
    if described:
        size = 1 + len(_PARTNER.findall(text)) + sum(_count(m.group(1)) for m in _CHILDREN.finditer(text))
        size += len(_ONE_CHILD.findall(text)) + len(_RELATIVE.findall(text))
        return size if size <= 20 else None
    numbers = [int(n) for n in re.findall(r"\b\d{1,2}\b", text)] + [NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text) if w in NUMBER_WORDS]
    numbers = [n for n in numbers if 1 <= n <= 20]
    return numbers[0] if len(numbers) == 1 else None


def read_income(text: str) -> Optional[Decimal]:
    """A yearly income from "$38,000", "38k", "about 3,000 a month", "nothing"."""
    text = str(text or "")
    if re.search(r"\b(no income|nothing|zero|none|unemployed|don'?t have (any )?income)\b", text, re.I):
        return Decimal("0")
    thousands = THOUSANDS.search(text)
    amount: Optional[Decimal] = None
    if thousands:
        amount = Decimal(thousands.group(1)) * 1000
    else:
        found = [f.value for f in scan(text) if f.label == "amount"]
        if found:
            amount = Decimal(str(found[0]))
        else:
            digits = re.findall(r"\d[\d,]*(?:\.\d+)?", text)
            if len(digits) == 1:
                amount = Decimal(digits[0].replace(",", ""))
    if amount is None or amount < 0:
        return None
    if MONTHLY.search(text):
        amount *= 12
    elif WEEKLY.search(text):
        amount *= 52
    return amount.quantize(Decimal("0.01"))


def start_assistance(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    open_ones = assistance.open_applications(session, account)
    if open_ones:
        dispatcher.utter_message(response="utter_assistance_already_open", reference=open_ones[-1].reference,
                                 window_ends=say_date(open_ones[-1].window_ends), **values)
        return [SlotSet("next_form", "none")]
    dispatcher.utter_message(response="utter_assistance_intro", **values)
    return [SlotSet("next_form", "assistance_form"), SlotSet("household_size", None), SlotSet("annual_income", None)]


class ActionStartAssistance(StarterAction):
    start = staticmethod(start_assistance)

    def name(self) -> Text:
        return "action_start_assistance"


class ValidateAssistanceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_assistance_form"

    @answer_required
    def validate_household_size(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        size = read_household(str(slot_value))
        if size is None:
            dispatcher.utter_message(response="utter_explain_household_size")
            return {"household_size": None}
        return {"household_size": float(size)}

    @answer_required
    def validate_annual_income(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        income = read_income(str(slot_value))
        if income is None:
            dispatcher.utter_message(response="utter_explain_annual_income")
            return {"annual_income": None}
        return {"annual_income": str(income)}


class ActionScreenAssistance(Action):
    """Tell the likely outcome and offer to open the application."""

    def name(self) -> Text:
        return "action_screen_assistance"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet("household_size", None), SlotSet("annual_income", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            size, income = tracker.get_slot("household_size"), tracker.get_slot("annual_income")
            if account is None or size is None or income is None:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            state = account.patient.state
            result = assistance.screen(client.policy.financial_assistance, int(size), income, state)
            values = {**client_values(client), "household_size": int(size), "annual_income": say_money(result.annual_income),
                      "fpl_percent": result.fpl_percent, "discount_percent": f"{result.discount_percent.normalize()}",
                      "balance": say_money(ledger.balance(session, account)),
                      "days": client.policy.financial_assistance.application_period_days}
            dispatcher.utter_message(response=f"utter_assistance_likely_{result.outcome}", **values)
            return reset + [ask("assistance", self.name(), account_id=account.id, household_size=int(size), annual_income=str(income))]


@register("assistance")
def _apply(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Account, int(pending["account_id"]))
    result = assistance.screen(client.policy.financial_assistance, int(pending["household_size"]), pending["annual_income"],
                               account.patient.state)
    try:
        application = assistance.apply(session, account, result, actor="patient:bot", channel=channel_of(tracker),
                                       conversation_id=tracker.sender_id)
    except assistance.ApplicationError:
        open_one = assistance.open_applications(session, account)[-1]
        dispatcher.utter_message(response="utter_assistance_already_open", reference=open_one.reference,
                                 window_ends=say_date(open_one.window_ends), **client_values(client))
        return []
    documents = "; ".join(assistance.DOCUMENTS)
    counseling = client.department_number("financial_counseling") or client.phone_number
    from billing.contact import display_phone

    dispatcher.utter_message(response="utter_assistance_applied", reference=application.reference, documents=documents,
                             window_ends=say_date(application.window_ends), counseling_phone=display_phone(counseling),
                             **client_values(client))
    return [SlotSet("last_confirmation_number", application.reference)]


# --- credit_balance -----------------------------------------------------------

CHECK_WORDS = re.compile(r"\b(check|cheque|mail|mailed|post)\b", re.I)


def tell_credit(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker, asked_by: str = "action_credit_balance") -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return []
    available = refunds.credit(session, account)
    if available <= 0:
        dispatcher.utter_message(response="utter_no_credit", balance=say_money(ledger.balance(session, account)),
                                 account_number=account.account_number, **values)
        return []
    waiting = refunds.pending(session, account)
    if waiting:
        dispatcher.utter_message(response="utter_refund_already_requested", amount=say_money(waiting[-1].amount), **values)
        return []
    card = refunds.original_card(session, account)
    request = request_message(tracker, "credit_balance")
    by_check = CHECK_WORDS.search(request["text"] if request else latest_text(tracker)) or card is None
    method = "check" if by_check else "card"
    dispatcher.utter_message(
        response="utter_credit_offer_check" if by_check else "utter_credit_offer_card", credit=say_money(available),
        card=say_card(card) if card else "", account_number=account.account_number, **values,
    )
    return [ask("refund", asked_by, account_id=account.id, amount=str(available), method=method)]


class ActionCreditBalance(Action):
    def name(self) -> Text:
        return "action_credit_balance"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            return tell_credit(dispatcher, session, conversation_client(tracker, session), tracker)


@register("refund")
def _request_refund(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Account, int(pending["account_id"]))
    try:
        request = refunds.request_refund(session, account, pending["amount"], pending["method"], actor="patient:bot",
                                         conversation_id=tracker.sender_id)
    except refunds.RefundError as refused:
        # the credit changed since it was offered (a payment, another request): say what is true now
        dispatcher.utter_message(response="utter_refund_not_requested", credit=say_money(refused.credit or 0), **client_values(client))
        return []
    dispatcher.utter_message(response="utter_refund_requested_card" if request.method == "card" else "utter_refund_requested_check",
                             amount=say_money(request.amount), card=say_card(request.payment_method) if request.payment_method else "",
                             **client_values(client))
    return []
