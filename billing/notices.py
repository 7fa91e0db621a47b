"""Texts and emails about an account sent outside a reply: a changed phone
number or email is told to the old one (text or email), so a patient whose
contact details were changed by someone else finds out (the notice never
holds the new value); a statement's one-time link is texted.  Both go
out through the notification port (billing.notify), which decides
opt-outs and consent."""
from __future__ import annotations

import logging

from billing import db, notify, statements
from billing.clients import get_client
from billing.contact import FIELD_WORDS, record_notice
from billing.language import phrase, say_date
from billing.models import ContactChange, Patient
from billing.scripts import script
from billing.vocabulary import NoticeChannel

logger = logging.getLogger(__name__)


def send_contact_notice(change_id: int) -> str:
    """Send the notice of one contact change to its old phone or email and
    record how it went: sent, opted_out, or not_sent (the desk lists those
    for a letter)."""
    with db.session_scope() as session:
        change = session.get(ContactChange, change_id)
        if change is None or not change.notice_to or change.notice_status == "sent":
            return change.notice_status if change else "unknown"
        client = get_client(session, change.client_id)
        field, to = change.field, change.notice_to
        # in the patient's language (their record)
        spoken = session.get(Patient, change.patient_id).language
        words = script("utter_notice_contact_changed", client, language=spoken, what=phrase(FIELD_WORDS[field], spoken),
                       date=say_date(change.requested_at.date(), spoken))
    try:
        if field == "phone":
            notify.tell_address(client, NoticeChannel.SMS, to, words)
        else:
            notify.tell_address(client, NoticeChannel.EMAIL, to, words, subject=f"{client.name}: your contact details changed")
        status = "sent"
    except notify.OptedOut:
        status = "opted_out"
    except notify.NotSent as exc:  # no mail server, or the provider failed after its retries
        logger.error("notice of contact change %s not sent: %s", change_id, exc)
        status = f"not_sent: {exc.reason}"
    with db.session_scope() as session:
        record_notice(session.get(ContactChange, change_id), status)
    return status


def text_statement_link(client, account_number: str, reference: str, to: str, raw_token: str, language: str = "en") -> None:
    """Text a statement's one-time link in the approved wording, in the
    patient's language.  If it cannot go out, the link is marked failed
    (never usable) and the port's NotSent is raised."""
    words = script("utter_statement_sms", client, language=language, account_number=account_number,
                   url=statements.statement_url(raw_token))
    try:
        notify.tell_address(client, NoticeChannel.SMS, to, words)
    except notify.NotSent:
        with db.session_scope() as session:
            statements.mark_failed(session, statements.by_reference(session, reference))
        raise
