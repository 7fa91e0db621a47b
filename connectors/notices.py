"""Texts and emails about an account sent outside a reply: a changed phone
number or email is told to the old one (text or email), so a patient whose
contact details were changed by someone else finds out (the notice never
holds the new value); a statement's one-time link is texted."""
from __future__ import annotations

import logging

from billing import db, statements
from billing.clients import get_client
from billing.contact import FIELD_WORDS, record_notice
from billing.models import ContactChange
from connectors.email_sender import NoMailServer, send_email
from billing.scripts import script
from connectors.sms_sender import OptedOut, SmsSender

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
        words = script("utter_notice_contact_changed", client, what=FIELD_WORDS[field],
                       date=change.requested_at.strftime("%B %d, %Y").replace(" 0", " "))
    try:
        if field == "phone":
            SmsSender().send(client.id, client.phone_number, to, words)
        else:
            send_email(to, f"{client.name}: your contact details changed", words)
        status = "sent"
    except OptedOut:
        status = "opted_out"
    except NoMailServer:
        status = "not_sent: no mail server"
    except Exception as exc:  # the provider failed after its retries
        logger.error("notice of contact change %s not sent: %s", change_id, exc)
        status = "not_sent: delivery failed"
    with db.session_scope() as session:
        record_notice(session.get(ContactChange, change_id), status)
    return status


def _text(client, to: str, words: str) -> None:
    SmsSender().send(client.id, client.phone_number, to, words)


def text_statement_link(client, account_number: str, reference: str, to: str, raw_token: str, send=_text) -> None:
    """Text a statement's one-time link in the approved wording with
    ``send(client, to, words)``.  If it cannot go out, the link is marked
    failed (never usable) and the sender's error is raised."""
    words = script("utter_statement_sms", client, account_number=account_number, url=statements.statement_url(raw_token))
    try:
        send(client, to, words)
    except Exception:
        with db.session_scope() as session:
            statements.mark_failed(session, statements.by_reference(session, reference))
        raise
