"""Importing 835 remittances: read (billing.x12), match each claim to an
account, post the payer's payment and non-patient adjustments to the
ledger once (a re-import finds the same sources and posts nothing), and
report every problem and every claim that matched no account."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from billing import ledger, x12
from billing.models import Account, Claim, LedgerEntry

ACTOR = "import:835"


@dataclass
class ImportReport:
    transactions: List[Tuple[str, x12.Remittance]] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    posted: List[str] = field(default_factory=list)        # ledger entries written by this run
    already: List[str] = field(default_factory=list)       # found from an earlier import
    unmatched: List[str] = field(default_factory=list)     # claims with no account here

    def as_dict(self) -> dict:
        return {
            "transactions": [{"file": name, **remittance.as_dict()} for name, remittance in self.transactions],
            "problems": self.problems, "posted": self.posted, "already_posted": self.already, "unmatched_claims": self.unmatched,
        }


def files_in(path: Path) -> List[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".835", ".edi", ".x12", ".txt"))
    return [path]


def import_path(session: Session, path: Path, *, post: bool = True) -> ImportReport:
    report = ImportReport()
    if not path.exists():
        report.problems.append(f"{path}: no such file or folder")
        return report
    for file in files_in(path):
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            report.problems.append(f"{file.name}: cannot be read ({exc.strerror})")
            continue
        result = x12.read(text, file.name)
        report.problems += result.problems
        for remittance in result.remittances:
            report.transactions.append((file.name, remittance))
            if post:
                for claim in remittance.claims:
                    _post_claim(session, report, file.name, remittance, claim)
    return report


def _match(session: Session, claim: x12.ClaimPayment) -> Optional[Account]:
    """The account a remitted claim belongs to: our claim number as the
    patient control number (CLP01) or the payer's (CLP07), or the account number."""
    keys = [k for k in (claim.claim_id, claim.payer_claim_number) if k]
    row = session.execute(select(Claim).where(Claim.claim_number.in_(keys))).scalars().first()
    if row is not None:
        return row.account
    return session.execute(select(Account).where(or_(*(Account.account_number == k for k in keys)))).scalars().first() if keys else None


def _post_claim(session: Session, report: ImportReport, file: str, remittance: x12.Remittance, claim: x12.ClaimPayment) -> None:
    if claim.is_predetermination:
        return  # not a bill: reported by the reader, nothing to post
    account = _match(session, claim)
    if account is None:
        report.unmatched.append(f"{file} {remittance.control_number} {claim.claim_id}")
        return
    prefix = f"835:{remittance.trace_number or remittance.control_number}:{claim.claim_id}:{claim.status}"
    day = remittance.payment_date
    entries = []
    if claim.paid:
        entries.append(("insurance_payment", -claim.paid, "INS-PAY", f"{remittance.payer or 'Payer'} payment on claim {claim.claim_id}"
                        + (" (reversal)" if claim.is_reversal else ""), f"{prefix}:paid"))
    for i, adj in enumerate(claim.adjustments):
        if adj.group == "PR" or not adj.amount:
            continue  # what the patient owes stays on the balance
        entries.append(("contractual_adjustment", -adj.amount, f"{adj.group}-{adj.reason}",
                        f"{remittance.payer or 'Payer'} adjustment {adj.group}-{adj.reason} on claim {claim.claim_id}", f"{prefix}:adj:{i}"))
    for kind, amount, code, description, source in entries:
        if session.execute(select(LedgerEntry.id).where(LedgerEntry.source == source)).first() is not None:
            report.already.append(source)
            continue
        ledger.post(session, account, kind=kind, amount=amount, reason_code=code, description=description, actor=ACTOR,
                    effective_date=day, source=source)
        report.posted.append(source)
