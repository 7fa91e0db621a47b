"""Handoffs: a conversation handed to a partner.

The bot opens one (with a summary written for the partner), partners
claim it from their department's queue and close it with a disposition.
What was said stays in the tracker store; this module holds the queue,
the wait a patient is told, and the partner hours a client keeps."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing import clock, staff
from billing.clients import ClientInfo
from billing.models import Handoff, StaffUser, utcnow
from billing.money import format_money
from billing.language import SPOKEN as LANGUAGES
from billing.policy import DAYS
from billing.refused import Refused
from billing.vocabulary import HandoffStatus
from selfpay import settings

DEPARTMENTS = staff.DEPARTMENTS  # the queues partners work (an agent may work some of them)
DEPARTMENT_NAMES = {
    "billing": "billing",
    "insurance": "insurance",
    "financial_counseling": "financial counseling",
    "disputes": "disputes",
}
REASONS = {
    "asked_for_person": "asked for a person",
    "repeated_fallback": "the assistant did not understand twice in a row",
    "verification_locked": "identity could not be verified (locked after the allowed attempts)",
    "voice_silence": "no answer heard on the call",
    "dispute": "disputes a charge",
    "outside_policy": "asked for something outside the client's policy",
}
DISPOSITIONS = ("paid", "plan_set_up", "dispute_opened", "information_given", "callback", "transferred", "unresolved")
OPEN = (HandoffStatus.WAITING, HandoffStatus.ACTIVE)

# what a patient may name when asking for a person ("someone in financial counseling")
_DEPARTMENT_OF_ENTITY = {
    "financial_counseling": "financial_counseling",
    "patient_relations": "disputes",
    "billing": "billing",
    "insurance": "insurance",
}
DEFAULT_WAIT_MINUTES = 3


class HandoffError(Refused):
    """reason: unknown, not_waiting, not_open, not_yours, bad_disposition, language_first (``until``: when it opens to everyone)"""

    def __init__(self, reason: str, until: Optional[dt.datetime] = None):
        super().__init__(reason)
        self.until = until


def department_for(topic: Optional[str] = None, named: Optional[str] = None) -> str:
    """The queue for a conversation: the department the patient named,
    else the queue of the conversation's topic (which the caller knows),
    else billing."""
    if named in _DEPARTMENT_OF_ENTITY:
        return _DEPARTMENT_OF_ENTITY[named]
    if topic in DEPARTMENTS:
        return topic
    return "billing"


# --- partner hours ---------------------------------------------------------

def partners_available(client: ClientInfo, now: Optional[dt.datetime] = None) -> bool:
    """Whether the client's partners are working now (their local time)."""
    hours = client.policy.partner_hours
    if hours is None:
        return True
    local = (now or clock.now_aware()).astimezone(ZoneInfo(client.timezone))
    span = hours.get(DAYS[local.weekday()])
    if span is None:
        return False
    return span[0] <= local.strftime("%H:%M") < span[1]


