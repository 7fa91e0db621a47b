"""The assist panel beside a handoff: approved reply snippets for the
situation, next best actions from the client's policy, and the account's
claims in plain words."""
from __future__ import annotations

from typing import Any, Dict, List

from billing import db, ledger, payments, plans
from billing.clients import get_client
from billing.contact import display_phone
from billing.language import NAMES, SPOKEN
from billing.models import Account, Handoff
from billing.money import format_money
from billing.scripts import script

# approved partner snippets (billing/scripts.yml, utter_partner_<key>) by the situation they fit
SNIPPETS = {
    "always": ("greeting", "verify_first", "anything_else"),
    "billing": ("payment_link", "plan_offer"),
    "insurance": ("insurance_review",),
    "financial_counseling": ("assistance",),
    "disputes": ("dispute_received",),
}


def snippets(handoff: Handoff, client, facts: Dict[str, Any], language: str = "en", plan_allowed: bool = True) -> List[Dict[str, str]]:
    """The snippets that fit, each in English and Spanish, the patient's
    language first; the plan offer only when the client's policy allows
    this balance a plan."""
    keys = list(SNIPPETS["always"])
    if handoff.verified:
        keys.remove("verify_first")
    keys[1:1] = [key for key in SNIPPETS.get(handoff.department, ()) if key != "plan_offer" or plan_allowed]
    languages = sorted(SPOKEN, key=lambda code: code != language)
    out = []
    for key in keys:
        for code in languages:
            out.append({"key": key, "language": code, "language_name": NAMES[code],
                        "text": script(f"utter_partner_{key}", client, language=code, **facts)})
    return out


def next_best_actions(session, handoff: Handoff, client) -> List[str]:
    """What the client's policy allows for this account, most useful first."""
    if not handoff.verified or handoff.account_id is None:
        return ["Verify the patient (date of birth and account number or full name) before discussing the account."]
    account = session.get(Account, handoff.account_id)
    balance = ledger.balance(session, account)
    actions: List[str] = []
    declined = payments.latest_declined(session, account)
    if declined is not None:
        advice = payments.decline_advice(declined.decline_code)
        what = "the same card may be tried once more now" if advice.same_card_now else "ask for another card or send a payment link; do not retry the same card"
        actions.append(f"The last payment of {format_money(declined.amount)} was declined ({declined.decline_code}): {what}.")
    if balance < 0:
        actions.append(f"The account has a credit of {format_money(-balance)}: offer a refund to the original card or by check.")
    elif balance > 0 and balance <= client.policy.small_balance_write_off_max:
        actions.append(f"{format_money(balance)} is within {client.name}'s small-balance threshold: it can be written off.")
    elif balance > 0 and plans.active_plan(session, account) is None:
        try:
            offers = plans.offers(client.policy.payment_plan, balance)
        except plans.PlanRefused:
            offers = []
        for terms in offers[-2:]:
            actions.append(f"Offer a {terms.months}-month plan at {format_money(terms.monthly)}"
                           + (f" (last payment {format_money(terms.last)})" if terms.last != terms.monthly else "") + ".")
        actions.append(f"Send a secure payment link for {format_money(balance)} or part of it.")
    if balance > 0:
        actions.append("If paying is hard, screen for financial assistance (household size and yearly income).")
    return actions


def panel(handoff_id: int) -> Dict[str, Any]:
    with db.session_scope() as session:
        handoff = session.get(Handoff, handoff_id)
        client = get_client(session, handoff.client_id)
        account = session.get(Account, handoff.account_id) if handoff.account_id else None
        facts = {"patient_first_name": account.patient.first_name if account and handoff.verified else "there",
                 "balance": "", "financial_counseling_phone": display_phone(client.department_number("financial_counseling") or client.phone_number)}
        plan_allowed = True
        if account is not None and handoff.verified:
            balance = ledger.balance(session, account)
            facts["balance"] = format_money(balance)
            try:
                plan_allowed = balance > 0 and bool(plans.offers(client.policy.payment_plan, balance))
            except plans.PlanRefused:
                plan_allowed = False
        # the conversation's language says which language the snippets come in first (a verified
        # patient's record says it when the conversation had none of its own)
        language = handoff.language or (account.patient.language if account is not None and handoff.verified else "en")
        return {
            "snippets": snippets(handoff, client, facts, language, plan_allowed),
            "next_best_actions": next_best_actions(session, handoff, client),
        }
