"""Changes a verified patient asks for on their record: new insurance
(stored pending a partner's check), contact details (address, phone,
email; a legal name waits for a partner), and an itemized statement
(a one-time link, a text on a call, or a copy by mail).  Each change is
read back and made only after a yes (bot/actions/confirm.py); the rules
live in billing/insurance.py, billing/contact.py and billing/statements.py."""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from billing import clock, contact, insurance, statements
from billing.clients import ClientInfo
from billing.models import Patient
from billing.statements import statement_url
from bot.actions.common import (
    StarterAction, answer_required, channel_of, client_values, conversation_client, is_verified, patient_phone, say_date,
    session_scope,
)
from bot.actions.confirm import ask, register
from bot.actions.payments import latest_text, patient_account, request_text
from bot.nlp.dates import find_dates
from bot.nlp.numbers import DIGIT_WORDS

logger = logging.getLogger(__name__)


def _patient(session, tracker: Tracker) -> Optional[Patient]:
    patient_id = tracker.get_slot("patient_id")
    return session.get(Patient, patient_id) if patient_id else None


# --- update_insurance -----------------------------------------------------------

FILLER = re.compile(r"\b(my|the|it'?s|it is|is|member|id|ids|number|numbers|no\.?|and|on|card|subscriber|policy|its|#)\b", re.I)
# spoken digits; a lone "o" stays a letter, since member ids mix letters and digits
ID_DIGITS = {word: digit for word, digit in DIGIT_WORDS.items() if word != "o"}
NO_GROUP = re.compile(r"\b(no|none|not any|n/?a|doesn'?t have|there isn'?t|without)\b", re.I)
ME = re.compile(r"^(it'?s |that'?s |i'?m |i am )?(me|myself|i am|i'?m the (policyholder|subscriber)|self|mine|my own|it'?s mine)\b", re.I)
PAYER_LEAD = re.compile(r"^(it'?s|it is|i have|i'?ve got|i got|my (new )?(insurance|plan|coverage|insurer) is( now)?|now|with|through)\s+", re.I)


def _join_spoken(text: str) -> str:
    """'w one two three 4 5' -> 'W12345': spoken characters joined into one id."""
    out = []
    for word in re.split(r"[\s,.]+", text.strip()):
        if not word:
            continue
        out.append(ID_DIGITS.get(word.lower(), word))
    return "".join(out).upper()


def read_member_ids(text: str) -> Optional[tuple[str, Optional[str]]]:
    """(member id, group number or None) from 'W123456789 group 7001',
    'member id xgh 44512 and group number 7001' or a spoken run of characters."""
    text = (text or "").strip()
    parts = re.split(r"\b(?:group|grp)\b\.?", text, maxsplit=1, flags=re.I)
    member_text = FILLER.sub(" ", parts[0])
    group_text = FILLER.sub(" ", parts[1]) if len(parts) > 1 else ""
    if len(parts) == 1:
        tokens = [t for t in re.split(r"[\s,;/]+", member_text) if t]
        long_ones = [t for t in tokens if len(t) >= 4 and re.fullmatch(r"[A-Za-z0-9-]+", t) and re.search(r"\d", t)]
        if len(long_ones) == 2 and len(tokens) == 2:
            member_text, group_text = long_ones
    member = _join_spoken(member_text)
    group = None if not group_text.strip() or NO_GROUP.search(group_text) else _join_spoken(group_text)
    if not re.fullmatch(r"[A-Z0-9-]{4,20}", member) or len(re.findall(r"\d", member)) < 2:
        return None
    if group is not None and not re.fullmatch(r"[A-Z0-9-]{2,20}", group):
        return None
    return member, group


# payers patients name in passing ("my insurance changed, it's now aetna")
KNOWN_PAYERS = (
    ("Blue Cross Blue Shield", r"blue cross( and)?( blue shield)?|bcbs"), ("UnitedHealthcare", r"united ?health ?care|uhc"),
    ("Aetna", r"aetna"), ("Cigna", r"cigna"), ("Humana", r"humana"), ("Kaiser Permanente", r"kaiser( permanente)?"),
    ("Medicare", r"medicare"), ("Medicaid", r"medicaid"), ("Anthem", r"anthem"), ("Tricare", r"tricare"), ("Molina", r"molina"),
    ("Ambetter", r"ambetter"), ("Oscar", r"oscar"), ("WellCare", r"well ?care"), ("Highmark", r"highmark"),
)
ID_WORDS = re.compile(r"\b(member id|member|id|group|grp|policy)\b", re.I)