def _clock(hhmm: str, language: str = "en") -> str:
    """"8 AM", "1:30 PM"; in Spanish "8 a. m.", "1:30 p. m."."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    morning, afternoon = ("a. m.", "p. m.") if language == "es" else ("AM", "PM")
    suffix = morning if hour < 12 else afternoon
    hour12 = hour % 12 or 12
    return f"{hour12}:{minute:02d} {suffix}" if minute else f"{hour12} {suffix}"


_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_HOURS_WORDS = {
    "en": {"always": "every day, around the clock", "days": "{first} to {last}", "span": "{days} {start} to {end}"},
    "es": {"always": "todos los días, a toda hora", "days": "de {first} a {last}", "span": "{days} de {start} a {end}"},
}


def hours_text(client: ClientInfo, language: str = "en") -> str:
    """The hours in words: "Monday to Friday 8 AM to 8 PM, Saturday 9 AM to 1 PM";
    in Spanish "de lunes a viernes de 8 a. m. a 8 p. m., sábado de 9 a. m. a 1 p. m."."""
    language = language if language in _DAY_NAMES else "en"
    words = _HOURS_WORDS[language]
    hours = client.policy.partner_hours
    if hours is None:
        return words["always"]
    names = dict(zip(DAYS, _DAY_NAMES[language]))
    runs: List[tuple[str, str, tuple[str, str]]] = []
    for day in DAYS:
        span = hours.get(day)
        if span is None:
            continue
        if runs and runs[-1][2] == span and DAYS.index(runs[-1][1]) == DAYS.index(day) - 1:
            runs[-1] = (runs[-1][0], day, span)
        else:
            runs.append((day, day, span))
    parts = []
    for first, last, (start, end) in runs:
        days = names[first] if first == last else words["days"].format(first=names[first], last=names[last])
        parts.append(words["span"].format(days=days, start=_clock(start, language), end=_clock(end, language)))
    return ", ".join(parts)


# --- the summary a partner reads -------------------------------------------

@dataclass
class Facts:
    """What the bot knows when it hands off, gathered from the conversation.
    Kept with the handoff (``as_data``), so the desk writes the summary in
    the language of the partner reading it; the patient's words stay as
    they were said."""

    reason: str
    channel: str                      # in words: "SMS", "phone call" (billing.vocabulary.Channel.words)
    phone: Optional[str] = None
    patient_name: Optional[str] = None
    verified_by: Optional[str] = None  # "date of birth and account number"
    account_number: Optional[str] = None
    balance: Optional[Decimal] = None
    plan: Optional[dict] = None       # {status, months, monthly_amount, paid, missed}
    asked: List[str] = field(default_factory=list)  # the patient's words, latest last
    tried: List[str] = field(default_factory=list)  # what the bot did, in words (bot.capabilities handoff_words)

    def as_data(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["balance"] = None if self.balance is None else str(self.balance)
        if self.plan is not None:
            data["plan"] = {**self.plan, "monthly_amount": str(self.plan["monthly_amount"])}
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Facts":
        known = {name: data.get(name) for name in cls.__dataclass_fields__ if name in data}
        if known.get("balance") is not None:
            known["balance"] = Decimal(known["balance"])
        known["asked"], known["tried"] = list(known.get("asked") or []), list(known.get("tried") or [])
        return cls(**known)


# the summary's sentences, in each language a partner may read (the patient's words are never translated)
SUMMARY = {
    "en": {
        "verified": "Patient: {name}, verified by {how}.",
        "not_verified": "Patient: not verified. Verify identity before discussing the account.",
        "channel": "Channel: {channel}.", "channel_from": "Channel: {channel} from {phone}.",
        "account": "Account {account}", "balance": ", balance {balance}",
        "plan": ", {status} payment plan of {months} x {monthly}, {paid} paid, {missed} missed",
        "reason": "Handed off because the patient {reason}.",
        "asked": "Asked (the patient's words): {asked}.",
        "tried": "Assistant did: {tried}.",
        "language": "The conversation is in {language}.",
    },
    "es": {
        "verified": "Paciente: {name}, verificado con {how}.",
        "not_verified": "Paciente: sin verificar. Verifique su identidad antes de hablar de la cuenta.",
        "channel": "Canal: {channel}.", "channel_from": "Canal: {channel} desde {phone}.",
        "account": "Cuenta {account}", "balance": ", saldo {balance}",
        "plan": ", plan de pagos {status} de {months} x {monthly}, {paid} pagados, {missed} sin pagar",
        "reason": "Transferido porque el paciente {reason}.",
        "asked": "Pidió (palabras del paciente): {asked}.",
        "tried": "El asistente: {tried}.",
        "language": "La conversación es en {language}.",
    },
}
# the language a conversation is in, as a partner reads it in each language
LANGUAGE_WORDS = {"en": {"en": "English", "es": "Spanish"}, "es": {"en": "inglés", "es": "español"}}
# what the code puts in a summary in English (reasons, channels, how the patient was verified, what the
# assistant did: bot.capabilities handoff_words), in Spanish; tests/unit/test_handoffs.py checks none is missing
SUMMARY_WORDS_ES = {
    # REASONS
    "asked for a person": "pidió hablar con una persona",
    "the assistant did not understand twice in a row": "el asistente no le entendió dos veces seguidas",
    "identity could not be verified (locked after the allowed attempts)":
        "no se pudo verificar su identidad (bloqueada tras los intentos permitidos)",
    "no answer heard on the call": "no se oyó respuesta en la llamada",
    "disputes a charge": "disputa un cobro",
    "asked for something outside the client's policy": "pidió algo fuera de la política del cliente",
    # billing.vocabulary.Channel.words
    "SMS": "SMS", "phone call": "llamada telefónica", "web chat": "chat web", "chat": "chat",
    # how the patient was verified (bot/actions/handoffs.py)
    "date of birth": "fecha de nacimiento",
    "date of birth and account number": "fecha de nacimiento y número de cuenta",
    "date of birth and full name": "fecha de nacimiento y nombre completo",
    "date of birth and account details": "fecha de nacimiento y datos de la cuenta",
    # plan statuses (billing.vocabulary.PlanStatus)
    "active": "activo", "defaulted": "incumplido", "completed": "terminado",
    # what the assistant did (bot.capabilities handoff_words)
    "told the balance": "dijo el saldo",
    "started a payment": "empezó un pago",
    "took a payment": "tomó un pago",
    "offered a payment plan": "ofreció un plan de pagos",
    "set up a payment plan": "estableció un plan de pagos",
    "started a plan change": "empezó un cambio de plan",
    "explained the insurance coverage": "explicó la cobertura del seguro",
    "gave another department's number": "dio el número de otro departamento",
    "gave the credit reporting answer": "dio la respuesta sobre reportes de crédito",
    "took callback details": "tomó los datos para devolver la llamada",
    "did not understand a message": "no entendió un mensaje",
}


def summary_word(english: str, language: str = "en") -> str:
    """A word or phrase the code puts into a summary, in the reading
    partner's language; what the assistant did on our side ("failed on
    our side (action_...)") keeps its action name."""
    if language != "es":
        return english
    if english.startswith("failed on our side (") and english.endswith(")"):
        return "falló de nuestro lado (" + english[len("failed on our side ("):]
    return SUMMARY_WORDS_ES.get(english, english)


