"""credit_balance: a verified patient with a credit hears it and is
offered a refund (to the card it was paid with, or by check), requested
after a yes (bot/actions/confirm.py) for a partner to approve
(billing.refunds)."""
from __future__ import annotations

import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from billing import ledger, refunds
from billing.clients import ClientInfo
from billing.models import Account
from bot.actions.common import (
    client_values, conversation_client, language_of, latest_text, patient_account, request_message, say_card, say_money,
    session_scope,
)
from bot.actions.confirm import ask, register

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
        dispatcher.utter_message(response="utter_anything_else")
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
        card=say_card(card, language_of(tracker)) if card else "", account_number=account.account_number, **values,
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
                             amount=say_money(request.amount), card=say_card(request.payment_method, language_of(tracker)) if request.payment_method else "",
                             **client_values(client))
    dispatcher.utter_message(response="utter_anything_else")
    return []
