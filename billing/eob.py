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

# the same codes in Spanish, our own words (tests/unit/test_eob.py: every code has its Spanish)
REASONS_ES = {
    "1": "el deducible: lo que usted paga cada año antes de que su plan empiece a pagar",
    "2": "el coseguro: su porcentaje de la cantidad permitida después del deducible",
    "3": "el copago: la cantidad fija que su plan le pide pagar por este tipo de visita",
    "4": "el código del servicio no coincide con el modificador facturado, así que el pagador no lo pagó como se facturó",
    "5": "el código del servicio no corresponde al lugar donde se dio la atención",
    "6": "el servicio no corresponde a la edad del paciente en el reclamo",
    "7": "el servicio no corresponde al sexo del paciente en el reclamo",
    "9": "el diagnóstico no corresponde a la edad del paciente",
    "11": "el diagnóstico del reclamo no justifica el servicio facturado",
    "13": "el reclamo da una fecha de fallecimiento anterior a la fecha del servicio",
    "15": "el número de autorización faltaba o no era válido",
    "16": "al reclamo le faltaba información que el pagador necesita; el hospital puede corregirlo y enviarlo otra vez",
    "18": "el pagador ya procesó este mismo reclamo o servicio (un duplicado)",
    "19": "el pagador dice que fue una lesión de trabajo, que debe pagar la compensación laboral",
    "20": "el pagador dice que esta lesión la cubre otra aseguradora de responsabilidad civil",
    "22": "puede que otro pagador sea responsable de esta atención (coordinación de beneficios)",
    "23": "un pagador anterior ya pagó o ajustó una parte, así que este pagador cubrió solo el resto",
    "24": "los cargos están cubiertos por un acuerdo de capitación o de atención administrada",
    "26": "la atención se dio antes de que empezara su cobertura",
    "27": "la atención se dio después de que terminó su cobertura",
    "29": "el reclamo se envió al pagador después de su fecha límite",
    "31": "el pagador no pudo identificar al paciente como uno de sus miembros",
    "32": "el pagador no considera al paciente un dependiente elegible",
    "35": "usted llegó al máximo de beneficios de por vida del plan",
    "39": "el servicio se negó cuando se pidió la autorización",
    "40": "los cargos no cumplen las reglas del pagador para atención de emergencia o urgencia",
    "45": "el cargo es mayor que la tarifa que el hospital acordó con su plan; la diferencia se cancela",
    "49": "un servicio o examen de rutina que su plan no cubre",
    "50": "el pagador no considera este servicio médicamente necesario",
    "51": "el pagador lo considera una condición preexistente",
    "55": "el pagador considera el procedimiento experimental o en investigación",
    "58": "el lugar del servicio no era el adecuado para esta atención según el plan",
    "59": "el cargo se redujo por las reglas de varios procedimientos o procedimientos simultáneos",
    "96": "un cargo que su plan no cubre",
    "97": "el pago de este servicio está incluido en el pago de otro servicio del reclamo (agrupado)",
    "100": "el pago se hizo al paciente, al asegurado o a la parte responsable",
    "101": "la cantidad predeterminada: lo que el pagador estimó antes de la atención",
    "109": "este pagador no cubre este reclamo; debe ir a otro pagador",
    "119": "se llegó al máximo del plan para este beneficio",
    "125": "el reclamo tenía un error en la forma en que se envió",
    "129": "el pagador necesita información de un procesamiento anterior que falta o está equivocada",
    "131": "el pagador aplicó un descuento negociado",
    "140": "el nombre o el número de miembro del paciente no coincide con los registros del pagador",
    "142": "una cantidad mensual de responsabilidad del paciente de Medicaid",
    "146": "el diagnóstico del reclamo no era válido en la fecha del servicio",
    "151": "el pagador dice que la información dada no justifica tantos servicios",
    "167": "su plan no cubre el diagnóstico",
    "170": "el pago se niega cuando este tipo de proveedor hace el servicio",
    "181": "el código del procedimiento no era válido en la fecha del servicio",
    "182": "el modificador del procedimiento no era válido en la fecha del servicio",
    "185": "el proveedor que dio la atención no es elegible para hacer este servicio",
    "197": "faltaba la precertificación o la autorización",
    "198": "se excedió la precertificación o la autorización",
    "204": "su plan de beneficios actual no cubre este servicio, equipo o medicamento",
    "222": "se excedió el máximo de horas, días o unidades del plan para este servicio",
    "236": "este procedimiento no se paga junto con otro facturado el mismo día",
    "242": "los servicios los dio un proveedor fuera de la red de su plan",
    "252": "el pagador necesita más documentación para procesar el reclamo",
    "253": "una reducción por secuestro presupuestario de un pago federal",
    "A1": "el reclamo o servicio fue negado",
    "A2": "un ajuste contractual según el acuerdo del hospital con el pagador",
    "B7": "este proveedor no estaba certificado o no era elegible para recibir pago por este servicio en esta fecha",
}


def explain_code(group: str, reason: str, language: str = "en") -> Optional[str]:
    """Our plain-words meaning of an adjustment code, in English or
    Spanish, or None when it is not one we can explain (the caller says so
    honestly)."""
    key = reason.upper().lstrip("0") or reason
    if language == "es":
        text = REASONS_ES.get(key)
        if text is None:
            return None
        return f"{group}-{reason} significa {text}" if group else f"El código {reason} significa {text}"
    text = REASONS.get(key)
    if text is None:
        return None
    return f"{group}-{reason} means {text}" if group else f"Code {reason} means {text}"


def owed_words(item: "ClaimExplanation", language: str = "en") -> str:
    """What the patient owes on a claim and why, in words of the approved
    scripts: "your $300.00 deductible and $112.50 coinsurance"; in Spanish
    "su deducible de $300.00 y $112.50 de coseguro"."""
    from billing.money import format_money
    from billing.scripts import script

    parts = [script(name, language=language, amount=format_money(amount)) for name, amount in (
        ("utter_eob_part_deductible", item.deductible), ("utter_eob_part_coinsurance", item.coinsurance),
        ("utter_eob_part_copay", item.copay), ("utter_eob_part_other", item.other_owed)) if amount]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + (" y " if language == "es" else " and ") + parts[-1]


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
