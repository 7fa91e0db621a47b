"""What the desk's use cases share: the refusal a handler turns into an
HTTP answer, finding the row a request names, a partner's approve/deny,
and telling the patient through billing's notification port."""
from __future__ import annotations

import logging
from typing import Optional

from sqlalchemy import select

from billing import db, handoffs, notify, records, staff
from billing.clients import get_client
from billing.models import Account, Handoff
from billing.vocabulary import Channel, NoticeChannel, conversation_id as make_conversation_id, read_conversation_id
from desk import transcripts

logger = logging.getLogger(__name__)


class DeskError(Exception):
    """A request the desk refuses: ``status`` (HTTP) and a sentence for the partner."""

    def __init__(self, status: int, message: str, reason: str = ""):
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


HANDOFF_PROBLEMS = {
    "unknown": (404, "There is no such handoff."),
    "not_waiting": (409, "Someone else has already claimed this handoff."),
    "not_open": (409, "This handoff is not open: claim it first, or it is already closed."),
    "not_yours": (403, "Another partner has claimed this handoff."),
    "bad_disposition": (400, "Choose a disposition: " + ", ".join(handoffs.DISPOSITIONS) + "."),
    "language_first": (409, "This handoff is offered first to partners who speak {language}, until {until} UTC; "
                            "you can claim it then if nobody has."),
}


def handoff_error(error: handoffs.HandoffError, handoff: Optional[Handoff] = None) -> DeskError:
    status, message = HANDOFF_PROBLEMS.get(error.reason, (400, error.reason))
    if error.reason == "language_first":
        language = handoffs.LANGUAGE_WORDS["en"].get(handoff.language, handoff.language) if handoff is not None else "its language"
        message = message.format(language=language, until=error.until.strftime("%H:%M") if error.until else "a few minutes")
    return DeskError(status, message, error.reason)


def find_account(session, account_number: str) -> Account:
    account = session.execute(select(Account).where(Account.account_number == account_number)).scalar_one_or_none()
    if account is None:
        raise DeskError(404, f"There is no account {account_number}.")
    return account


def find_row(session, model, row_id, missing: str):
    """The row a URL or form names by id, or a 404 saying what is missing."""
    row = session.get(model, int(row_id)) if str(row_id).isdigit() else None
    if row is None:
        raise DeskError(404, missing)
    return row


def apply_decision(decision: str, note: str, approve, deny, what: str, who_is_told: str = "the patient is told") -> None:
    """approve() or deny(), as billing's rule for a decision allows."""
    try:
        chosen = records.read_decision(decision, note)
    except records.Refused as refused:
        if refused.reason == "denial_needs_reason":
            raise DeskError(400, f"Say why the {what} is denied: {who_is_told}.")
        raise DeskError(400, "The decision is approve or deny.")
    (approve if chosen is records.Decision.APPROVE else deny)()


def approver_refused(error, what: str) -> DeskError:
    """The partner may not approve these for this client: who may."""
    role = error.role
    return DeskError(403, f"Only {'an' if role[:1] in 'aeiou' else 'a'} {role} approves {what} for this client.", error.reason)


# --- telling the patient ------------------------------------------------------

def deliver(handoff: Handoff, client, words: str) -> None:
    """Send a desk line to the patient on the conversation's channel.
    Web chat picks it up from the transcript; REST integrations read the
    tracker; a call is spoken by the partner on the line."""
    if handoff.channel == Channel.SMS:
        send_text(client, read_conversation_id(handoff.conversation_id).address, words)
    elif handoff.channel == Channel.VOICE:
        raise DeskError(409, "This is a phone call: speak with the patient on the line.")


NOT_REACHED = "not reached: send a letter"


def notify_patient(account_number: str, conversation_id: Optional[str], channel: Optional[str], words: str, actor: str) -> str:
    """Tell the patient a partner's decision on the channel they used: a
    text on SMS, a line in the web chat or REST conversation; after a call
    (or with no conversation) a text to the phone on file when they agreed
    to texts.  Returns how they were told; a patient we cannot reach is
    recorded for a letter."""
    with db.session_scope() as session:
        account = session.execute(select(Account).where(Account.account_number == account_number)).scalar_one()
        client = get_client(session, account.client_id)
        patient_id = account.patient_id
    how, line_written = NOT_REACHED, False
    try:
        if channel == Channel.SMS and conversation_id:
            notify.tell_address(client, NoticeChannel.SMS, read_conversation_id(conversation_id).address, words)
            how = "text"
        elif channel in (Channel.WEBCHAT, Channel.REST) and conversation_id:
            notify.tell_address(client, NoticeChannel.CHAT, conversation_id, words, author=actor)
            how, line_written = "chat", True
        else:
            phone, _ = notify.tell_patient(client, patient_id, NoticeChannel.SMS, words)
            conversation_id, how = make_conversation_id(Channel.SMS, phone, client.id), "text to the phone on file"
    except notify.NotSent as problem:
        logger.warning("notice on account %s not delivered: %s", account_number, problem.reason)
        how = NOT_REACHED
    if how != NOT_REACHED and conversation_id and not line_written:
        try:
            transcripts.partner_said(conversation_id, actor, words, 0)
        except transcripts.RasaUnavailable:
            logger.warning("notice on account %s sent but not added to the transcript", account_number)
    with db.session_scope() as session:
        staff.record(session, actor, "patient.notice", f"account:{account_number}", None, {"how": how, "channel": channel})
    return how


def text_refused(problem: notify.NotSent) -> DeskError:
    """What a partner reads when a text did not go out."""
    if isinstance(problem, notify.OptedOut):
        return DeskError(409, "The patient has opted out of texts from this number; the message was not sent.")
    # the SMS provider failed after its retries (logged by the port)
    return DeskError(502, "The text could not be sent; try again in a moment.")


def send_text(client, to: str, words: str) -> None:
    """A text to this number through the port, or the refusal a partner reads."""
    try:
        notify.tell_address(client, NoticeChannel.SMS, to, words)
    except notify.NotSent as problem:
        raise text_refused(problem) from problem
