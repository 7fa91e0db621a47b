"""Contact details: phone numbers validated with the phonenumbers library."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from billing.models import ContactChange, Patient
from billing.records import Refused, decide, patient_event
from billing.vocabulary import ChangeStatus


def normalise_phone(text: str, region: str = "US") -> str | None:
    """E.164 form of a phone number as a person types or says it, or None
    when it is not a possible number."""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    # the fictional 555-01xx range is possible but not "valid"; accept possible numbers
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """'+15550100100' -> '(555) 010-0100'; other forms are shown as given."""
    if e164 and e164.startswith("+1") and len(e164) == 12 and e164[1:].isdigit():
        digits = e164[2:]
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164


# --- reading what a patient says ------------------------------------------

EMAIL = re.compile(r"[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.I)
STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI",
    "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN", "mississippi": "MS",
    "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}
_STATE = "|".join(sorted(STATES, key=len, reverse=True)) + "|" + "|".join(STATES.values())
STREET_WORDS = ("street", "st", "avenue", "ave", "road", "rd", "drive", "dr", "lane", "ln", "boulevard", "blvd", "way",
                "court", "ct", "place", "pl", "terrace", "ter", "circle", "cir", "parkway", "pkwy", "highway", "hwy", "trail",
                "trl", "square", "sq", "loop", "run", "path", "row", "pike")
_UNIT = r"(?:\s*,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*[a-z0-9-]+)?"
ADDRESS = re.compile(
    r"(?P<line1>\d+[a-z]?\s+[a-z0-9 .'-]+?\b(?:" + "|".join(STREET_WORDS) + r")\b\.?" + _UNIT + r")\s*,?\s+"
    r"(?P<city>[a-z][a-z .'-]*?)\s*,?\s+(?P<state>" + _STATE + r")\.?\s*,?\s*(?P<zip>\d{5})(?:-\d{4})?\b", re.I)
# "po box 12, springfield il 62704"
PO_BOX = re.compile(r"(?P<line1>p\.?\s*o\.?\s*box\s+\d+)\s*,?\s+(?P<city>[a-z][a-z .'-]*?)\s*,?\s+(?P<state>" + _STATE
                    + r")\.?\s*,?\s*(?P<zip>\d{5})(?:-\d{4})?\b", re.I)
NAME = re.compile(r"^[a-z][a-z'’-]*(?:\s+[a-z][a-z'’.-]*){1,3}$", re.I)
NAME_LEAD = re.compile(r"^(?:(?:my\s+)?(?:new\s+)?(?:legal\s+)?name\s+(?:is|will be|is now)|it'?s(?:\s+now)?|it is(?:\s+now)?|i'?m(?:\s+now)?|"
                       r"change it to|to)\s+", re.I)


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip_code: str

    def one_line(self) -> str:
        return f"{self.line1}, {self.city}, {self.state} {self.zip_code}"


def read_email(text: str) -> Optional[str]:
    found = EMAIL.search((text or "").replace(" at ", "@").replace(" dot ", ".") if "@" not in (text or "") else text or "")
    return found.group(0).lower() if found else None


def _address_word(word: str) -> str:
    """'18TH' -> '18th', '4b' -> '4B', 'oak' -> 'Oak', 'McAdams' as typed."""
    if re.fullmatch(r"\d+(st|nd|rd|th)", word, re.I):
        return word.lower()
    if word[:1].isdigit():
        return word.upper()
    return word.capitalize() if word.islower() or word.isupper() and len(word) > 2 else word


def read_address(text: str) -> Optional[Address]:
    """A US mailing address said or typed on one line; None when a part
    (street, city, state, ZIP) is missing."""
    text = " ".join((text or "").split())
    found = ADDRESS.search(text) or PO_BOX.search(text)
    if not found:
        return None
    state = found.group("state")
    state = STATES.get(state.lower(), state.upper())
    line1 = " ".join(_address_word(w) for w in found.group("line1").rstrip(" ,.").split())
    line1 = re.sub(r"^P\.?\s*O\.?\s*Box", "PO Box", line1, flags=re.I)
    city = " ".join(w.capitalize() for w in found.group("city").strip(" ,.").split())
    return Address(line1=line1, city=city, state=state, zip_code=found.group("zip"))


def read_name(text: str) -> Optional[str]:
    """A legal name of two to four words ("Maria Lopez Garcia")."""
    words = NAME_LEAD.sub("", " ".join((text or "").strip(" .!").split()))
    if not NAME.match(words):
        return None
    # keep what the patient typed ("McDonald", "de la Cruz"); capitalise what came lower case
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in words.split())


# --- changing them ------------------------------------------------------------

FIELDS = ("address", "phone", "email", "name")
FIELD_WORDS = {"address": "mailing address", "phone": "phone number", "email": "email address", "name": "legal name"}


class ContactError(Refused):
    """reason: bad_field, bad_phone, bad_email, bad_address, bad_name, unchanged, not_pending"""


def mailing_address(patient: Patient) -> Optional[str]:
    """The address on file on one line, or None when there is none."""
    if not patient.address_line1:
        return None
    return Address(patient.address_line1, patient.city or "", patient.state or "", patient.zip_code or "").one_line()


def current_value(patient: Patient, field: str) -> Optional[str]:
    if field == "phone":
        return patient.phone
    if field == "email":
        return patient.email
    if field == "name":
        return patient.full_name
    if field == "address":
        return mailing_address(patient)
    raise ContactError("bad_field")


def read_value(field: str, text: str) -> str:
    """The new value in its stored form, or ContactError saying what is wrong."""
    if field == "phone":
        value = normalise_phone(text)
    elif field == "email":
        value = read_email(text)
    elif field == "address":
        address = read_address(text)
        value = address.one_line() if address else None
    elif field == "name":
        value = read_name(text)
    else:
        raise ContactError("bad_field")
    if not value:
        raise ContactError(f"bad_{field}")
    return value


def unchanged(patient: Patient, field: str, value: str) -> bool:
    """The new value is what is on file already (case aside)."""
    old = current_value(patient, field)
    return old is not None and old.lower() == value.lower()


def say_value(field: str, value: str) -> str:
    return display_phone(value) if field == "phone" else value


def change(session: Session, patient: Patient, field: str, text: str, *, actor: str, channel: Optional[str] = None,
           conversation_id: Optional[str] = None) -> ContactChange:
    """Record a change the patient asked for.  Address, phone and email
    change at once; a new phone or email means the old one gets a notice
    (``notice_to``: the caller sends it and records how it went).  A legal
    name waits for a partner who has seen proof (``pending_review``)."""
    value = read_value(field, text)
    if unchanged(patient, field, value):
        raise ContactError("unchanged")
    old = current_value(patient, field)
    row = ContactChange(client_id=patient.client_id, patient=patient, field=field, old_value=old, new_value=value,
                        status=ChangeStatus.PENDING_REVIEW if field == "name" else ChangeStatus.APPLIED, requested_by=actor, channel=channel,
                        conversation_id=conversation_id)
    if field in ("phone", "email") and old:
        row.notice_to, row.notice_status = old, "to_send"
    session.add(row)
    if field != "name":
        _apply(patient, field, value)
    session.flush()
    patient_event(session, patient, actor, f"contact_{field}_{'changed' if field != 'name' else 'change_requested'}",
                  f"{FIELD_WORDS[field]} change asked in {channel or 'the desk'}", {field: old}, {field: value})
    return row


def _apply(patient: Patient, field: str, value: str) -> None:
    if field == "phone":
        patient.phone = value
    elif field == "email":
        patient.email = value
    elif field == "address":
        address = read_address(value)
        patient.address_line1, patient.city, patient.state, patient.zip_code = address.line1, address.city, address.state, address.zip_code
    elif field == "name":
        first, _, last = value.partition(" ")
        patient.first_name, patient.last_name = first, last


def decide_name_change(session: Session, row: ContactChange, *, approve: bool, actor: str, note: str = "") -> ContactChange:
    if row.status != ChangeStatus.PENDING_REVIEW:
        raise ContactError("not_pending")
    decide(row, ChangeStatus.APPROVED if approve else ChangeStatus.DENIED, actor, note)
    if approve:
        before = row.patient.full_name
        _apply(row.patient, row.field, row.new_value)
        patient_event(session, row.patient, actor, "contact_name_changed", note or "legal name change approved", {"name": before},
                      {"name": row.new_value})
    return row


def record_notice(row: ContactChange, status: str) -> None:
    """How the notice to the old phone or email went: sent, opted_out, failed: ..."""
    row.notice_status = status[:64]


def pending_name_changes(session: Session) -> List[ContactChange]:
    return list(session.execute(select(ContactChange).where(ContactChange.status == ChangeStatus.PENDING_REVIEW).order_by(ContactChange.id)).scalars())


def unsent_notices(session: Session) -> List[ContactChange]:
    return list(session.execute(select(ContactChange).where(
        ContactChange.notice_status.isnot(None), ~ContactChange.notice_status.like("sent%")).order_by(ContactChange.id)).scalars())
