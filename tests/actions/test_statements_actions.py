"""Itemized statements: the actions against the real billing core."""
from __future__ import annotations

from sqlalchemy import select

from billing import db
from billing.models import StatementDelivery
from bot.actions.statements import ActionItemizedStatement
from bot.actions.confirm import ActionConfirm
from tests.actions.helpers import run, said, tracker

MARIA = {"identity": "verified", "patient_id": "p-maria-garcia", "patient_first_name": "Maria", "client_id": "riverside"}


def test_a_statement_by_chat_is_a_link_and_only_for_a_verified_patient(seeded_sqlite):
    messages, _ = run(ActionItemizedStatement(), tracker(slots={"identity": "unverified"}, intent="itemized_statement"))
    assert messages == []
    messages, _ = run(ActionItemizedStatement(), tracker(slots=MARIA, intent="itemized_statement", text="email me an itemized bill"))
    assert said(messages) == ["utter_statement_no_email", "utter_statement_link", "utter_anything_else"] and "/statements/" in messages[1]["url"]
    with db.session_scope() as session:
        row = session.execute(select(StatementDelivery)).scalar_one()
        assert row.delivery == "link" and row.token_hash not in messages[1]["url"]


def test_a_statement_link_that_cannot_be_texted_is_never_usable_and_a_copy_goes_by_mail(seeded_sqlite, monkeypatch):
    from billing import statements

    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    pending = {"kind": "statement_text", "asked_by": "action_itemized_statement", "id": "q1", "phone": "+15550101001"}
    asked = [{"event": "action", "name": "action_itemized_statement"}]
    yes, _ = run(ActionConfirm(), tracker(slots={**MARIA, "pending_confirmation": pending}, intent="affirm", text="yes",
                                          events=asked, channel="twilio_voice"))
    assert said(yes) == ["utter_statement_mailed", "utter_anything_else"] and "41 Elm Street" in yes[0]["address"]
    with db.session_scope() as session:
        texted, mailed = session.execute(select(StatementDelivery).order_by(StatementDelivery.id)).scalars().all()
        assert (texted.delivery, texted.status, mailed.delivery, mailed.status) == ("sms", "failed", "mail", "queued")
        assert statements.by_reference(session, texted.reference) is texted