def summary_text(facts: Facts, language: str = "en", conversation_language: Optional[str] = None) -> str:
    """The summary partners read in the desk and hear in a call's whisper,
    in ``language`` (the reading partner's).  What the patient asked is
    quoted in their own words, never translated; when the conversation is
    in another language than the partner's, the summary says which."""
    language = language if language in SUMMARY else "en"
    words = SUMMARY[language]
    lines = []
    if facts.patient_name and facts.verified_by:
        lines.append(words["verified"].format(name=facts.patient_name, how=summary_word(facts.verified_by, language)))
    else:
        lines.append(words["not_verified"])
    channel = summary_word(facts.channel, language)
    lines.append(words["channel_from"].format(channel=channel, phone=facts.phone) if facts.phone
                 else words["channel"].format(channel=channel))
    if conversation_language and conversation_language != language and conversation_language in LANGUAGE_WORDS[language]:
        lines.append(words["language"].format(language=LANGUAGE_WORDS[language][conversation_language]))
    if facts.account_number and facts.verified_by:
        account = words["account"].format(account=facts.account_number)
        if facts.balance is not None:
            account += words["balance"].format(balance=format_money(facts.balance))
        if facts.plan:
            plan = facts.plan
            account += words["plan"].format(status=summary_word(plan["status"], language), months=plan["months"],
                                            monthly=format_money(Decimal(str(plan["monthly_amount"]))), paid=plan["paid"],
                                            missed=plan["missed"])
        lines.append(account + ".")
    lines.append(words["reason"].format(reason=summary_word(REASONS.get(facts.reason, facts.reason), language)))
    if facts.asked:
        lines.append(words["asked"].format(asked="; ".join(f'"{text}"' for text in facts.asked[-4:])))
    if facts.tried:
        lines.append(words["tried"].format(tried="; ".join(summary_word(t, language) for t in facts.tried[-4:])))
    return " ".join(lines)[:4000]


