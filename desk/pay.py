"""The one-time secure payment page (``/pay/<token>``).

The card form posts straight to the gateway's tokeniser, which sends the
browser back here with a one-time card token; this service never sees
the card number.  The patient reviews and pays; the payment posts once
(the charge's key is the link and the card token; concurrent submits of
one link are answered one after the other), a decline posts nothing and
the patient may try another card, up to payments.LINK_ATTEMPTS cards,
until the link expires.
"""
from __future__ import annotations

from sanic import Blueprint
from billing import db, ledger, payments
from billing.contact import display_phone
from billing.gateway import default_gateway
from billing.models import Client
from billing.money import format_money
from billing.vocabulary import PaymentStatus
from desk.web import page, run_sync

bp = Blueprint("pay")

LINK_PROBLEMS = {
    "unknown": ("This payment link isn't valid", "Please check the link, or ask for a new one."),
    "expired": ("This payment link has expired", "Payment links work for 24 hours. Ask for a new one by text or chat, or call us."),
    "used": ("This payment link has already been used", "Your payment was received. If you need to pay again, ask for a new link."),
    "attempts": ("This payment link is locked",
                 f"{payments.LINK_ATTEMPTS} cards were declined on it, so it takes no more, to protect your account. "
                 "Ask for a new link by text or chat, or call us{phone} to pay by phone."),
}
PROBLEM_STATUS = {"unknown": 404, "attempts": 429}

DECLINE_WORDS = {
    "insufficient_funds": "The card's bank declined it for insufficient funds.",
    "do_not_honor": "The card's bank declined it without giving a reason. Please try a different card.",
    "expired_card": "The card has expired. Please try a different card.",
    "processing_error": "There was a processing error. You can try again.",
    "invalid_token": "The card could not be read. Please enter it again.",
    "card_expired": "The card's expiry date has passed. Please use a card that has not expired.",
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
            "client_name": client.name, "client_phone": display_phone(client.phone_number),
            "account_number": account.account_number, "amount": format_money(link.amount),
            "balance": format_money(ledger.balance(session, account)), "expires_at": link.expires_at,
        }, None, _client_of(session, link)


def _client_of(session, link):
    """(name, phone) of the link's client, for a problem page."""
    if link is None:
        return None
    client = session.get(Client, link.account.client_id)
    return client.name, display_phone(client.phone_number)


def _card(card_token: str):
    with db.session_scope() as session:
        brand, last4 = default_gateway().describe(session, card_token)
        return payments.card_label(brand, last4) if last4 else None


def _pay(token: str, card_token: str):
    """(outcome, None), or (None, (reason, client)) when the link cannot be paid."""
    with db.session_scope() as session:
        try:
            return payments.pay_link(session, token, card_token), None
        except payments.LinkError as problem:
            return None, (problem.reason, _client_of(session, problem.link))


def _problem_page(reason: str, client):
    title, advice = LINK_PROBLEMS[reason]
    name, phone = client or (None, None)
    advice = advice.format(phone=f" at {phone}" if phone else "")
    return page("pay_problem.html", status=PROBLEM_STATUS.get(reason, 410), title=title, advice=advice, client_name=name)


def _done_page(outcome, client_name):
    return page("pay_done.html", outcome=outcome, amount=format_money(outcome.amount), client_name=client_name,
                balance=format_money(outcome.balance), credit=format_money(outcome.credit))


@bp.get("/pay/<token>")
async def show(request, token: str):
    view, problem, client = await run_sync(_link_view, token)
    if problem:
        return _problem_page(problem, client)
    error = request.args.get("error")
    return page("pay.html", token=token, error=DECLINE_WORDS.get(error) or (error and "Please check the card details."), **view)


@bp.get("/pay/<token>/review")
async def review(request, token: str):
    view, problem, client = await run_sync(_link_view, token)
    if problem:
        return _problem_page(problem, client)
    card_token = request.args.get("card_token", "")
    card = await run_sync(_card, card_token) if card_token else None
    if card is None:
        return page("pay.html", token=token, error="The card could not be read. Please enter it again.", status=400, **view)
    return page("pay_review.html", token=token, card=card, card_token=card_token, **view)


@bp.post("/pay/<token>")
async def pay(request, token: str):
    card_token = (request.form.get("card_token") or "").strip()[:128]
    view, problem, client = await run_sync(_link_view, token)
    if problem == "used":
        # the same form sent twice: show the payment that was made
        outcome, refused = await run_sync(_pay, token, card_token)
        if refused:
            return _problem_page(problem, client)
        return _done_page(outcome, client[0])
    if problem:
        return _problem_page(problem, client)
    if not card_token:
        return page("pay.html", token=token, error="Please enter your card details.", status=400, **view)
    # a submit at the same moment as another one may find the link paid (or closed) by then
    outcome, refused = await run_sync(_pay, token, card_token)
    if refused:
        return _problem_page(*refused)
    if outcome.status == PaymentStatus.POSTED:
        return _done_page(outcome, view["client_name"])
    if outcome.status == PaymentStatus.PENDING:
        return page("pay_pending.html", amount=format_money(outcome.amount), **{k: v for k, v in view.items() if k != "amount"})
    return page("pay_declined.html", token=token, card=outcome.card, reason=DECLINE_WORDS.get(outcome.decline_code, "The card's bank declined it."),
                status=402, **view)