def named_payer(text: str) -> Optional[str]:
    for name, words in KNOWN_PAYERS:
        if re.search(rf"\b({words})\b", text or "", re.I):
            return name
    return None


def read_payer(text: str) -> Optional[str]:
    words, before = " ".join((text or "").strip(" .!").split()), None
    while words != before:  # "it's now aetna": every lead-in goes
        words, before = PAYER_LEAD.sub("", words), words
    if not re.search(r"[a-z]{2}", words, re.I) or len(words) > 80 or len(re.findall(r"\d", words)) >= 3 or ID_WORDS.search(words):
        return None
    small = {"of", "and", "the", "for", "de", "la", "del"}
    return " ".join(w if not w.islower() else w if w in small and n else w.upper() if len(w) <= 3 and w not in small else w.capitalize()
                    for n, w in enumerate(words.split()))


def read_subscriber(text: str, patient_name: str) -> Optional[str]:
    text = " ".join((text or "").strip(" .!").split())
    if ME.match(text):
        return patient_name
    name = contact.read_name(re.sub(r"^(it'?s|my (husband|wife|spouse|partner|mom|mother|dad|father),?)\s+", "", text, flags=re.I))
    return name


def read_start_date(text: str, today: Optional[dt.date] = None) -> Optional[dt.date]:
    """When coverage started: a date without a year is the latest one that
    is not more than two months ahead ("november 1st" on November 28 is
    this November 1, not next year's)."""
    today = today or clock.today()
    found = find_dates(text or "", today, birth=False)
    day = found[0].value if found else None
    if day is not None and not found[0].has_year and day > today + dt.timedelta(days=62):
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:  # February 29
            day = day.replace(year=day.year - 1, day=28)
    if day is None:
        year = re.search(r"\b(20\d\d)\b", text or "")
        if year and re.search(r"\b(start|beginning|first of)\b", text or "", re.I):
            day = dt.date(int(year.group(1)), 1, 1)
    if day is None or day.year < 1990 or day > today + dt.timedelta(days=366):
        return None
    return day


