"""Itemized statements: what the account holds (service lines with their
codes, claims and adjustments, payments, every ledger entry and the
balance) as a PDF, and how it reaches the patient: a one-time link by chat
or text (valid 72 hours; only the token's hash is kept) or a copy queued
for mail to the address on file.  Detail about services is shown only
here, because the patient asked for it (minimum necessary otherwise)."""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, eob, ledger
from billing.contact import display_phone, mailing_address
from billing.language import phrase, say_date, spoken
from billing.clients import get_client
from billing.models import Account, StatementDelivery, utcnow
from billing.money import format_money
from billing.records import Refused, account_event, desk_url, new_reference, token_hash
from billing.vocabulary import DeliveryStatus

LINK_LIFETIME = dt.timedelta(hours=72)
DELIVERIES = ("link", "sms", "mail")
KIND_WORDS = {
    "charge": "Charge", "insurance_payment": "Insurance payment", "contractual_adjustment": "Insurance adjustment",
    "discount": "Discount", "patient_payment": "Your payment", "refund": "Refund", "write_off": "Adjustment",
    "transfer": "Transfer",
}
KIND_WORDS_ES = {
    "charge": "Cargo", "insurance_payment": "Pago del seguro", "contractual_adjustment": "Ajuste del seguro",
    "discount": "Descuento", "patient_payment": "Su pago", "refund": "Reembolso", "write_off": "Ajuste",
    "transfer": "Transferencia",
}
# what the PDF says around the account's figures, in the patient's language (their record)
LABELS = {
    "en": {
        "title": "Itemized statement {account}", "heading": "Itemized statement  |  Questions: {phone}",
        "patient": "Patient: {name}", "account": "Account: {account}", "date": "Statement date: {date}",
        "address": "Mailing address: {address}", "services": "Services",
        "services_columns": ("Date", "Code", "Description", "Charge"), "no_services": "No services",
        "claims": "Insurance claims", "no_claims": "No insurance claims on this account.",
        "claim": "{payer}, claim {claim}{denied}: billed {billed}, allowed {allowed}, paid {paid}, your responsibility {owes}",
        "denied": " (denied)", "claim_columns": ("Code", "Amount", "What it means"), "no_adjustments": "No adjustments",
        "activity": "Account activity", "activity_columns": ("Date", "Entry", "Description", "Amount", "Balance"),
        "payments": "Payments received: {amount}", "balance_due": "Balance due: {amount}",
        "credit": "Credit in your favour: {amount}",
        "unknown_code": "a code we have no plain explanation for; call us and we will explain it",
        "codes": "Adjustment codes are the standard claim adjustment reason codes (CARC): CO is a contractual amount you do not owe, "
                 "PR is your responsibility under your plan, OA and PI are other and payer-initiated adjustments.",
    },
    "es": {
        "title": "Estado de cuenta detallado {account}", "heading": "Estado de cuenta detallado  |  Preguntas: {phone}",
        "patient": "Paciente: {name}", "account": "Cuenta: {account}", "date": "Fecha del estado de cuenta: {date}",
        "address": "Dirección postal: {address}", "services": "Servicios",
        "services_columns": ("Fecha", "Código", "Descripción", "Cargo"), "no_services": "Sin servicios",
        "claims": "Reclamos al seguro", "no_claims": "No hay reclamos al seguro en esta cuenta.",
        "claim": "{payer}, reclamo {claim}{denied}: facturado {billed}, permitido {allowed}, pagado {paid}, "
                 "su responsabilidad {owes}",
        "denied": " (negado)", "claim_columns": ("Código", "Cantidad", "Qué significa"), "no_adjustments": "Sin ajustes",
        "activity": "Movimientos de la cuenta", "activity_columns": ("Fecha", "Movimiento", "Descripción", "Cantidad", "Saldo"),
        "payments": "Pagos recibidos: {amount}", "balance_due": "Saldo a pagar: {amount}",
        "credit": "Crédito a su favor: {amount}",
        "unknown_code": "un código que no tenemos explicado en palabras sencillas; llámenos y se lo explicamos",
        "codes": "Los códigos de ajuste son los códigos estándar de motivo de ajuste de reclamos (CARC): CO es una cantidad "
                 "contractual que usted no debe, PR es su responsabilidad según su plan, OA y PI son otros ajustes y ajustes "
                 "del pagador.",
    },
}