def summary_for(handoff: Handoff, language: str = "en") -> str:
    """A handoff's summary in the reading partner's language (from the facts
    kept with it; one written before they were kept is shown as written)."""
    if not handoff.facts:
        return handoff.summary
    return summary_text(Facts.from_data(handoff.facts), language, handoff.language)


_RECAP = {
    "en": {"asked": 'you asked about "{topic}"', "person": "you asked for a person",
           "verified": "you are {name}, account {account}{balance}, and {asked}", "balance": " with a balance of {balance}",
           "unverified": "{asked}; they will confirm who you are first"},
    "es": {"asked": 'usted preguntó por "{topic}"', "person": "usted pidió hablar con una persona",
           "verified": "usted es {name}, cuenta {account}{balance}, y {asked}", "balance": " con un saldo de {balance}",
           "unverified": "{asked}; primero confirmarán quién es usted"},
}


def patient_recap(facts: Facts, language: str = "en") -> str:
    """The summary as the patient hears it on a warm transfer, in the
    conversation's language: what the partner is told, in the patient's
    own words, account details only once they are verified."""
    words = _RECAP[language if language in _RECAP else "en"]
    topics = [text for text in facts.asked[:-1]] or facts.asked
    asked = words["asked"].format(topic=topics[-1]) if topics else words["person"]
    if facts.patient_name and facts.verified_by and facts.account_number:
        balance = words["balance"].format(balance=format_money(facts.balance)) if facts.balance is not None else ""
        return words["verified"].format(name=facts.patient_name, account=facts.account_number, balance=balance, asked=asked)
    return words["unverified"].format(asked=asked)


# --- who is offered a handoff first -------------------------------------------

LANGUAGE_FIRST_SETTING = "HANDOFF_LANGUAGE_FIRST_MINUTES"


def language_first_window() -> dt.timedelta:
    """How long a handoff is offered only to partners who speak its
    language (the setting HANDOFF_LANGUAGE_FIRST_MINUTES, default 5)."""
    try:
        minutes = float(settings.get(LANGUAGE_FIRST_SETTING))
    except ValueError:
        minutes = 5.0
    return dt.timedelta(minutes=max(0.0, minutes))


@dataclass(frozen=True)
class Offer:
    """Whether a partner may claim a waiting handoff now, and why.

    reason: ``speaks`` (the partner speaks the conversation's language),
    ``first_to_speakers`` (it is offered to partners who speak it until
    ``until``), ``no_speaker_on_shift`` (nobody signed in who speaks it
    works this queue, so it is everyone's at once), ``window_over`` (the
    first offer ran out: everyone's)."""

    claimable: bool
    reason: str
    until: Optional[dt.datetime] = None


def offer(handoff: Handoff, partner_languages, speakers_on_shift: int, now: Optional[dt.datetime] = None,
          window: Optional[dt.timedelta] = None) -> Offer:
    """The rule: a handoff in a language is offered first, for the window,
    to the partners who speak it; then to everyone.  If no partner who
    speaks it is on shift (signed in to the desk and working its queue),
    it goes to everyone at once: a patient is never left waiting for a
    partner who is not there.  ``now`` is naive UTC, like the columns."""
    language = handoff.language or "en"
    if language in tuple(partner_languages or ("en",)):
        return Offer(True, "speaks")
    if speakers_on_shift <= 0:
        return Offer(True, "no_speaker_on_shift")
    until = handoff.created_at + (language_first_window() if window is None else window)
    if (now or utcnow()) >= until:
        return Offer(True, "window_over")
    return Offer(False, "first_to_speakers", until)


# --- the queue --------------------------------------------------------------

