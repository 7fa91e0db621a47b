"""Load a data set like ../shared/data/demo_accounts.yml.

Every balance is computed from the ledger the loader posts; a balance that
differs from the file's ``expected_balance`` stops the load and nothing is
kept.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing import ledger
from billing.gateway import PaymentGateway, default_gateway
from billing import staff
from billing.models import (
    Account,
    Claim,
    ClaimAdjustment,
    Client,
    Encounter,
    InsurancePolicy,
    Patient,
    Payment,
    PaymentMethod,
    PaymentPlan,
    PlanInstallment,
    ServiceLine,
)
from billing.money import money
from billing.policy import ClientPolicy
from billing.schedule import monthly_due_dates

ACTOR = "import:seed"
DEFAULT_DATA_FILE = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "demo_accounts.yml").resolve()


class SeedError(RuntimeError):
    pass


@dataclass
class SeedReport:
    clients: int = 0
    patients: int = 0
    accounts: int = 0
    ledger_entries: int = 0
    demo_users: int = 0


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def database_is_empty(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(Client)).scalar_one() == 0


def load(session: Session, path: Path | str, gateway: PaymentGateway | None = None) -> SeedReport:
    """Load the data set in one transaction (the caller commits)."""
    gateway = gateway or default_gateway()
    data = yaml.safe_load(Path(path).read_text())
    report = SeedReport()
    existing = {c for c in session.execute(select(Client.id)).scalars()}
    clash = existing & {c["id"] for c in data.get("clients", [])}
    if clash:
        raise SeedError(f"clients already loaded: {', '.join(sorted(clash))}; load into an empty database")

    for raw in data.get("clients", []):
        ClientPolicy.from_dict(raw["policy"])  # refuse a policy the rules could not read
        session.add(
            Client(id=raw["id"], name=raw["name"], phone_number=raw["phone_number"], timezone=raw["timezone"], policy=raw["policy"])
        )
        report.clients += 1
    session.flush()

    mismatches = []
    for raw in data.get("patients", []):
        patient = _load_patient(session, raw, gateway)
        report.patients += 1
        for raw_account in raw.get("accounts", []):
            account = _load_account(session, patient, raw_account)
            report.accounts += 1
            computed = ledger.balance(session, account)
            expected = money(raw_account["expected_balance"])
            if computed != expected:
                mismatches.append(f"account {account.account_number}: ledger gives {computed}, file expects {expected}")
    if mismatches:
        raise SeedError("computed balances differ from expected_balance:\n  " + "\n  ".join(mismatches))
    report.ledger_entries = session.execute(select(func.count()).select_from(ledger.LedgerEntry)).scalar_one()
    if Path(path).resolve() == DEFAULT_DATA_FILE and not staff.production_mode():
        # the demo desk users come with the demo data, and only with it
        report.demo_users = staff.add_demo_users(session)
    return report


def _load_patient(session: Session, raw: dict, gateway: PaymentGateway) -> Patient:
    address = raw.get("address") or {}
    household = raw.get("household") or {}
    consent = raw.get("consent") or {}
    patient = Patient(
        id=raw["id"],
        client_id=raw["client"],
        first_name=raw["first_name"],
        last_name=raw["last_name"],
        date_of_birth=_date(raw["date_of_birth"]),
        phone=raw.get("phone"),
        email=raw.get("email"),
        address_line1=address.get("line1"),
        city=address.get("city"),
        state=address.get("state"),
        zip_code=address.get("zip"),
        language=raw.get("language", "en"),
        consent_sms=bool(consent.get("sms")),
        consent_voice=bool(consent.get("voice")),
        household_size=household.get("size"),
        annual_income=money(household["annual_income"]) if household.get("annual_income") else None,
    )
    session.add(patient)
    for ins in raw.get("insurance", []):
        session.add(
            InsurancePolicy(
                patient=patient,
                payer=ins["payer"],
                member_id=str(ins["member_id"]),
                group_number=ins.get("group"),
                priority=ins.get("priority", "primary"),
                active=bool(ins.get("active", True)),
                termination_date=_date(ins.get("termination_date")),
                status="verified",
            )
        )
    session.flush()
    for card in raw.get("payment_methods", []):
        year, month = str(card["exp"]).split("-")
        token = gateway.tokenize(session, str(card["card"]), int(month), int(year))
        session.add(
            PaymentMethod(
                patient_id=patient.id,
                gateway=gateway.name,
                token=token.token,
                brand=card.get("brand") or token.brand,
                last4=token.last4,
                exp_month=token.exp_month,
                exp_year=token.exp_year,
                is_default=bool(card.get("default")),
            )
        )
    session.flush()
    return patient


def _load_account(session: Session, patient: Patient, raw: dict) -> Account:
    number = str(raw["account_number"])
    account = Account(
        account_number=number,
        client_id=patient.client_id,
        patient_id=patient.id,
        statement_date=_date(raw.get("statement_date")),
        due_date=_date(raw.get("due_date")),
    )
    session.add(account)
    session.flush()
    for e_idx, raw_enc in enumerate(raw.get("encounters", [])):
        dos = _date(raw_enc["date_of_service"])
        encounter = Encounter(account_id=account.id, date_of_service=dos, kind=raw_enc["kind"])
        session.add(encounter)
        session.flush()
        for l_idx, line in enumerate(raw_enc.get("service_lines", [])):
            session.add(ServiceLine(encounter_id=encounter.id, code=str(line["code"]), description=line["description"], charge=money(line["charge"])))
            ledger.post(
                session, account, kind="charge", amount=money(line["charge"]), reason_code=f"SVC-{line['code']}",
                description=line["description"], actor=ACTOR, effective_date=dos,
                source=f"seed:{number}:charge:{e_idx}:{l_idx}",
            )
        for raw_claim in raw_enc.get("claims", []):
            _load_claim(session, account, encounter, raw_claim)
    for a_idx, adj in enumerate(raw.get("adjustments", [])):
        amount = money(adj["amount"])
        ledger.post(
            session, account, kind="discount" if amount < 0 else "charge", amount=amount, reason_code=adj["code"],
            description=adj.get("description") or adj["code"], actor=ACTOR, effective_date=_date(adj["date"]),
            source=f"seed:{number}:adjustment:{a_idx}",
        )
    payments = [_load_payment(session, account, patient, p, idx) for idx, p in enumerate(raw.get("payments", []))]
    if raw.get("payment_plan"):
        _load_plan(session, account, patient, raw["payment_plan"], payments)
    return account


def _load_claim(session: Session, account: Account, encounter: Encounter, raw: dict) -> None:
    claim = Claim(
        account_id=account.id, encounter_id=encounter.id, payer=raw["payer"], claim_number=raw["claim_number"],
        billed=money(raw["billed"]), allowed=money(raw["allowed"]), paid=money(raw["paid"]),
        status="denied" if money(raw["paid"]) == 0 and money(raw["allowed"]) == 0 else "processed",
    )
    session.add(claim)
    session.flush()
    if claim.paid:
        ledger.post(
            session, account, kind="insurance_payment", amount=-claim.paid, reason_code="INS-PAY",
            description=f"{claim.payer} payment on claim {claim.claim_number}", actor=ACTOR,
            effective_date=encounter.date_of_service, source=f"claim:{claim.claim_number}:payment",
        )
    for idx, adj in enumerate(raw.get("adjustments", [])):
        group, reason, amount = adj["group"], str(adj["reason"]), money(adj["amount"])
        session.add(ClaimAdjustment(claim_id=claim.id, group_code=group, reason_code=reason, amount=amount))
        if group != "PR":  # PR is what the patient owes: it stays on the balance
            ledger.post(
                session, account, kind="contractual_adjustment", amount=-amount, reason_code=f"{group}-{reason}",
                description=f"{claim.payer} adjustment {group}-{reason} on claim {claim.claim_number}", actor=ACTOR,
                effective_date=encounter.date_of_service, source=f"claim:{claim.claim_number}:adj:{idx}",
            )


def _load_payment(session: Session, account: Account, patient: Patient, raw: dict, idx: int) -> Payment:
    status = raw.get("status", "posted")
    last4 = raw.get("card_last4")
    method = next((m for m in patient.payment_methods if last4 and m.last4 == last4), None)
    key = f"seed:{account.account_number}:payment:{idx}"
    payment = Payment(
        account_id=account.id, payment_method_id=method.id if method else None, amount=money(raw["amount"]),
        status=status, decline_code=raw.get("decline_code"), card_brand=method.brand if method else None,
        card_last4=last4, method=raw.get("method", "card"), payment_date=_date(raw["date"]), idempotency_key=key,
        confirmation_number=f"SEED-{account.account_number}-{idx + 1}" if status == "posted" else None,
        note=raw.get("note"), actor=ACTOR, channel="import",
    )
    session.add(payment)
    session.flush()
    if status == "posted":
        ledger.post(
            session, account, kind="patient_payment", amount=-payment.amount, reason_code="PAT-PAY",
            description=raw.get("note") or f"Patient payment {payment.confirmation_number}", actor=ACTOR,
            effective_date=payment.payment_date, source=f"payment:{payment.id}",
        )
    return payment


def _load_plan(session: Session, account: Account, patient: Patient, raw: dict, payments: list[Payment]) -> None:
    start = _date(raw["start_date"])
    monthly = money(raw["monthly_amount"])
    months = int(raw["months"])
    method = next((m for m in patient.payment_methods if m.is_default), None)
    plan = PaymentPlan(
        account_id=account.id, start_date=start, monthly_amount=monthly, months=months,
        day_of_month=int(raw["day_of_month"]), status=raw.get("status", "active"),
        missed_payments=int(raw.get("missed_payments", 0)), payment_method_id=method.id if method else None,
        created_by=ACTOR,
    )
    session.add(plan)
    session.flush()
    by_date = {p.payment_date: p for p in payments}
    for seq, due in enumerate(monthly_due_dates(start, plan.day_of_month, months), start=1):
        payment = by_date.get(due)
        status = "due"
        if payment is not None:
            status = "paid" if payment.status == "posted" else "missed"
        session.add(
            PlanInstallment(plan_id=plan.id, seq=seq, due_date=due, amount=monthly, status=status, payment_id=payment.id if payment else None)
        )
    session.flush()