# the ledger descriptions billing writes (seed, remittance, payments, assistance, disputes, insurance,
# refunds, write-offs), as a Spanish statement reads them; what the ledger keeps is never changed, and a
# description written otherwise (a service line from the hospital's data, a partner's reason) stays as written
_DESCRIPTIONS_ES = (
    (re.compile(r"^(?P<payer>.+) payment on claim (?P<claim>\S+)$"), "Pago de {payer} del reclamo {claim}"),
    (re.compile(r"^(?P<payer>.+) adjustment (?P<code>\S+) on claim (?P<claim>\S+)$"), "Ajuste {code} de {payer} en el reclamo {claim}"),
    (re.compile(r"^Patient payment (?P<confirmation>\S+) \((?P<card>.+)\)$"), "Pago del paciente {confirmation} ({card})"),
    (re.compile(r"^Financial assistance (?P<reference>\S+) \((?P<percent>[\d.]+)%\)$"), "Asistencia financiera {reference} ({percent}%)"),
    (re.compile(r"^Dispute (?P<reference>\S+) resolved: (?P<note>.*)$", re.S), "Disputa {reference} resuelta: {note}"),
    (re.compile(r"^Balance moved to (?P<payer>.+) for re-billing$"), "Saldo enviado a {payer} para volver a facturar"),
    (re.compile(r"^Re-billed to (?P<payer>.+): remaining balance back to patient responsibility$"),
     "Facturado otra vez a {payer}: el saldo restante vuelve a ser responsabilidad del paciente"),
    (re.compile(r"^Refund of credit by check$"), "Reembolso del crédito por cheque"),
    (re.compile(r"^Refund of credit by card(?: to card ending (?P<last4>\d{4}))?$"), "Reembolso del crédito a la tarjeta{ending}"),
    (re.compile(r"^Small balance written off \(at or under (?P<limit>.+)\)$"), "Saldo pequeño cancelado (igual o menor a {limit})"),
)


def description_words(description: str, language: str = "en") -> str:
    """A ledger entry's description as the patient's statement says it."""
    if language != "es":
        return description
    for pattern, spanish in _DESCRIPTIONS_ES:
        found = pattern.match(description)
        if found:
            values = {k: v for k, v in found.groupdict().items()}
            if "card" in values:
                values["card"] = phrase(values["card"], "es")
            values["ending"] = f" terminada en {values['last4']}" if values.get("last4") else ""
            return spanish.format(**values)
    return description


class StatementError(Refused):
    """reason: bad_delivery, no_address, no_phone, unknown, used, expired, not_queued, wrong_date_of_birth, locked"""


@dataclass
class Statement:
    client_name: str
    client_phone: str
    patient_name: str
    mailing_address: Optional[str]
    account_number: str
    statement_date: dt.date
    services: List[tuple] = field(default_factory=list)     # (date, code, description, charge)
    claims: List[dict] = field(default_factory=list)
    activity: List[tuple] = field(default_factory=list)     # (date, what, description, amount, running balance)
    payments_total: Decimal = Decimal("0.00")
    balance: Decimal = Decimal("0.00")
    language: str = "en"  # the patient's (their record): the PDF's words and dates


def build(session: Session, account: Account, today: Optional[dt.date] = None) -> Statement:
    client = get_client(session, account.client_id)
    patient = account.patient
    language = spoken(patient.language)
    statement = Statement(client_name=client.name, client_phone=display_phone(client.phone_number), patient_name=patient.full_name,
                          mailing_address=mailing_address(patient), account_number=account.account_number, statement_date=today or clock.today(),
                          language=language)
    kinds = KIND_WORDS_ES if language == "es" else KIND_WORDS
    for encounter in account.encounters:
        for line in encounter.service_lines:
            statement.services.append((encounter.date_of_service, line.code, line.description, line.charge))
    for claim in account.claims:
        explained = eob.explain_claim(claim)
        statement.claims.append({
            "payer": claim.payer, "claim_number": claim.claim_number, "billed": claim.billed, "allowed": claim.allowed,
            "paid": claim.paid, "patient_owes": explained.patient_owes, "denied": explained.denied,
            "adjustments": [(f"{a.group_code}-{a.reason_code}", a.amount, _code_words(a.group_code, a.reason_code, language))
                            for a in claim.adjustments],
        })
    running = Decimal("0.00")
    for entry in ledger.entries(session, account):
        running += entry.amount
        statement.activity.append((entry.effective_date, kinds.get(entry.kind, entry.kind), description_words(entry.description, language),
                                   entry.amount, running))
        if entry.kind == "patient_payment":
            statement.payments_total += -entry.amount
    statement.balance = running  # the sum of the ledger, as ledger.balance says
    return statement