def open_handoff(
    session: Session,
    *,
    client: ClientInfo,
    conversation_id: str,
    channel: str,
    department: str,
    reason: str,
    summary: str,
    patient_id: Optional[str] = None,
    account_id: Optional[int] = None,
    verified: bool = False,
    facts: Optional[Facts] = None,
    language: str = "en",
    now: Optional[dt.datetime] = None,
) -> tuple[Handoff, bool]:
    """Queue the conversation for a partner.  A conversation has at most
    one open handoff: asking again returns it (``created`` False)."""
    existing = open_for(session, conversation_id)
    if existing is not None:
        return existing, False
    if department not in DEPARTMENTS:
        department = "billing"
    handoff = Handoff(
        client_id=client.id, conversation_id=conversation_id, channel=channel, department=department,
        reason=reason if reason in REASONS else "asked_for_person", summary=summary, patient_id=patient_id,
        account_id=account_id, verified=verified, after_hours=not partners_available(client, now), status=HandoffStatus.WAITING,
        facts=facts.as_data() if facts is not None else None, language=language if language in LANGUAGES else "en",
        created_at=(now.astimezone(dt.timezone.utc).replace(tzinfo=None) if now else utcnow()),
    )
    session.add(handoff)
    session.flush()
    return handoff, True


def open_for(session: Session, conversation_id: str) -> Optional[Handoff]:
    return session.execute(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN)).order_by(Handoff.id.desc())
    ).scalars().first()


def get(session: Session, handoff_id) -> Handoff:
    try:
        handoff = session.get(Handoff, int(handoff_id))
    except (TypeError, ValueError):
        handoff = None
    if handoff is None:
        raise HandoffError("unknown")
    return handoff