def start_update_insurance(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    dispatcher.utter_message(response="utter_insurance_update_intro", **client_values(client))
    payer = named_payer(request_text(tracker, "update_insurance"))
    return [SlotSet("next_form", "insurance_form"), SlotSet("ins_payer", payer)] + [
        SlotSet(s, None) for s in ("ins_ids", "ins_subscriber", "ins_start")]


class ActionStartUpdateInsurance(StarterAction):
    start = staticmethod(start_update_insurance)

    def name(self) -> Text:
        return "action_start_update_insurance"


class ValidateInsuranceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_insurance_form"

    @answer_required
    def validate_ins_payer(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        text = str(slot_value)
        if tracker.get_slot("requested_slot") != "ins_payer":
            return {"ins_payer": text}  # named in the request (start_update_insurance)
        # "aetna, member id W123456789 group 7001" answers two questions
        found = ID_WORDS.search(text)
        payer = read_payer(text[:found.start()] if found else text) or named_payer(text)
        if payer is None:
            dispatcher.utter_message(response="utter_explain_ins_payer")
            return {"ins_payer": None}
        ids = read_member_ids(text[found.start():]) if found else None
        return {"ins_payer": payer, **({"ins_ids": f"{ids[0]}|{ids[1] or ''}"} if ids else {})}

    @answer_required
    def validate_ins_ids(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        ids = read_member_ids(str(slot_value))
        if ids is None:
            dispatcher.utter_message(response="utter_explain_ins_ids")
            return {"ins_ids": None}
        return {"ins_ids": f"{ids[0]}|{ids[1] or ''}"}

    @answer_required
    def validate_ins_subscriber(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        with session_scope() as session:
            patient = _patient(session, tracker)
            name = read_subscriber(str(slot_value), patient.full_name if patient else "")
        if not name:
            dispatcher.utter_message(response="utter_explain_ins_subscriber")
        return {"ins_subscriber": name or None}

    @answer_required
    def validate_ins_start(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        day = read_start_date(str(slot_value))
        if day is None:
            dispatcher.utter_message(response="utter_explain_ins_start")
            return {"ins_start": None}
        return {"ins_start": day.isoformat()}


class ActionConfirmInsurance(Action):
    """Read the coverage back before storing it."""

    def name(self) -> Text:
        return "action_confirm_insurance"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        slots = {s: tracker.get_slot(s) for s in ("ins_payer", "ins_ids", "ins_subscriber", "ins_start")}
        reset = [SlotSet(s, None) for s in slots] + [SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            if not all(slots.values()) or _patient(session, tracker) is None:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            member, group = slots["ins_ids"].split("|", 1)
            start = dt.date.fromisoformat(slots["ins_start"])
            dispatcher.utter_message(response="utter_confirm_insurance", payer=slots["ins_payer"], member_id=member,
                                     group=f"group {group}" if group else "no group number", subscriber=slots["ins_subscriber"],
                                     start=say_date(start), **client_values(client))
            return reset + [ask("insurance", self.name(), payer=slots["ins_payer"], member_id=member, group=group or None,
                                subscriber=slots["ins_subscriber"], start=slots["ins_start"])]


@register("insurance")
def _report_insurance(dispatcher, session, client, tracker, pending) -> List[EventType]:
    patient = _patient(session, tracker)
    insurance.report_policy(session, patient, payer=pending["payer"], member_id=pending["member_id"], group_number=pending["group"],
                            subscriber=pending["subscriber"], effective_date=dt.date.fromisoformat(pending["start"]),
                            actor="patient:bot", conversation_id=tracker.sender_id)
    dispatcher.utter_message(response="utter_insurance_reported", payer=pending["payer"], **client_values(client))
    return []


# --- update_contact_info ------------------------------------------------------------

FIELD_WORDS = (
    ("email", re.compile(r"\b(e-?mail|email address)\b|@", re.I)),
    ("phone", re.compile(r"\b(phone|cell|mobile|number to (call|reach|text)|telephone|call me at|text me at)\b", re.I)),
    ("address", re.compile(r"\b(address|moved|moving|new place|mailing|live at|street|apartment|zip)\b", re.I)),
    ("name", re.compile(r"\b(name|married|divorced|last name|maiden)\b", re.I)),
)


def contact_field(text: str) -> Optional[str]:
    for field, words in FIELD_WORDS:
        if words.search(text or ""):
            return field
    return None


def _value_in(field: str, text: str) -> Optional[str]:
    """A new value already in the request ('my new email is a@b.com')."""
    if field == "name":
        return None  # "change my name" carries no new name; asking is clearer
    try:
        return contact.read_value(field, text)
    except contact.ContactError:
        return None


def start_update_contact(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker) -> List[EventType]:
    said = request_text(tracker, "update_contact_info")
    field = contact_field(said)
    value = _value_in(field, said) if field else None
    return [SlotSet("next_form", "contact_form"), SlotSet("contact_field", field), SlotSet("contact_value", value)]


class ActionStartUpdateContact(StarterAction):
    start = staticmethod(start_update_contact)

    def name(self) -> Text:
        return "action_start_update_contact"


class ActionAskContactValue(Action):
    def name(self) -> Text:
        return "action_ask_contact_value"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        dispatcher.utter_message(response=f"utter_ask_contact_value_{tracker.get_slot('contact_field') or 'address'}")
        return []


class ValidateContactForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_contact_form"

    @answer_required
    def validate_contact_field(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        value = str(slot_value)
        field = value if value in contact.FIELDS else contact_field(value)
        if field is None:
            dispatcher.utter_message(response="utter_explain_contact_field")
            return {"contact_field": None}
        if tracker.get_slot("requested_slot") == "contact_field":
            # "my email, it's a@b.com" answers both questions
            return {"contact_field": field, "contact_value": _value_in(field, value)}
        return {"contact_field": field}

    @answer_required
    def validate_contact_value(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        field = tracker.get_slot("contact_field")
        try:
            value = contact.read_value(field, str(slot_value))
        except contact.ContactError:
            dispatcher.utter_message(response=f"utter_explain_contact_value_{field or 'address'}")
            return {"contact_value": None}
        return {"contact_value": value}


class ActionConfirmContact(Action):
    def name(self) -> Text:
        return "action_confirm_contact"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        field, value = tracker.get_slot("contact_field"), tracker.get_slot("contact_value")
        reset = [SlotSet("contact_field", None), SlotSet("contact_value", None), SlotSet("next_form", "none")]
        with session_scope() as session:
            client = conversation_client(tracker, session)
            patient = _patient(session, tracker)
            if patient is None or field not in contact.FIELDS or not value:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            if contact.unchanged(patient, field, value):
                dispatcher.utter_message(response="utter_contact_unchanged", what=contact.FIELD_WORDS[field],
                                         value=contact.say_value(field, value), **client_values(client))
                return reset
            old = contact.current_value(patient, field)
            response = "utter_confirm_name_change" if field == "name" else "utter_confirm_contact_change"
            dispatcher.utter_message(response=response, what=contact.FIELD_WORDS[field], value=contact.say_value(field, value),
                                     old=contact.say_value(field, old) if old else "nothing on file", **client_values(client))
            return reset + [ask("contact", self.name(), field=field, value=value)]


@register("contact")
def _change_contact(dispatcher, session, client, tracker, pending) -> List[EventType]:
    from connectors.notices import send_contact_notice

    patient = _patient(session, tracker)
    try:
        change = contact.change(session, patient, pending["field"], pending["value"], actor="patient:bot",
                                channel=channel_of(tracker), conversation_id=tracker.sender_id)
    except contact.ContactError:
        dispatcher.utter_message(response="utter_contact_unchanged", what=contact.FIELD_WORDS[pending["field"]],
                                 value=contact.say_value(pending["field"], pending["value"]), **client_values(client))
        return []
    values = {"what": contact.FIELD_WORDS[change.field], "value": contact.say_value(change.field, change.new_value), **client_values(client)}
    if change.field == "name":
        dispatcher.utter_message(response="utter_name_change_requested", **values)
        return []
    change_id, notice = change.id, change.notice_to is not None
    session.commit()  # the notice is sent, and its outcome recorded, after the change is stored
    if not notice:
        dispatcher.utter_message(response="utter_contact_changed", **values)
    elif send_contact_notice(change_id) == "sent":
        dispatcher.utter_message(response="utter_contact_changed_notice", **values)
    else:  # waits in the desk for a retry or a letter
        dispatcher.utter_message(response="utter_contact_changed_notice_later", **values)
    return []


# --- itemized_statement ---------------------------------------------------------------

MAIL_WORDS = re.compile(r"\b(mail|mailed|post|paper|letter|by the post|to my (house|home|address))\b", re.I)
EMAIL_WORDS = re.compile(r"\b(e-?mail|inbox)\b", re.I)


def _mail(dispatcher, session, client: ClientInfo, tracker: Tracker, account) -> List[EventType]:
    try:
        row, _ = statements.send(session, account, "mail", actor="patient:bot", channel=channel_of(tracker),
                                 conversation_id=tracker.sender_id)
    except statements.StatementError:
        dispatcher.utter_message(response="utter_statement_no_address", **client_values(client))
        return []
    dispatcher.utter_message(response="utter_statement_mailed", address=row.sent_to, reference=row.reference, **client_values(client))
    return []


def send_statement(dispatcher: CollectingDispatcher, session, client: ClientInfo, tracker: Tracker,
                   asked_by: str = "action_itemized_statement") -> List[EventType]:
    account = patient_account(session, client, tracker)
    values = client_values(client)
    if account is None:
        dispatcher.utter_message(response="utter_no_accounts", **values)
        return []
    said = request_text(tracker, "itemized_statement") or latest_text(tracker)
    if MAIL_WORDS.search(said):
        return _mail(dispatcher, session, client, tracker, account)
    if channel_of(tracker) == "twilio_voice":
        phone = patient_phone(tracker) or account.patient.phone
        if not phone:
            return _mail(dispatcher, session, client, tracker, account)
        dispatcher.utter_message(response="utter_statement_offer_text", phone=contact.display_phone(phone), **values)
        return [ask("statement_text", asked_by, account_id=account.id, phone=phone)]
    row, raw = statements.send(session, account, "link", actor="patient:bot", to=patient_phone(tracker),
                               channel=channel_of(tracker), conversation_id=tracker.sender_id)
    if EMAIL_WORDS.search(said):
        dispatcher.utter_message(response="utter_statement_no_email", **values)
    dispatcher.utter_message(response="utter_statement_link", url=statement_url(raw), **values)
    return []


class ActionItemizedStatement(Action):
    def name(self) -> Text:
        return "action_itemized_statement"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        if not is_verified(tracker):
            return []
        with session_scope() as session:
            return send_statement(dispatcher, session, conversation_client(tracker, session), tracker)


@register("statement_text")
def _text_statement(dispatcher, session, client, tracker, pending) -> List[EventType]:
    from connectors.notices import text_statement_link

    account = patient_account(session, client, tracker)
    row, raw = statements.send(session, account, "sms", actor="patient:bot", to=pending["phone"], channel=channel_of(tracker),
                               conversation_id=tracker.sender_id)
    session.commit()  # sending checks consent in its own transaction
    try:
        text_statement_link(client, account.account_number, row.reference, pending["phone"], raw)
    except Exception as exc:  # opted out of texts, or the provider failed after its retries
        logger.warning("statement link not texted: %s", exc)
        return _mail(dispatcher, session, client, tracker, account)
    dispatcher.utter_message(response="utter_statement_texted", phone=contact.display_phone(pending["phone"]), **client_values(client))
    return []
