"""The patient's itemized statement page (``/statements/<token>``): the
link a patient gets by chat or text.  Opening the page shows nothing
about the account; the PDF comes after the patient's date of birth, once,
and the link is locked after five wrong dates."""
from __future__ import annotations

import datetime as dt
import re

from sanic import Blueprint

from billing import db, statements
from billing.models import Client
from desk.web import page, pdf_response, run_sync

bp = Blueprint("statements")

PROBLEMS = {
    "unknown": ("This statement link isn't valid", "Please check the link, or ask for a new one by text or chat."),
    "expired": ("This statement link has expired", "Statement links work for 72 hours. Ask for a new one by text or chat, or call us."),
    "used": ("This statement link has already been used", "Each link works once. Ask for a new one by text or chat, or call us."),
    "locked": ("This statement link is locked", "The date of birth was wrong too many times. Ask for a new link, or call us."),
}


def read_date(text: str):
    """2026-01-31 (a date field) or 01/31/1985 as typed."""
    text = (text or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if not found:
        return None
    try:
        return dt.date(int(found.group(3)), int(found.group(1)), int(found.group(2)))
    except ValueError:
        return None


def _client_name(token: str):
    with db.session_scope() as session:
        try:
            row = statements.open_link(session, token)
        except statements.StatementError as problem:
            return None, problem.reason
        return session.get(Client, row.account.client_id).name, None


def _download(token: str, day):
    with db.session_scope() as session:
        try:
            row, pdf = statements.download(session, token, day)
            return pdf, row.account.account_number, None
        except statements.StatementError as problem:
            return None, None, problem.reason


def _problem(reason: str, client_name=None):
    title, advice = PROBLEMS.get(reason, PROBLEMS["unknown"])
    return page("pay_problem.html", status=404 if reason == "unknown" else 410, title=title, advice=advice, client_name=client_name)


@bp.get("/statements/<token>")
async def show(request, token: str):
    client_name, problem = await run_sync(_client_name, token)
    if problem:
        return _problem(problem)
    return page("statement.html", token=token, client_name=client_name)


@bp.post("/statements/<token>")
async def download(request, token: str):
    client_name, problem = await run_sync(_client_name, token)
    if problem:
        return _problem(problem)
    day = read_date(request.form.get("date_of_birth") or "")
    if day is None:
        return page("statement.html", token=token, client_name=client_name, status=400,
                    error="Please enter your date of birth, like 03/14/1985.")
    pdf, account_number, problem = await run_sync(_download, token, day)
    if problem == "wrong_date_of_birth":
        return page("statement.html", token=token, client_name=client_name, status=400,
                    error="That date of birth doesn't match our records. Please check it and try again.")
    if problem:
        return _problem(problem, client_name)
    return pdf_response(pdf, account_number, "attachment")
