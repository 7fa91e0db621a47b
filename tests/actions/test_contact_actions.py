"""Contact details: which detail a patient means, and the actions against
the real billing core."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from billing import db
from billing.models import ContactChange
from bot.actions.contact import ActionConfirmContact, start_update_contact
from bot.nlp.contact import contact_field
from bot.actions.confirm import ActionConfirm
from tests.actions.helpers import run, said, slot_events, tracker

MARIA = {"identity": "verified", "patient_id": "p-maria-garcia", "patient_first_name": "Maria", "client_id": "riverside"}


@pytest.mark.parametrize("text, field", [
    ("i moved", "address"), ("update my email", "email"), ("i have a new cell", "phone"), ("i got married", "name"),
    ("update my info", None),
])
def test_which_detail_a_patient_means(text, field):
    assert contact_field(text) == field


def test_a_request_that_holds_the_new_email_skips_the_questions(seeded_sqlite):
    trk = tracker(slots=MARIA, text="please update my email to maria.new@example.com", intent="update_contact_info")
    events = slot_events(start_update_contact(None, None, None, trk))
    assert events == {"next_form": "contact_form", "contact_field": "email", "contact_value": "maria.new@example.com"}


def test_the_same_address_is_not_changed_again(seeded_sqlite):
    slots = {**MARIA, "contact_field": "address", "contact_value": "41 Elm Street, Atlanta, GA 30303"}
    messages, events = run(ActionConfirmContact(), tracker(slots=slots))
    assert said(messages) == ["utter_contact_unchanged"] and "pending_confirmation" not in slot_events(events)


def test_a_phone_change_without_a_text_provider_is_kept_and_its_notice_waits_for_a_partner(seeded_sqlite, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    slots = {**MARIA, "contact_field": "phone", "contact_value": "+15550102233"}
    messages, events = run(ActionConfirmContact(), tracker(slots=slots))
    assert said(messages) == ["utter_confirm_contact_change"] and messages[0]["old"] == "(555) 010-1001"
    pending = slot_events(events)["pending_confirmation"]
    asked = [{"event": "action", "name": "action_confirm_contact"}]
    yes, _ = run(ActionConfirm(), tracker(slots={**MARIA, "pending_confirmation": pending}, intent="affirm", text="yes", events=asked))
    assert said(yes) == ["utter_contact_changed_notice_later", "utter_anything_else"]  # not "sent": it was not
    with db.session_scope() as session:
        change = session.execute(select(ContactChange)).scalar_one()
        assert change.patient.phone == "+15550102233" and change.notice_status == "not_sent: delivery failed"
