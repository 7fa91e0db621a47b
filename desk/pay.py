"""The one-time secure payment page (``/pay/<token>``).

The card form posts straight to the gateway's tokeniser, which sends the
browser back here with a one-time card token; this service never sees
the card number.  The patient reviews and pays; the payment posts once
(the charge's key is the link and the card token), a decline posts
nothing and the patient may try another card until the link expires.
"""
from __future__ import annotations

from sanic import Blueprint
from billing import db, ledger, payments
from billing.gateway import default_gateway
from billing.models import Client
from billing.money import format_money
from desk.app import page, run_sync

bp = Blueprint("pay")

LINK_PROBLEMS = {
    "unknown": ("This payment link isn't valid", "Please check the link, or ask for a new one."),
    "expired": ("This payment link has expired", "Payment links work for 24 hours. Ask for a new one by text or chat, or call us."),
    "used": ("This payment link has already been used", "Your payment was received. If you need to pay again, ask for a new link."),
}

DECLINE_WORDS = {
    "insufficient_funds": "The card's bank declined it for insufficient funds.",
    "do_not_honor": "The card's bank declined it without giving a reason. Please try a different card.",
    "expired_card": "The card has expired. Please try a different card.",
    "processing_error": "There was a processing error. You can try again.",
    "invalid_token": "The card could not be read. Please enter it again.",
}


def _link_view(token: str):
    """What the page shows about a link, or the problem with it."""
    with db.session_scope() as session:
        try:
            link = payments.open_link(session, token)
        except payments.LinkError as problem:
            return None, problem.reason, _client_of(session, problem.link)
        account = link.account
        client = session.get(Client, account.client_id)
        return {
            "client_name": client.name, "client_phone": client.phone_number,
            "account_number": account.account_number, "amount": format_money(link.amount),
            "balance": format_money(ledger.balance(session, account)), "expires_at": link.expires_at,
        }, None, client.name


def _client_of(session, link):
    if link is None:
        return None
    return session.get(Client, link.account.client_id).name


def _card(card_token: str):
    with db.session_scope() as session:
        brand, last4 = default_gateway().describe(session, card_token)
        return payments.card_label(brand, last4) if last4 else None


def _pay(token: str, card_token: str):
    with db.session_scope() as session:
        return payments.pay_link(session, token, card_token)


def _problem_page(reason: str, client_name):
    title, advice = LINK_PROBLEMS[reason]
    return page("pay_problem.html", status=410 if reason != "unknown" else 404, title=title, advice=advice, client_name=client_name)


@bp.get("/pay/<token>")
async def show(request, token: str):
    view, problem, client_name = await run_sync(_link_view, token)
    if problem:
        return _problem_page(problem, client_name)
    error = request.args.get("error")
    return page("pay.html", token=token, error=DECLINE_WORDS.get(error) or (error and "Please check the card details."), **view)


@bp.get("/pay/<token>/review")
async def review(request, token: str):
    view, problem, client_name = await run_sync(_link_view, token)
    if problem:
        return _problem_page(problem, client_name)
    card_token = request.args.get("card_token", "")
    card = await run_sync(_card, card_token) if card_token else None
    if card is None:
        return page("pay.html", token=token, error="The card could not be read. Please enter it again.", status=400, **view)
    return page("pay_review.html", token=token, card=card, card_token=card_token, **view)


@bp.post("/pay/<token>")
async def pay(request, token: str):
    card_token = (request.form.get("card_token") or "").strip()
    view, problem, client_name = await run_sync(_link_view, token)
    if problem == "used":
        # the same form sent twice: show the payment that was made
        try:
            outcome = await run_sync(_pay, token, card_token)
        except payments.LinkError:
            return _problem_page(problem, client_name)
        return page("pay_done.html", outcome=outcome, amount=format_money(outcome.amount), client_name=client_name,
                    balance=format_money(outcome.balance), credit=format_money(outcome.credit))
    if problem:
        return _problem_page(problem, client_name)
    if not card_token:
        return page("pay.html", token=token, error="Please enter your card details.", status=400, **view)
    outcome = await run_sync(_pay, token, card_token)
    if outcome.status == "posted":
        return page("pay_done.html", outcome=outcome, amount=format_money(outcome.amount), client_name=view["client_name"],
                    balance=format_money(outcome.balance), credit=format_money(outcome.credit))
    if outcome.status == "pending":
        return page("pay_pending.html", amount=format_money(outcome.amount), **{k: v for k, v in view.items() if k != "amount"})
    return page("pay_declined.html", token=token, card=outcome.card, reason=DECLINE_WORDS.get(outcome.decline_code, "The card's bank declined it."),
                status=402, **view)
