"""itemized_statement: a verified patient gets an itemized statement: a
one-time link, a text on a call (after a yes, bot/actions/confirm.py), or
a copy by mail (billing.statements)."""
from __future__ import annotations

import logging
import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from billing import contact, statements
from billing.clients import ClientInfo
from billing.statements import statement_url
from billing.vocabulary import Channel
from bot.actions.common import (
    channel_of, client_values, conversation_client, is_verified, language_of, latest_text, patient_account, patient_phone, request_text,
    session_scope,
)
from bot.actions.confirm import register, ask

logger = logging.getLogger(__name__)

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
    dispatcher.utter_message(response="utter_anything_else")
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
    if channel_of(tracker) == Channel.VOICE:
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
    dispatcher.utter_message(response="utter_anything_else")
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
    from billing.notices import text_statement_link

    account = patient_account(session, client, tracker)
    row, raw = statements.send(session, account, "sms", actor="patient:bot", to=pending["phone"], channel=channel_of(tracker),
                               conversation_id=tracker.sender_id)
    session.commit()  # sending checks consent in its own transaction
    try:
        text_statement_link(client, account.account_number, row.reference, pending["phone"], raw, language_of(tracker))
    except Exception as exc:  # opted out of texts, or the provider failed after its retries
        logger.warning("statement link not texted: %s", exc)
        return _mail(dispatcher, session, client, tracker, account)
    dispatcher.utter_message(response="utter_statement_texted", phone=contact.display_phone(pending["phone"]), **client_values(client))
    dispatcher.utter_message(response="utter_anything_else")
    return []
