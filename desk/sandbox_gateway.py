"""The sandbox gateway's hosted tokeniser: stands where a real
processor's hosted card form would.  It takes the card from the
patient's browser, answers with a one-time token by redirecting back to
the page that asked (same site only), and never logs the card."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

from sanic import Blueprint
from sanic.response import redirect, text

from billing import clock, db
from billing.gateway import CardError, SandboxGateway

bp = Blueprint("sandbox_gateway", url_prefix="/sandbox-gateway")
logger = logging.getLogger(__name__)


def _tokenize(number: str, month: int, year: int) -> str:
    with db.session_scope() as session:
        return SandboxGateway().tokenize(session, number, month, year).token


# a card is good through the last day of its expiry month; none is issued for longer than this
LONGEST_CARD_YEARS = 20


class CardExpired(ValueError):
    pass


def _expiry(month_text: str, year_text: str) -> tuple[int, int]:
    """(month, year) of a card's expiry; ValueError when it is not one,
    CardExpired when that month is over (by the one clock)."""
    month_text, year_text = (month_text or "").strip(), (year_text or "").strip()
    if not (month_text.isdigit() and year_text.isdigit()) or len(month_text) > 2 or len(year_text) not in (2, 4):
        raise ValueError("not an expiry date")
    month, year = int(month_text), int(year_text)
    if year < 100:
        year += 2000
    today = clock.today()
    if not 1 <= month <= 12 or year > today.year + LONGEST_CARD_YEARS:
        raise ValueError("not an expiry date")
    if (year, month) < (today.year, today.month):
        raise CardExpired()
    return month, year


@bp.post("/tokenize")
async def tokenize(request):
    form = request.form
    return_to = form.get("return_url") or ""
    # only back to our own payment pages
    if not return_to.startswith("/pay/") or "//" in return_to or "\\" in return_to:
        return text("bad return address", status=400)
    back = return_to.rsplit("/review", 1)[0]
    try:
        month, year = _expiry(form.get("exp_month") or "", form.get("exp_year") or "")
        token = await request.app.loop.run_in_executor(None, _tokenize, (form.get("card_number") or "")[:64], month, year)
    except CardExpired:
        logger.info("sandbox tokeniser: an expired card refused")
        return redirect(f"{back}?{urlencode({'error': 'card_expired'})}", status=303)
    except (CardError, ValueError):
        logger.info("sandbox tokeniser: card details refused")  # never the details themselves
        return redirect(f"{back}?{urlencode({'error': 'card_invalid'})}", status=303)
    return redirect(f"{back}/review?{urlencode({'card_token': token})}", status=303)
