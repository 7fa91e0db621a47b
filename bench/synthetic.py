"""Synthetic accounts for measuring outreach: the demo data set (its two
clients, their policies and campaigns) plus N patients with one account
each, spread over both clients so that, on a given day, every rule of the
planner has work: statements and due dates around the day (due, past due,
not yet due), plans with installments, balances owed, small and credit,
texts and calls consented or not, opt-outs, partners' holds, addresses in
several time zones, earlier attempts (already sent, the 7-day cap reached)
and patients verified in a conversation this week (no call for 7 days).

Bulk inserts, so 10,000 accounts load in seconds.  Usage:
python -m bench.synthetic N DATABASE_URL [--day 2026-11-28]"""
from __future__ import annotations

import argparse
import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import func, insert, select

from billing import db, seed
from billing.models import (
    Account, ContactPreference, IdentityCheck, LedgerEntry, OutreachAttempt, OutreachHold, Patient, PaymentPlan,
    PlanInstallment,
)
from billing.vocabulary import InstallmentStatus, OutreachStatus, PlanStatus
from selfpay.settings import PROJECT_ROOT

DEMO_FILE = PROJECT_ROOT.parent / "shared" / "data" / "demo_accounts.yml"
# (state, ZIP): Atlanta, Chicago, Denver, Los Angeles, Phoenix (no daylight saving), none (the client's zone)
PLACES = (("GA", "30303"), ("IL", "60601"), ("CO", "80202"), ("CA", "90012"), ("AZ", "85004"), (None, None))
FIRST = ("Ana", "Ben", "Carla", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena")
LAST = ("Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Vega", "Weber")


def generate(url: str, n: int, day: dt.date, *, seed_value: int = 14) -> dict:
    """Load the demo data set, then ``n`` synthetic accounts; what was made."""
    rng = random.Random(seed_value)
    db.migrate(url)
    with db.session_scope(url) as session:
        seed.load(session, DEMO_FILE)
    now = dt.datetime.combine(day, dt.time(15, 0))
    patients, accounts, ledger, prefs, holds, plans, installments, attempts, checks = [], [], [], [], [], [], [], [], []
    with db.session_scope(url) as session:
        account_id = (session.execute(select(func.max(Account.id))).scalar() or 0) + 1
        plan_id = (session.execute(select(func.max(PaymentPlan.id))).scalar() or 0) + 1
        for i in range(n):
            client = "riverside" if i % 3 else "lakeside"
            state, zip_code = PLACES[i % len(PLACES)]
            phone = f"+1555{7000000 + i:07d}"
            pid = f"syn-{i:06d}"
            patients.append(dict(
                id=pid, client_id=client, first_name=FIRST[i % len(FIRST)], last_name=LAST[i % len(LAST)],
                date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), phone=phone if i % 47 else None,
                state=state, zip_code=zip_code, language="es" if i % 5 == 0 else "en",
                consent_sms=rng.random() < 0.9, consent_voice=rng.random() < 0.6))
            statement = day - dt.timedelta(days=rng.randint(0, 60))
            due = statement + dt.timedelta(days=rng.choice((14, 21, 28)))
            accounts.append(dict(id=account_id, account_number=f"9{i:08d}", client_id=client, patient_id=pid,
                                 statement_date=statement, due_date=due))
            kind = rng.random()
            amount = (Decimal("-40.00") if kind < 0.04 else Decimal("4.50") if kind < 0.1
                      else Decimal(rng.randint(2500, 500000)) / 100)
            ledger.append(dict(account_id=account_id, kind="charge" if amount > 0 else "adjustment", amount=amount,
                               effective_date=statement, posted_at=now, reason_code="synthetic",
                               description="synthetic charge", actor="import"))
            if i % 29 == 0 and phone:
                prefs.append(dict(client_id=client, channel="all", address=phone, opted_out=True, updated_at=now,
                                  source="sms STOP"))
            if i % 37 == 0:
                holds.append(dict(account_id=account_id, reason="synthetic hold", placed_by="bench", placed_at=now))
            if i % 11 == 0 and amount > 300:
                plans.append(dict(id=plan_id, account_id=account_id, months=6, monthly_amount=(amount / 6).quantize(Decimal("0.01")),
                                  day_of_month=1 + i % 28, start_date=statement, status=PlanStatus.ACTIVE, missed_payments=0,
                                  created_at=now, created_by="bench"))
                for seq in range(6):
                    installments.append(dict(plan_id=plan_id, seq=seq + 1, due_date=statement + dt.timedelta(days=30 * seq + 3),
                                             amount=(amount / 6).quantize(Decimal("0.01")), status=InstallmentStatus.DUE))
                plan_id += 1
            if i % 13 == 0 and phone:
                attempts.append(dict(client_id=client, account_id=account_id, patient_id=pid, campaign="due_reminder",
                                     step=f"due:{due.isoformat()}", channel="sms", to=phone, language="en",
                                     status=OutreachStatus.DELIVERED, created_at=now - dt.timedelta(days=2),
                                     sent_at=now - dt.timedelta(days=2), tries=1))
            if i % 17 == 0 and phone:   # seven reminders this week: both clients' caps reached
                for k in range(7):
                    attempts.append(dict(client_id=client, account_id=account_id, patient_id=pid, campaign="statement_ready",
                                         step=f"synthetic:{k}", channel="sms", to=phone, language="en",
                                         status=OutreachStatus.DELIVERED, created_at=now - dt.timedelta(days=1, hours=k),
                                         sent_at=now - dt.timedelta(days=1, hours=k), tries=1))
            if i % 19 == 0:             # verified in a conversation two days ago: no call this week
                checks.append(dict(at=now - dt.timedelta(days=2), client_id=client, conversation_id=f"synthetic-{i}",
                                   channel="sms", outcome="verified", patient_id=pid))
            account_id += 1
        for model, rows in ((Patient, patients), (Account, accounts), (LedgerEntry, ledger), (ContactPreference, prefs),
                            (OutreachHold, holds), (PaymentPlan, plans), (PlanInstallment, installments),
                            (OutreachAttempt, attempts), (IdentityCheck, checks)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(model), rows[start:start + 2000])
    return {"accounts": n, "opt_outs": len(prefs), "holds": len(holds), "plans": len(plans), "attempts": len(attempts),
            "conversations": len(checks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("database_url")
    parser.add_argument("--day", default="2026-11-28")
    args = parser.parse_args()
    print(generate(args.database_url, args.n, dt.date.fromisoformat(args.day)))


if __name__ == "__main__":
    main()