def listing(session: Session, status: Optional[str] = None, client_id: Optional[str] = None, limit: int = 200,
            language: Optional[str] = None) -> List[Handoff]:
    query = select(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    if language:
        query = query.where(Handoff.language == language)
    if client_id:
        query = query.where(Handoff.client_id == client_id)
    return list(session.execute(query.order_by(Handoff.created_at, Handoff.id).limit(limit)).scalars())


def position(session: Session, handoff: Handoff) -> int:
    """1 for the next in its queue."""
    ahead = session.execute(
        select(Handoff.id).where(
            Handoff.client_id == handoff.client_id, Handoff.department == handoff.department,
            Handoff.status == HandoffStatus.WAITING, Handoff.id < handoff.id,
        )
    ).all()
    return len(ahead) + 1


def median_wait_minutes(session: Session, client_id: str, recent: int = 50) -> Optional[float]:
    """Median minutes from handoff to claim over the client's recent claims."""
    rows = session.execute(
        select(Handoff.created_at, Handoff.claimed_at).where(Handoff.client_id == client_id, Handoff.claimed_at.isnot(None))
        .order_by(Handoff.claimed_at.desc()).limit(recent)
    ).all()
    waits = [(claimed - created).total_seconds() / 60 for created, claimed in rows]
    return statistics.median(waits) if waits else None


def expected_wait_minutes(session: Session, handoff: Handoff) -> int:
    """What the patient is told: their place in line times the usual wait."""
    usual = median_wait_minutes(session, handoff.client_id)
    per_patient = max(1.0, usual) if usual is not None else DEFAULT_WAIT_MINUTES
    return max(1, round(per_patient * position(session, handoff)))


def _state(handoff: Handoff) -> dict:
    return {
        "status": handoff.status, "claimed_by": handoff.claimed_by, "disposition": handoff.disposition,
        "resume_bot": handoff.resume_bot,
    }


def offer_to(session: Session, handoff: Handoff, username: str, now: Optional[dt.datetime] = None) -> Offer:
    """``offer`` for this desk user now.  Supervisors and admins manage the
    queue: they may take any handoff (the rule binds agents); so may a
    partner who answers the phone queue."""
    now = now or utcnow()
    user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none()
    if user is None:
        # a partner answering the phone queue ("phone:+1555..."), not a desk user: Twilio's
        # queue connects the longest-waiting call, and the whisper says the caller's language
        return Offer(True, "phone_queue")
    if user.role != "agent":
        return Offer(True, "supervisor")
    spoken = tuple((user.languages or "en").split()) or ("en",)
    if (handoff.language or "en") in spoken:
        return Offer(True, "speaks")
    speakers = staff.speakers_on_shift(session, handoff.language or "en", handoff.department, now)
    return offer(handoff, spoken, len(speakers), now)


def claim(session: Session, handoff_id, actor: str, now: Optional[dt.datetime] = None) -> Handoff:
    """A partner takes a waiting handoff; claiming one's own again is a no-op.
    A handoff still offered first to partners who speak its language
    (``offer``) is refused to the others (``language_first``)."""
    handoff = get(session, handoff_id)
    if handoff.status == HandoffStatus.ACTIVE and handoff.claimed_by == actor:
        return handoff
    if handoff.status != HandoffStatus.WAITING:
        raise HandoffError("not_waiting")
    offered = offer_to(session, handoff, actor, now)
    if not offered.claimable:
        raise HandoffError("language_first", until=offered.until)
    before = _state(handoff)
    handoff.status, handoff.claimed_by, handoff.claimed_at = HandoffStatus.ACTIVE, actor, now or utcnow()
    session.flush()
    staff.record(session, actor, "handoff.claim", f"handoff:{handoff.id}", before, _state(handoff))
    return handoff


def check_can_write(handoff: Handoff, actor: str, role: str) -> None:
    """Only the partner who claimed it (or a supervisor) writes to a patient."""
    if handoff.status != HandoffStatus.ACTIVE:
        raise HandoffError("not_open")
    if handoff.claimed_by != actor and role not in ("supervisor", "admin"):
        raise HandoffError("not_yours")


def close(
    session: Session, handoff_id, actor: str, role: str, *, disposition: str, note: str = "", resume_bot: bool = False,
    now: Optional[dt.datetime] = None,
) -> Handoff:
    handoff = get(session, handoff_id)
    if disposition not in DISPOSITIONS:
        raise HandoffError("bad_disposition")
    if handoff.status == HandoffStatus.CLOSED:
        raise HandoffError("not_open")
    if handoff.status == HandoffStatus.ACTIVE and handoff.claimed_by != actor and role not in ("supervisor", "admin"):
        raise HandoffError("not_yours")
    before = _state(handoff)
    handoff.status, handoff.closed_by, handoff.closed_at = HandoffStatus.CLOSED, actor, now or utcnow()
    handoff.disposition, handoff.note, handoff.resume_bot = disposition, (note or "").strip()[:2000] or None, bool(resume_bot)
    if handoff.claimed_at is None:
        handoff.claimed_by, handoff.claimed_at = actor, handoff.closed_at
    session.flush()
    staff.record(session, actor, "handoff.close", f"handoff:{handoff.id}", before, {**_state(handoff), "note": handoff.note})
    return handoff


def as_dict(handoff: Handoff, now: Optional[dt.datetime] = None) -> dict:
    now = now or utcnow()
    waited_until = handoff.claimed_at or (handoff.closed_at if handoff.status == HandoffStatus.CLOSED else now)
    return {
        "id": handoff.id,
        "client": handoff.client_id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "language": handoff.language or "en",
        "language_name": LANGUAGE_WORDS["en"].get(handoff.language or "en", handoff.language),
        "department": handoff.department,
        "reason": handoff.reason,
        "status": handoff.status,
        "summary": handoff.summary,
        "verified": handoff.verified,
        "after_hours": handoff.after_hours,
        "patient_id": handoff.patient_id,
        "account_number": handoff.account.account_number if handoff.account else None,
        "created_at": handoff.created_at.isoformat() + "Z",
        "wait_seconds": int((waited_until - handoff.created_at).total_seconds()),
        "claimed_by": handoff.claimed_by,
        "claimed_at": handoff.claimed_at.isoformat() + "Z" if handoff.claimed_at else None,
        "closed_at": handoff.closed_at.isoformat() + "Z" if handoff.closed_at else None,
        "disposition": handoff.disposition,
        "note": handoff.note,
        "resume_bot": handoff.resume_bot,
    }