def _code_words(group: str, reason: str, language: str = "en") -> str:
    words = eob.explain_code(group, reason, language)
    if words is None:
        return LABELS[language]["unknown_code"]
    return words.split(" significa " if language == "es" else " means ", 1)[-1]


def _latin(text: str) -> str:
    """The PDF core fonts speak Latin-1: typographic quotes and dashes become plain ones."""
    text = str(text).replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return text.replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def render_pdf(statement: Statement) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(_latin(LABELS[statement.language if statement.language in LABELS else "en"]["title"].format(account=statement.account_number)))
    pdf.set_author(_latin(statement.client_name))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(words: str, size: int = 10, style: str = "", height: float = 5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, height, _latin(words), new_x="LMARGIN", new_y="NEXT")

    def table(headings: List[str], rows: List[List[str]], widths: List[float], right: tuple = ()) -> None:
        pdf.set_font("Helvetica", "", 9)
        align = tuple("RIGHT" if heading in right else "LEFT" for heading in headings)
        with pdf.table(col_widths=tuple(widths), text_align=align, line_height=5, first_row_as_headings=True,
                       borders_layout="HORIZONTAL_LINES") as grid:
            for values in [headings] + rows:
                row = grid.row()
                for value in values:
                    row.cell(_latin(value))
        pdf.ln(3)

    words = LABELS[statement.language if statement.language in LABELS else "en"]
    text(statement.client_name, 14, "B", 7)
    text(words["heading"].format(phone=statement.client_phone))
    pdf.ln(2)
    text(words["patient"].format(name=statement.patient_name))
    text(words["account"].format(account=statement.account_number))
    text(words["date"].format(date=say_date(statement.statement_date, statement.language)))
    if statement.mailing_address:
        text(words["address"].format(address=statement.mailing_address))
    pdf.ln(3)
    text(words["services"], 12, "B", 7)
    columns = words["services_columns"]
    table(list(columns),
          [[d.isoformat(), code, described, format_money(charge)] for d, code, described, charge in statement.services]
          or [["", "", words["no_services"], ""]],
          [0.14, 0.12, 0.56, 0.18], right=(columns[3],))
    text(words["claims"], 12, "B", 7)
    if not statement.claims:
        text(words["no_claims"])
        pdf.ln(2)
    for claim in statement.claims:
        text(words["claim"].format(payer=claim["payer"], claim=claim["claim_number"], denied=words["denied"] if claim["denied"] else "",
                                   billed=format_money(claim["billed"]), allowed=format_money(claim["allowed"]),
                                   paid=format_money(claim["paid"]), owes=format_money(claim["patient_owes"])), 9, "B")
        columns = words["claim_columns"]
        table(list(columns),
              [[code, format_money(amount), meaning] for code, amount, meaning in claim["adjustments"]] or [["", "", words["no_adjustments"]]],
              [0.12, 0.16, 0.72], right=(columns[1],))
    text(words["activity"], 12, "B", 7)
    columns = words["activity_columns"]
    table(list(columns),
          [[d.isoformat(), what, described, format_money(amount), format_money(running)]
           for d, what, described, amount, running in statement.activity],
          [0.13, 0.16, 0.43, 0.14, 0.14], right=(columns[3], columns[4]))
    text(words["payments"].format(amount=format_money(statement.payments_total)), 10, "B")
    text(words["balance_due"].format(amount=format_money(statement.balance)) if statement.balance >= 0 else
         words["credit"].format(amount=format_money(-statement.balance)), 12, "B", 7)
    text(words["codes"], 8)
    return bytes(pdf.output())


# --- delivery -------------------------------------------------------------

def statement_url(raw_token: str) -> str:
    """Where the patient opens a statement link (the desk serves it)."""
    return desk_url(f"/statements/{raw_token}")


