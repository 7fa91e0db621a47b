"""check_balance: what a verified patient owes, in the client's wording."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from billing import accounts, clock, plans
from billing.clients import ClientInfo
from billing.vocabulary import PlanStatus
from bot.actions.common import client_values, conversation_client, is_verified, language_of, plural, say_date, say_money, session_scope


def tell_balance(dispatcher: CollectingDispatcher, session, client: ClientInfo, patient_id: str, today=None,
                 language: str = "en") -> None:
    """Balance, due date, last payment and plan of each account."""
    today = today or clock.today()
    values = client_values(client)
    overviews = accounts.overview(session, patient_id, client.id)
    if not overviews:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return
    if len(overviews) > 1:
        dispatcher.utter_message(response="utter_balance_several", count=len(overviews), **values)
    for item in overviews:
        number = item.account_number
        if item.with_insurance:
            payer, amount = item.with_insurance
            dispatcher.utter_message(response="utter_balance_with_insurance", account_number=number, payer=payer,
                                     amount=say_money(amount), **values)
            continue
        if item.balance < 0:
            dispatcher.utter_message(response="utter_balance_credit", account_number=number, credit=say_money(-item.balance), **values)
        elif item.balance == 0:
            dispatcher.utter_message(response="utter_balance_zero", account_number=number, **values)
        else:
            past_due = item.due_date is not None and item.due_date < today
            dispatcher.utter_message(
                response="utter_balance_past_due" if past_due else "utter_balance",
                account_number=number, balance=say_money(item.balance), due_date=say_date(item.due_date, language), **values,
            )
        if item.last_payment:
            dispatcher.utter_message(
                response="utter_balance_last_payment", amount=say_money(item.last_payment.amount),
                date=say_date(item.last_payment.date, language), **values,
            )
        elif item.balance > 0:
            dispatcher.utter_message(response="utter_balance_no_payment", **values)
        plan = item.plan
        if plan is None:
            continue
        if plan.status == PlanStatus.DEFAULTED:
            dispatcher.utter_message(response="utter_balance_plan_defaulted", **values)
            continue
        if plan.next_due_date and plan.next_amount:
            dispatcher.utter_message(
                response="utter_balance_plan_active", monthly_amount=say_money(plan.monthly_amount),
                next_amount=say_money(plan.next_amount), next_due_date=say_date(plan.next_due_date, language), **values,
            )
        if plan.missed_payments:
            dispatcher.utter_message(
                response="utter_balance_plan_missed", missed=plan.missed_payments,
                missed_word=plural(plan.missed_payments, "payment", "payments", language), **values,
            )


def offer_next(dispatcher: CollectingDispatcher, session, client: ClientInfo, patient_id: str) -> None:
    """After a balance: how to pay or plan, unless nothing is owed or the
    balance is too small to press for (the client's small-balance threshold);
    a plan is offered only where the client's policy allows one for what is owed."""
    owed = [o for o in accounts.overview(session, patient_id, client.id) if o.balance > client.policy.small_balance_write_off_max
            and not o.with_insurance]
    planned = any(o.plan is not None and o.plan.status != PlanStatus.DEFAULTED for o in owed)
    if not owed or planned:
        dispatcher.utter_message(response="utter_anything_else")
    elif any(plans.is_eligible(client.policy.payment_plan, o.balance) for o in owed):
        dispatcher.utter_message(response="utter_balance_next")
    else:
        dispatcher.utter_message(response="utter_balance_next_no_plan")


def resume_balance(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    """The balance, asked before verification (bot.capabilities)."""
    tell_balance(dispatcher, session, client, tracker.get_slot("patient_id"), language=language_of(tracker))
    offer_next(dispatcher, session, client, tracker.get_slot("patient_id"))
    return []


class ActionCheckBalance(Action):
    def name(self) -> Text:
        return "action_check_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        with session_scope() as session:
            client = conversation_client(tracker, session)
            if not is_verified(tracker):
                # rules route unverified patients to the form; never disclose here
                dispatcher.utter_message(response="utter_verification_locked" if tracker.get_slot("identity") == "locked" else "utter_verification_intro", **client_values(client))
                return []
            tell_balance(dispatcher, session, client, tracker.get_slot("patient_id"), language=language_of(tracker))
            if not tracker.active_loop.get("name"):
                # inside a form the form's own question comes next
                offer_next(dispatcher, session, client, tracker.get_slot("patient_id"))
        return []
