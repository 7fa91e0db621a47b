"""A small, tolerant reader of X12 835 remittances.

Public parsers fail on real files (only the first CAS triplet, no
claim-level CAS, fixed-width ISA only, service loops dropped when a
component separator differs), so this one reads what the segments say
and reports every problem instead of dropping data:

- delimiters from the ISA envelope (padded or not), or, without one,
  from the ST segment;
- several transactions per file; every CAS triplet, claim- and
  line-level; PLB provider adjustments; reversals (CLP02 = 22) and
  predeterminations (CLP02 = 25, not a bill);
- the balance checks: charge - paid = the claim's adjustments, and
  BPR02 = the claims' payments - the provider adjustments.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import List, Optional

GROUPS = {"CO", "PR", "OA", "PI", "CR"}
REVERSAL, PREDETERMINATION = "22", "25"
COMPONENT_CANDIDATES = (":", ">", "|", "^", "\\")


@dataclass
class Adjustment:
    group: str
    reason: str
    amount: Decimal
    level: str = "claim"           # claim or line

    def as_dict(self) -> dict:
        return {"group": self.group, "reason": self.reason, "amount": str(self.amount)}


@dataclass
class ServiceLine:
    procedure: str
    charge: Optional[Decimal]
    paid: Optional[Decimal]
    adjustments: List[Adjustment] = field(default_factory=list)


@dataclass
class ClaimPayment:
    claim_id: str                  # CLP01, the provider's patient control number
    status: str                    # CLP02
    charge: Decimal
    paid: Decimal
    patient_share: Optional[Decimal]   # CLP05
    payer_claim_number: str        # CLP07
    adjustments: List[Adjustment] = field(default_factory=list)   # claim-level and line-level
    lines: List[ServiceLine] = field(default_factory=list)

    @property
    def is_predetermination(self) -> bool:
        return self.status == PREDETERMINATION

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL

    @property
    def patient_responsibility(self) -> Decimal:
        """What the patient owes on this claim: CLP05, else the PR
        adjustments; nothing for a predetermination (not a bill)."""
        if self.is_predetermination:
            return Decimal("0.00")
        if self.patient_share is not None:
            return self.patient_share
        return sum((a.amount for a in self.adjustments if a.group == "PR"), Decimal("0.00"))

    def as_dict(self) -> dict:
        return {
            "id": self.claim_id, "status": self.status, "charge": str(self.charge), "paid": str(self.paid),
            "patient_responsibility": str(self.patient_responsibility), "payer_claim_number": self.payer_claim_number,
            "predetermination": self.is_predetermination, "reversal": self.is_reversal,
            "adjustments": [a.as_dict() for a in self.adjustments],
        }


@dataclass
class ProviderAdjustment:
    reason: str
    reference: str
    amount: Decimal

    def as_dict(self) -> dict:
        return {"reason": self.reason, "reference": self.reference, "amount": str(self.amount)}


@dataclass
class Remittance:
    """One ST..SE transaction."""

    control_number: str
    total_paid: Optional[Decimal]
    payment_date: Optional[dt.date]
    trace_number: str
    payer: str
    claims: List[ClaimPayment] = field(default_factory=list)
    provider_adjustments: List[ProviderAdjustment] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "control_number": self.control_number, "total_paid": None if self.total_paid is None else str(self.total_paid),
            "payment_date": self.payment_date.isoformat() if self.payment_date else None, "trace_number": self.trace_number,
            "payer": self.payer, "claims": [c.as_dict() for c in self.claims],
            "provider_adjustments": [p.as_dict() for p in self.provider_adjustments],
        }


@dataclass
class ReadResult:
    remittances: List[Remittance]
    problems: List[str]


def _decimal(text: str) -> Optional[Decimal]:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() else None


def _date(text: str) -> Optional[dt.date]:
    try:
        return dt.datetime.strptime(text.strip(), "%Y%m%d").date()
    except ValueError:
        return None


def delimiters(text: str) -> tuple[str, str, str]:
    """(element separator, component separator, segment terminator)."""
    if text.startswith("ISA"):
        element = text[3]
        # the ISA has 16 elements whatever their widths: ISA16 is the
        # component separator and the next character ends the segment
        position = -1
        for _ in range(16):
            position = text.index(element, position + 1)
        return element, text[position + 1], _terminator(text[position + 2:])
    element = text[2] if len(text) > 2 else "*"
    match = re.search(r"[~\n']", text)
    return element, ":", _terminator(text[match.start():]) if match else "~"


def _terminator(after: str) -> str:
    """The segment terminator from what follows the first segment: a line
    break is the terminator unless the next line starts with one (some 4010
    generators write a line break, then ``~``, before every segment)."""
    first = after[:1] or "~"
    if first in "\r\n":
        following = after.lstrip("\r\n")
        if following[:1] and not following[:1].isalnum() and not following[:1].isspace():
            return following[:1]
    return first


def segments(text: str) -> tuple[list[list[str]], str]:
    text = text.lstrip("\ufeff \r\n\t")
    element, component, terminator = delimiters(text)
    out = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n\t ")
        if raw:
            out.append(raw.split(element))
    return out, component


def read(text: str, source: str = "835") -> ReadResult:
    """Read a whole file: every transaction, and every problem met."""
    if not text.strip():
        return ReadResult([], [f"{source}: the file is empty"])
    try:
        segs, component = segments(text)
    except (ValueError, IndexError):
        return ReadResult([], [f"{source}: no X12 envelope or ST segment could be read"])
    if not segs or segs[0][0] not in ("ISA", "ST"):
        return ReadResult([], [f"{source}: not an X12 file (it starts with {segs[0][0][:10] if segs else 'nothing'!r})"])
    reader = _Reader(source, component)
    for seg in segs:
        reader.segment(seg)
    problems = reader.problems
    if not reader.remittances and not any("not an 835" in p for p in problems):
        problems.append(f"{source}: no 835 transaction (ST*835) could be read; nothing was imported")
    for remittance in reader.remittances:
        problems += _checks(remittance, source)
    return ReadResult(reader.remittances, problems)


class _Reader:
    """The state of one file's reading: the transaction, claim and service
    line being read, and the problems met; one method per segment."""

    def __init__(self, source: str, component: str):
        self.source, self.component = source, component
        self.problems: List[str] = []
        self.remittances: List[Remittance] = []
        self.current: Optional[Remittance] = None
        self.claim: Optional[ClaimPayment] = None
        self.line: Optional[ServiceLine] = None
        self.isa_control: Optional[str] = None
        self.seg: List[str] = []

    def el(self, i: int) -> str:
        return self.seg[i].strip() if len(self.seg) > i else ""

    @property
    def where(self) -> str:
        tag = self.seg[0].strip().upper()
        return f"{self.source} {self.current.control_number if self.current else ''} {tag}".replace("  ", " ")

    def segment(self, seg: List[str]) -> None:
        self.seg = seg
        tag = seg[0].strip().upper()
        if tag in ("ISA", "IEA", "ST"):
            getattr(self, f"_{tag.lower()}")()
        elif self.current is None:
            return
        elif tag == "N1" and self.el(1) == "PR":
            self.current.payer = self.el(2)
        elif tag in ("SVC", "CAS") and self.claim is None:
            return
        elif tag in ("BPR", "TRN", "CLP", "SVC", "CAS", "PLB", "SE"):
            getattr(self, f"_{tag.lower()}")()

    def _isa(self) -> None:
        self.isa_control = self.el(13)

    def _iea(self) -> None:
        if self.isa_control is not None and self.el(2) != self.isa_control:
            self.problems.append(f"{self.source}: IEA02 {self.el(2)!r} does not match ISA13 {self.isa_control!r}")

    def _st(self) -> None:
        el = self.el
        if el(1) != "835":
            self.problems.append(f"{self.source}: transaction {el(2)} is a {el(1)}, not an 835; skipped")
            self.current = None
            return
        self.current = Remittance(control_number=el(2), total_paid=None, payment_date=None, trace_number="", payer="")
        self.remittances.append(self.current)
        self.claim = self.line = None

    def _bpr(self) -> None:
        el, current = self.el, self.current
        current.total_paid = _decimal(el(2))
        if current.total_paid is None:
            self.problems.append(f"{self.where}: BPR02 {el(2)!r} is not an amount")
        if el(16):
            current.payment_date = _date(el(16))
            if current.payment_date is None:
                self.problems.append(f"{self.where}: BPR16 {el(16)!r} is not a valid date")

    def _trn(self) -> None:
        self.current.trace_number = self.el(2)

    def _clp(self) -> None:
        el = self.el
        amounts = [_decimal(el(i)) if el(i) else None for i in (3, 4, 5)]
        if amounts[0] is None or amounts[1] is None or (el(5) and amounts[2] is None):
            self.problems.append(f"{self.where} {el(1)}: charge, payment or patient share is not an amount ({el(3)!r}, {el(4)!r}, {el(5)!r})")
        self.claim = ClaimPayment(
            claim_id=el(1), status=el(2), charge=amounts[0] or Decimal("0"), paid=amounts[1] or Decimal("0"),
            patient_share=amounts[2], payer_claim_number=el(7),
        )
        self.current.claims.append(self.claim)
        self.line = None

    def _svc(self) -> None:
        el, seg, claim, component = self.el, self.seg, self.claim, self.component
        procedure = el(1)
        if procedure and not any(c in procedure for c in (component,)) and any(c in procedure for c in COMPONENT_CANDIDATES):
            self.problems.append(f"{self.where} {claim.claim_id}: SVC01 {procedure!r} uses a component separator other than {component!r}")
        charge, paid = el(2), el(3)
        if re.fullmatch(r"[A-Z0-9]{2}", procedure) and el(4):
            # qualifier alone in SVC01: the code was sent in its own element, and the amounts shifted by one
            self.problems.append(f"{self.where} {claim.claim_id}: malformed SVC {'*'.join(seg)!r}: procedure code in its own element; "
                                 f"read as {procedure}:{el(2)}")
            procedure, charge, paid = f"{procedure}{component}{el(2)}", el(3), el(4)
        elif not procedure:
            self.problems.append(f"{self.where} {claim.claim_id}: SVC01 is empty ({'*'.join(seg)!r})")
        self.line = ServiceLine(procedure=procedure, charge=_decimal(charge), paid=_decimal(paid))
        claim.lines.append(self.line)

    def _cas(self) -> None:
        el, seg, claim, line = self.el, self.seg, self.claim, self.line
        group = el(1)
        if group not in GROUPS:
            self.problems.append(f"{self.where} {claim.claim_id}: CAS group {group!r} is not CO, PR, OA, PI or CR; "
                                 f"segment not used: {'*'.join(seg)!r}")
            return
        for i in range(2, len(seg), 3):
            reason, amount_text = el(i), el(i + 1)
            if not reason and not amount_text:
                continue
            amount = _decimal(amount_text)
            if not reason or amount is None:
                self.problems.append(f"{self.where} {claim.claim_id}: CAS triplet {reason!r} {amount_text!r} is not readable")
                continue
            adjustment = Adjustment(group, reason, amount, "line" if line is not None else "claim")
            claim.adjustments.append(adjustment)
            if line is not None:
                line.adjustments.append(adjustment)

    def _plb(self) -> None:
        el, seg = self.el, self.seg
        for i in range(3, len(seg), 2):
            reason_ref, amount_text = el(i), el(i + 1)
            if not reason_ref and not amount_text:
                continue
            parts = re.split(r"[:>|^\\]", reason_ref, maxsplit=1)
            reason, reference = parts[0], parts[1] if len(parts) > 1 else ""
            amount = _decimal(amount_text)
            if amount is None or not re.fullmatch(r"[A-Z0-9]{2}", reason):
                self.problems.append(f"{self.where}: provider adjustment {reason_ref!r} {amount_text!r} is not readable; not used")
                continue
            self.current.provider_adjustments.append(ProviderAdjustment(reason, reference, amount))

    def _se(self) -> None:
        self.claim = self.line = None


def _checks(remittance: Remittance, source: str) -> List[str]:
    problems = []
    for claim in remittance.claims:
        adjusted = sum((a.amount for a in claim.adjustments), Decimal("0"))
        if claim.charge - claim.paid != adjusted:
            problems.append(
                f"{source} {remittance.control_number} {claim.claim_id}: charge {claim.charge} - paid {claim.paid} "
                f"is not the sum of its adjustments ({adjusted})"
            )
        if claim.is_predetermination:
            problems.append(f"{source} {remittance.control_number} {claim.claim_id}: a predetermination, not a bill: nothing is posted or owed")
    if remittance.total_paid is not None:
        expected = sum((c.paid for c in remittance.claims), Decimal("0")) - sum((p.amount for p in remittance.provider_adjustments), Decimal("0"))
        if expected != remittance.total_paid:
            problems.append(
                f"{source} {remittance.control_number}: BPR02 {remittance.total_paid} is not the claims' payments less "
                f"provider adjustments ({expected})"
            )
    return problems