def send(session: Session, account: Account, delivery: str, *, actor: str, to: Optional[str] = None, channel: Optional[str] = None,
         conversation_id: Optional[str] = None, now: Optional[dt.datetime] = None) -> tuple[StatementDelivery, Optional[str]]:
    """Record a statement for the patient: ``link`` (shown in the chat),
    ``sms`` (a link texted to ``to``) or ``mail`` (queued for the address
    on file).  Returns the delivery and, for links, the one-time token."""
    if delivery not in DELIVERIES:
        raise StatementError("bad_delivery")
    now = now or utcnow()
    raw = None
    row = StatementDelivery(reference=new_reference(session, StatementDelivery.reference, "S"), account=account, delivery=delivery,
                            created_at=now, created_by=actor, channel=channel, conversation_id=conversation_id, failed_checks=0)
    if delivery == "mail":
        row.sent_to, row.status = mailing_address(account.patient), DeliveryStatus.QUEUED
        if row.sent_to is None:
            raise StatementError("no_address")
    else:
        if delivery == "sms" and not to:
            raise StatementError("no_phone")
        raw = secrets.token_urlsafe(24)
        row.token_hash, row.expires_at, row.sent_to, row.status = token_hash(raw), now + LINK_LIFETIME, to, DeliveryStatus.SENT
    session.add(row)
    session.flush()
    account_event(session, account, actor, "statement_sent", f"itemized statement {row.reference} by {delivery}", None,
                  {"reference": row.reference, "delivery": delivery, "to": row.sent_to})
    return row, raw


def open_link(session: Session, raw: str, now: Optional[dt.datetime] = None) -> StatementDelivery:
    row = session.execute(select(StatementDelivery).where(StatementDelivery.token_hash == token_hash(raw or ""))).scalar_one_or_none()
    if row is None:
        raise StatementError("unknown")
    if row.downloaded_at is not None:
        raise StatementError("used")
    if row.status in (DeliveryStatus.LOCKED, DeliveryStatus.FAILED):
        raise StatementError("expired")
    if (now or utcnow()) >= row.expires_at:
        raise StatementError("expired")
    return row


MAX_CHECKS = 5


def download(session: Session, raw: str, date_of_birth: dt.date, now: Optional[dt.datetime] = None) -> tuple[StatementDelivery, bytes]:
    """The PDF behind a link, once, to the person who knows the patient's
    date of birth: the link is spent by the download (not by opening the
    page, which link previews do), and by five wrong dates of birth."""
    row = open_link(session, raw, now)
    if date_of_birth != row.account.patient.date_of_birth:
        row.failed_checks = (row.failed_checks or 0) + 1
        if row.failed_checks >= MAX_CHECKS:
            row.status = DeliveryStatus.LOCKED
            account_event(session, row.account, "patient:link", "statement_locked",
                          f"itemized statement {row.reference}: link locked after {MAX_CHECKS} wrong dates of birth")
            raise StatementError("locked")
        raise StatementError("wrong_date_of_birth")
    pdf = render_pdf(build(session, row.account))
    row.downloaded_at, row.status = now or utcnow(), DeliveryStatus.DOWNLOADED
    account_event(session, row.account, "patient:link", "statement_downloaded", f"itemized statement {row.reference} downloaded")
    return row, pdf


def mark_failed(session: Session, row: StatementDelivery) -> None:
    """The text with the link could not be sent: the link is never usable."""
    row.status = DeliveryStatus.FAILED
    account_event(session, row.account, "bot", "statement_not_sent", f"itemized statement {row.reference} could not be texted")


def by_reference(session: Session, reference: str) -> Optional[StatementDelivery]:
    return session.execute(select(StatementDelivery).where(StatementDelivery.reference == reference)).scalar_one_or_none()


def mail_queue(session: Session) -> List[StatementDelivery]:
    return list(session.execute(select(StatementDelivery).where(
        StatementDelivery.delivery == "mail", StatementDelivery.status == DeliveryStatus.QUEUED).order_by(StatementDelivery.id)).scalars())


def mark_mailed(session: Session, row: StatementDelivery, *, actor: str) -> StatementDelivery:
    if row.delivery != "mail" or row.status != DeliveryStatus.QUEUED:
        raise StatementError("not_queued")
    row.status, row.mailed_at, row.mailed_by = DeliveryStatus.MAILED, utcnow(), actor
    account_event(session, row.account, actor, "statement_mailed", f"itemized statement {row.reference} mailed to {row.sent_to}")
    return row
