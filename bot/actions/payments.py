"""make_payment and payment_declined: what a verified patient may pay,
how (a card on file or a one-time secure link), a confirmation before
the charge, and the reprocessing of a declined payment as its decline
allows.  The rules themselves live in billing.payments."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import language as languages
from billing import clock, ledger, payments, plans, schedule
from billing.clients import ClientInfo
from billing.models import Account, Payment
from billing.records import desk_url
from billing.redaction import holds_redacted_card
from billing.vocabulary import Channel, PaymentStatus
from bot.actions.common import (
    CARD_WORDS, LINK_WORDS, StarterAction, answer_required, card_from_slot, card_named_in, cards_on_file, channel_of, client_values,
    conversation_client, entity, entity_in, is_verified, latest_intent, latest_text, patient_account, request_message, say_card, language_of, say_date,
    say_money, session_scope,
)
from bot.actions.confirm import ask, idempotency_key, register, revises
from bot.nlp.numbers import parse_decimal
from bot.nlp.payments import FULL as FULL_WORDS
from bot.nlp.payments import amount_of, is_vague, share_of_balance
from bot.nlp.scan import scan

# "50 on my visa", "75 please": a number said first, before the card or the thanks
# "no 60", "wait make that 75 instead": at a read-back any plain number is the new amount
ANY_NUMBER = re.compile(r"(?<![\d/.-])\$?(\d[\d,]*(?:\.\d{1,2})?)(?![\d/]|\s*(%|percent|months?|mos?|th|st|nd|rd)\b)", re.I)
LEADING_NUMBER = re.compile(r"^\W*\$?(\d[\d,]*(?:\.\d{1,2})?)\b(?!\s*(%|percent|months?|mos?)\b)", re.I)
CANCEL_WORDS = re.compile(r"\b(cancel|stop|undo)\b", re.I)
PAYMENT_FORM_SLOTS = ("payment_amount", "payment_method", "payment_date")


def link_url(raw_token: str) -> str:
    return desk_url(f"/pay/{raw_token}")


def send_link(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker, account: Account, amount: Decimal) -> None:
    """A one-time payment page; on a call, the keypad instead (no links by voice)."""
    if channel_of(tracker) == Channel.VOICE:
        dispatcher.utter_message(
            response="utter_voice_pay_by_keypad", amount=say_money(amount),
            json_message={"voice": {"pay": {"account": account.account_number, "amount": str(amount)}}}, **client_values(client),
        )
        return
    _link, raw = payments.create_link(
        session, account, amount, actor="bot", channel=channel_of(tracker), conversation_id=tracker.sender_id,
    )
    dispatcher.utter_message(
        response="utter_payment_link", amount=say_money(amount), account_number=account.account_number,
        url=link_url(raw), **client_values(client),
    )


def tell_outcome(dispatcher: CollectingDispatcher, client: ClientInfo, outcome: payments.PaymentOutcome, account: Account,
                 language: str = "en") -> List[EventType]:
    values = client_values(client)
    if outcome.status == PaymentStatus.POSTED:
        dispatcher.utter_message(
            response="utter_payment_posted", amount=say_money(outcome.amount), card=languages.phrase(outcome.card, language),
            confirmation_number=outcome.confirmation_number, account_number=account.account_number, **values,
        )
        if outcome.balance < 0:
            dispatcher.utter_message(response="utter_payment_left_credit", credit=say_money(outcome.credit), **values)
        else:
            dispatcher.utter_message(response="utter_payment_new_balance", balance=say_money(outcome.balance), **values)
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("last_confirmation_number", outcome.confirmation_number)]
    if outcome.status == PaymentStatus.DECLINED:
        dispatcher.utter_message(response="utter_payment_declined_now", amount=say_money(outcome.amount), card=languages.phrase(outcome.card, language), **values)
        dispatcher.utter_message(response=f"utter_decline_reason_{_reason(outcome.decline_code)}", **values)
        dispatcher.utter_message(response="utter_payment_declined_next", **values)
        return []
    dispatcher.utter_message(response="utter_payment_pending", amount=say_money(outcome.amount), **values)
    return []


def _reason(code: Optional[str]) -> str:
    return code if code in ("insufficient_funds", "do_not_honor", "expired_card", "processing_error") else "other"


def tell_card_not_taken(dispatcher: CollectingDispatcher, client: ClientInfo, tracker: Tracker) -> bool:
    if holds_redacted_card(latest_text(tracker)):
        dispatcher.utter_message(response="utter_card_number_not_taken", **client_values(client))
        return True
    return False


def read_amount(value: Any, tracker: Tracker) -> str:
    """What the patient offered to pay, as text for billing.payments.check_amount."""
    if tracker.get_slot("requested_slot") == "payment_amount" or value is None:
        found = entity(tracker, "amount")
        if found is not None:
            return str(found)
    text = str(value if value is not None else "")
    if FULL_WORDS.search(text):
        return "full"
    number = parse_decimal(text)
    if number is not None:
        return str(number)
    for item in scan(text):
        if item.label == "amount":
            return str(item.value)
    leading = LEADING_NUMBER.match(text)
    if leading:
        return leading.group(1).replace(",", "")
    return text


def amount_said(text: str, balance: Decimal, tracker: Tracker) -> Optional[str]:
    """What the patient means to pay, against the balance: a part of it
    ("half of it"), all of it ("the rest"), or a number; None if no amount."""
    share = share_of_balance(text)
    if share is not None and balance > 0:
        return str(amount_of(share, balance))
    said = read_amount(text, tracker)
    if said == "full" or parse_decimal(said) is not None:
        return said
    return None


# --- make_payment ----------------------------------------------------------------

def start_payment(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    """Before the payment form: is there anything to pay, a scheduled
    payment to cancel, a card number typed into the chat?"""
    values = client_values(client)
    tell_card_not_taken(dispatcher, client, tracker)
    account = patient_account(session, client, tracker)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return [SlotSet("next_form", "none")]
    text = latest_text(tracker)
    pending = tracker.get_slot("pending_confirmation")
    if isinstance(pending, dict) and pending.get("kind") == "retry" and LINK_WORDS.search(text):
        # "send me a link instead" after a declined payment was offered on another card
        declined = session.get(Payment, int(pending["payment_id"]))
        send_link(dispatcher, session, client, tracker, account, declined.amount)
        return [SlotSet("next_form", "none"), SlotSet("pending_confirmation", None)]
    scheduled = payments.scheduled_payments(session, account)
    if scheduled and CANCEL_WORDS.search(text):
        first = scheduled[0]
        dispatcher.utter_message(
            response="utter_confirm_cancel_scheduled", amount=say_money(first.amount), date=say_date(first.payment_date, language_of(tracker)),
            card=languages.phrase(payments.card_label(first.card_brand, first.card_last4), language_of(tracker)), **values,
        )
        return [SlotSet("next_form", "none"), ask("cancel_scheduled", "action_start_payment", payment_id=first.id)]
    balance = ledger.balance(session, account)
    if balance <= 0:
        response = "utter_payment_nothing_owed_credit" if balance < 0 else "utter_payment_nothing_owed"
        dispatcher.utter_message(response=response, credit=say_money(-balance), account_number=account.account_number, **values)
        return [SlotSet("next_form", "none")]
    events: List[EventType] = [SlotSet("next_form", "payment_form")]
    request = request_message(tracker, "make_payment")
    if request is not None:
        # what the request says replaces anything left from earlier
        said = request["text"]
        amount = entity_in(request, "amount")
        if amount is None and FULL_WORDS.search(said):
            amount = "full"
        events.append(SlotSet("payment_amount", None if amount is None else str(amount)))
        events.append(SlotSet("payment_date", entity_in(request, "date")))
        events.append(SlotSet("payment_method", "link" if LINK_WORDS.search(said) or holds_redacted_card(said) else None))
    return events


class ActionStartPayment(StarterAction):
    start = staticmethod(start_payment)

    def name(self) -> Text:
        return "action_start_payment"


class ActionAskPaymentAmount(Action):
    def name(self) -> Text:
        return "action_ask_payment_amount"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            account = patient_account(session, client, tracker)
            dispatcher.utter_message(
                response="utter_ask_payment_amount", balance=say_money(ledger.balance(session, account)),
                account_number=account.account_number, **client_values(client),
            )
        return []


class ActionAskPaymentMethod(Action):
    def name(self) -> Text:
        return "action_ask_payment_method"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            cards = cards_on_file(patient_account(session, client, tracker))
            labels = [say_card(c, language_of(tracker)) for c in cards]
            dispatcher.utter_message(
                response="utter_ask_payment_method" if len(cards) == 1 else "utter_ask_payment_method_several",
                card=labels[0], cards=languages.alternatives(labels, language_of(tracker)), **client_values(client),
            )
        return []


class ValidatePaymentForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_payment_form"

    @answer_required
    def validate_payment_amount(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            values = client_values(client)
            if tell_card_not_taken(dispatcher, client, tracker):
                return {"payment_amount": None}
            account = patient_account(session, client, tracker)
            balance = ledger.balance(session, account)
            text = str(slot_value or "")
            if is_vague(text) and entity(tracker, "amount") is None:
                # "a couple hundred": asked, never guessed
                dispatcher.utter_message(response="utter_payment_amount_which", balance=say_money(balance), **values)
                return {"payment_amount": None}
            share = share_of_balance(text)
            said = str(amount_of(share, balance)) if share is not None and balance > 0 else read_amount(slot_value, tracker)
            try:
                amount = payments.check_amount(said, balance)
            except payments.AmountRefused as refused:
                dispatcher.utter_message(response=f"utter_payment_amount_{refused.reason}", balance=say_money(balance), **values)
                return {"payment_amount": None}
            slots: Dict[Text, Any] = {"payment_amount": str(amount)}
            cards = cards_on_file(account)
            named = card_named_in(text, cards)
            if not cards:
                slots["payment_method"] = "link"  # nothing on file: the secure link is the way
            elif named is not None:
                slots["payment_method"] = f"card:{named.id}"  # "50 on my visa"
            elif LINK_WORDS.search(text):
                slots["payment_method"] = "link"
        return slots

    @answer_required
    def validate_payment_method(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(slot_value or "")
        if text == "link" or text.startswith("card:"):
            return {"payment_method": text}
        with session_scope() as session:
            client = conversation_client(tracker, session)
            cards = cards_on_file(patient_account(session, client, tracker))
            if tell_card_not_taken(dispatcher, client, tracker) or LINK_WORDS.search(text):
                return {"payment_method": "link"}
            named = card_named_in(text, cards)
            if named is not None:
                return {"payment_method": f"card:{named.id}"}
            if cards and (latest_intent(tracker) == "affirm" or CARD_WORDS.search(text)):
                return {"payment_method": f"card:{cards[0].id}"}
            dispatcher.utter_message(
                response="utter_explain_payment_method", cards=languages.alternatives([say_card(c, language_of(tracker)) for c in cards], language_of(tracker)), **client_values(client),
            )
        return {"payment_method": None}


class ActionConfirmPayment(Action):
    """After the form: send the link, or ask before charging or scheduling."""

    def name(self) -> Text:
        return "action_confirm_payment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[EventType]:
        reset = [SlotSet(slot, None) for slot in PAYMENT_FORM_SLOTS]
        if not is_verified(tracker) or not tracker.get_slot("payment_amount"):
            return reset
        with session_scope() as session:
            client = conversation_client(tracker, session)
            values = client_values(client)
            account = patient_account(session, client, tracker)
            amount = Decimal(tracker.get_slot("payment_amount"))
            method = card_from_slot(account, tracker.get_slot("payment_method"))
            on = _future_date(tracker.get_slot("payment_date"))
            if method is None:
                if on is not None:
                    dispatcher.utter_message(response="utter_payment_schedule_needs_card", **values)
                send_link(dispatcher, session, client, tracker, account, amount)
                return reset
            common = dict(amount=say_money(amount), card=say_card(method, language_of(tracker)), account_number=account.account_number, **values)
            if on is not None:
                try:
                    schedule.check_payment_date(on)  # the window is billing's: asked before the patient is
                except schedule.DateRefused:
                    tell_window(dispatcher, client, language_of(tracker))
                    return reset
                dispatcher.utter_message(response="utter_confirm_scheduled_payment", date=say_date(on, language_of(tracker)), **common)
                return reset + [ask("schedule", self.name(), account_id=account.id, method_id=method.id, amount=str(amount), date=on.isoformat())]
            dispatcher.utter_message(response="utter_confirm_payment", **common)
            return reset + [ask("payment", self.name(), account_id=account.id, method_id=method.id, amount=str(amount))]


def tell_window(dispatcher: CollectingDispatcher, client: ClientInfo, language: str = "en") -> None:
    """The days a payment may be scheduled for (billing.schedule)."""
    first, last = schedule.payment_window()
    dispatcher.utter_message(response="utter_payment_date_outside_window", first_date=say_date(first, language),
                             last_date=say_date(last, language),
                             days=schedule.PAYMENT_WINDOW_DAYS, **client_values(client))


def _future_date(value: Optional[str]) -> Optional[dt.date]:
    try:
        day = dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return day if day and day > clock.today() else None


def _pending_account(session, tracker: Tracker, pending: Dict[str, Any]) -> Account:
    account = session.get(Account, int(pending["account_id"]))
    if account is None or account.patient_id != tracker.get_slot("patient_id"):
        raise LookupError("the pending step is for another patient's account")
    return account


@register("payment")
def _pay_now(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = _pending_account(session, tracker, pending)
    values = client_values(client)
    balance = ledger.balance(session, account)
    try:
        amount = payments.check_amount(pending["amount"], balance)
    except payments.AmountRefused as refused:  # the balance changed since the question
        dispatcher.utter_message(response=f"utter_payment_amount_{refused.reason}", balance=say_money(balance), **values)
        return []
    outcome = payments.pay_with_card_on_file(
        session, account, int(pending["method_id"]), amount, idempotency_key=idempotency_key(tracker, pending),
        actor="bot", channel=channel_of(tracker), conversation_id=tracker.sender_id,
    )
    return tell_outcome(dispatcher, client, outcome, account, language_of(tracker))


def _revise_payment(dispatcher, session, client, tracker, pending, text) -> Optional[Dict[str, Any]]:
    """ "make that 75 instead", "put it on the mastercard": the payment changed."""
    account = _pending_account(session, tracker, pending)
    changed = dict(pending)
    named = card_named_in(text, cards_on_file(account))
    if named is not None:
        changed["method_id"] = named.id
    amount = amount_said(text, ledger.balance(session, account), tracker)
    loose = ANY_NUMBER.search(text)
    if amount is None and loose:
        amount = loose.group(1).replace(",", "")
    if amount is not None and amount != "full" and Decimal(amount) <= 0:
        amount = None
    if amount is not None:
        changed["amount"] = str(ledger.balance(session, account)) if amount == "full" else str(Decimal(amount).quantize(Decimal("0.01")))
    return changed


def _read_back_payment(dispatcher, session, client, tracker, pending, asked_by) -> List[EventType]:
    account = _pending_account(session, tracker, pending)
    values = client_values(client)
    balance = ledger.balance(session, account)
    try:
        amount = payments.check_amount(pending["amount"], balance)
    except payments.AmountRefused as refused:
        dispatcher.utter_message(response=f"utter_payment_amount_{refused.reason}", balance=say_money(balance), **values)
        return [SlotSet("pending_confirmation", None)]
    method = next(c for c in cards_on_file(account) if c.id == int(pending["method_id"]))
    common = dict(amount=say_money(amount), card=say_card(method, language_of(tracker)), account_number=account.account_number, **values)
    fields = {k: v for k, v in pending.items() if k not in ("kind", "asked_by", "id")}
    fields["amount"] = str(amount)
    if pending["kind"] == "schedule":
        dispatcher.utter_message(response="utter_confirm_scheduled_payment", date=say_date(dt.date.fromisoformat(pending["date"]), language_of(tracker)), **common)
    else:
        dispatcher.utter_message(response="utter_confirm_payment", **common)
    return [ask(pending["kind"], asked_by, **fields)]


revises("payment")((_revise_payment, _read_back_payment))
revises("schedule")((_revise_payment, _read_back_payment))


@register("schedule")
def _schedule(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = _pending_account(session, tracker, pending)
    try:
        outcome = payments.schedule_payment(
            session, account, int(pending["method_id"]), Decimal(pending["amount"]), dt.date.fromisoformat(pending["date"]),
            idempotency_key=idempotency_key(tracker, pending), actor="bot", channel=channel_of(tracker), conversation_id=tracker.sender_id,
        )
    except (payments.PaymentRefused, schedule.DateRefused) as refused:
        if refused.reason not in ("date_not_in_future", "date_too_far"):
            raise
        # the day passed the window since the question (or the window changed): say the window, schedule nothing
        tell_window(dispatcher, client, language_of(tracker))
        return []
    dispatcher.utter_message(
        response="utter_payment_scheduled", amount=say_money(outcome.amount), date=say_date(outcome.payment_date, language_of(tracker)),
        card=languages.phrase(outcome.card, language_of(tracker)), confirmation_number=outcome.confirmation_number, **client_values(client),
    )
    return []


@register("cancel_scheduled")
def _cancel_scheduled(dispatcher, session, client, tracker, pending) -> List[EventType]:
    account = session.get(Payment, int(pending["payment_id"])).account
    if account.patient_id != tracker.get_slot("patient_id"):
        return []
    outcome = payments.cancel_scheduled(session, account, int(pending["payment_id"]), actor="bot", reason="patient cancelled in conversation")
    dispatcher.utter_message(
        response="utter_scheduled_payment_cancelled", amount=say_money(outcome.amount), date=say_date(outcome.payment_date, language_of(tracker)),
        **client_values(client),
    )
    return []


# --- payment_declined ----------------------------------------------------------------

def tell_declined(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker,
                  asked_by: str = "action_payment_declined") -> List[EventType]:
    """Say why the latest declined payment failed and offer what its decline allows."""
    values = client_values(client)
    account = patient_account(session, client, tracker)
    declined = payments.latest_declined(session, account) if account else None
    if declined is None:
        dispatcher.utter_message(response="utter_no_declined_payment", **values)
        return []
    latest = payments.last_attempt(session, declined)
    dispatcher.utter_message(
        response="utter_declined_payment", amount=say_money(declined.amount), date=say_date(declined.payment_date, language_of(tracker)),
        card=languages.phrase(payments.card_label(latest.card_brand, latest.card_last4), language_of(tracker)), **values,
    )
    dispatcher.utter_message(response=f"utter_decline_reason_{_reason(latest.decline_code)}", **values)
    if plans.installment_paid_by(session, declined.id) is not None:
        dispatcher.utter_message(response="utter_declined_was_plan_payment", **values)
    same_card, others = payments.retry_options(session, declined)
    if same_card:
        method = declined.payment_method
        dispatcher.utter_message(response="utter_offer_retry_same_card", amount=say_money(declined.amount), card=say_card(method, language_of(tracker)), **values)
        return [ask("retry", asked_by, payment_id=declined.id, method_id=method.id)]
    if others:
        dispatcher.utter_message(response="utter_offer_other_card", amount=say_money(declined.amount), card=say_card(others[0], language_of(tracker)), **values)
        return [ask("retry", asked_by, payment_id=declined.id, method_id=others[0].id)]
    send_link(dispatcher, session, client, tracker, account, declined.amount)
    return []


class ActionPaymentDeclined(Action):
    def name(self) -> Text:
        return "action_payment_declined"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        if not is_verified(tracker):
            return []
        with session_scope() as session:
            return tell_declined(dispatcher, session, conversation_client(tracker, session), tracker, self.name())


@register("retry")
def _retry(dispatcher, session, client, tracker, pending) -> List[EventType]:
    declined = session.get(Payment, int(pending["payment_id"]))
    account = declined.account
    if account.patient_id != tracker.get_slot("patient_id"):
        return []
    try:
        outcome = payments.retry_declined(
            session, declined, int(pending["method_id"]), idempotency_key=idempotency_key(tracker, pending), actor="bot",
            channel=channel_of(tracker), conversation_id=tracker.sender_id,
        )
    except payments.PaymentRefused:
        send_link(dispatcher, session, client, tracker, account, declined.amount)
        return []
    events = tell_outcome(dispatcher, client, outcome, account, language_of(tracker))
    if outcome.status == PaymentStatus.POSTED and plans.installment_paid_by(session, outcome.payment_id) is not None:
        dispatcher.utter_message(response="utter_plan_caught_up", **client_values(client))
    return events
