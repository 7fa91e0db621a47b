"""Contact details: phone numbers validated with the phonenumbers library."""
from __future__ import annotations

import phonenumbers


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
