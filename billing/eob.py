"""Explanations of benefits in plain words: what the payer allowed and
paid on each claim, what the patient owes and why (deductible,
coinsurance, copay, not covered), and what each adjustment code means,
in our own words, saying so honestly when a code is not one we explain."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional

from sqlalchemy.orm import Session

from billing.models import Account, Claim

ZERO = Decimal("0.00")

GROUPS = {
    "CO": "a contractual adjustment: the hospital wrote it off under its contract with your plan, so you don't owe it",
    "PR": "patient responsibility: your share under your plan",
    "OA": "another adjustment, not billed to you as patient responsibility",
    "PI": "an adjustment the payer made, not billed to you as patient responsibility",
    "CR": "a correction or reversal of an earlier payment",
}

# Claim adjustment reason codes (CARC), explained in our own words.
REASONS = {
    "1": "the deductible: the amount you pay each year before your plan starts paying",
    "2": "coinsurance: your percentage share of the allowed amount after the deductible",
    "3": "the copay: the fixed amount your plan asks you to pay for this kind of visit",
    "4": "the service code doesn't match the modifier billed, so the payer did not pay it as billed",
    "5": "the service code doesn't fit the place where care was given",
    "6": "the service doesn't fit the patient's age on the claim",
    "7": "the service doesn't fit the patient's sex on the claim",
    "9": "the diagnosis doesn't fit the patient's age",
    "11": "the diagnosis on the claim doesn't support the service billed",
    "13": "the claim gives a date of death before the date of service",
    "15": "the authorization number was missing or not valid",
    "16": "the claim was missing information the payer needs; the hospital can correct and resubmit it",
    "18": "the payer already processed this same claim or service (a duplicate)",
    "19": "the payer says this was a work injury, for workers' compensation to pay",
    "20": "the payer says this injury is covered by another liability insurer",
    "22": "another payer may be responsible for this care (coordination of benefits)",
    "23": "an earlier payer already paid or adjusted part of this, so this payer covered only the rest",
    "24": "the charges are covered under a capitation or managed care agreement",
    "26": "the care was given before your coverage started",
    "27": "the care was given after your coverage ended",
    "29": "the claim was sent to the payer after its filing deadline",
    "31": "the payer could not identify the patient as one of its members",
    "32": "the payer does not consider the patient an eligible dependent",
    "35": "you have reached the plan's lifetime benefit maximum",
    "39": "the service was denied when the authorization was requested",
    "40": "the charges do not meet the payer's rules for emergency or urgent care",
    "45": "the charge is above the rate the hospital agreed with your plan; the difference is written off",
    "49": "a routine service or exam your plan does not cover",
    "50": "the payer does not consider this service medically necessary",
    "51": "the payer considers this a pre-existing condition",
    "55": "the payer considers the procedure experimental or investigational",
    "58": "the place of service was not appropriate for this care under the plan",
    "59": "the charge was reduced under the rules for several or concurrent procedures",
    "96": "a charge your plan does not cover",
    "97": "the payment for this service is included in the payment for another service on the claim (bundled)",
    "100": "the payment was made to the patient, the insured or the responsible party",
    "101": "the predetermined amount: what the payer estimated before the care",
    "109": "this payer does not cover this claim; it should go to another payer",
    "119": "the plan's maximum for this benefit has been reached",
    "125": "the claim had an error in how it was submitted",
    "129": "the payer needs earlier processing information that is missing or wrong",
    "131": "the payer applied a negotiated discount",
    "140": "the patient's name or member ID doesn't match the payer's records",
    "142": "a monthly Medicaid patient liability amount",
    "146": "the diagnosis on the claim was not valid for the date of service",
    "151": "the payer says the information given doesn't support this many services",
    "167": "the diagnosis is not covered by your plan",
    "170": "payment is denied when this type of provider performs the service",
    "181": "the procedure code was not valid on the date of service",
    "182": "the procedure modifier was not valid on the date of service",
    "185": "the rendering provider is not eligible to perform this service",
    "197": "the precertification or authorization was missing",
    "198": "the precertification or authorization was exceeded",
    "204": "this service, equipment or drug is not covered under your current benefit plan",
    "222": "the plan's maximum hours, days or units for this service were exceeded",
    "236": "this procedure is not paid together with another one billed for the same day",
    "242": "the services came from a provider outside your plan's network",
    "252": "the payer needs more documentation to process the claim",
    "253": "a sequestration reduction of a federal payment",
    "A1": "the claim or service was denied",
    "A2": "a contractual adjustment under the hospital's agreement with the payer",
    "B7": "this provider was not certified or eligible to be paid for this service on this date",
}

def explain_code(group: str, reason: str) -> Optional[str]:
    """Our plain-words meaning of an adjustment code, or None when it is
    not one we can explain (the caller says so honestly)."""
    text = REASONS.get(reason.upper().lstrip("0") or reason)
    if text is None:
        return None
    return f"{group}-{reason} means {text}" if group else f"Code {reason} means {text}"


@dataclass(frozen=True)
class ClaimExplanation:
    payer: str
    claim_number: str
    billed: Decimal
    allowed: Decimal
    paid: Decimal
    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal
    other_owed: Decimal                 # PR amounts other than deductible, coinsurance, copay
    written_off: Decimal                # CO and other non-PR adjustments
    denied_reasons: tuple               # (group, reason) of the codes behind a denial

    @property
    def patient_owes(self) -> Decimal:
        return self.deductible + self.coinsurance + self.copay + self.other_owed

    @property
    def denied(self) -> bool:
        return self.paid == 0 and self.patient_owes == self.billed


def explain_claim(claim: Claim) -> ClaimExplanation:
    owed = {"1": ZERO, "2": ZERO, "3": ZERO}
    other, written_off = ZERO, ZERO
    reasons = []
    for adj in claim.adjustments:
        if adj.group_code == "PR" and adj.reason_code in owed:
            owed[adj.reason_code] += adj.amount
        elif adj.group_code == "PR":
            other += adj.amount
            reasons.append(("PR", adj.reason_code))
        else:
            written_off += adj.amount
    return ClaimExplanation(
        payer=claim.payer, claim_number=claim.claim_number, billed=claim.billed, allowed=claim.allowed, paid=claim.paid,
        deductible=owed["1"], coinsurance=owed["2"], copay=owed["3"], other_owed=other, written_off=written_off,
        denied_reasons=tuple(reasons),
    )


def claims_of(session: Session, account: Account) -> List[ClaimExplanation]:
    return [explain_claim(c) for c in account.claims]
