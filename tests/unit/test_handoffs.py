"""Handoff queue rules on SQLite and PostgreSQL: one open handoff per
conversation, the wait a patient is told, partner hours, claim and close."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from billing import db, handoffs
from billing.clients import get_client
from billing.models import DeskAuditEntry


def _open(session, conversation, department="billing", now=None, client="lakeside"):
    return handoffs.open_handoff(
        session, client=get_client(session, client), conversation_id=conversation, channel="rest", department=department,
        reason="asked_for_person", summary="Patient: not verified.", now=now,
    )


def test_a_conversation_has_one_open_handoff_and_its_place_in_line(seeded_url):
    with db.session_scope(seeded_url) as session:
        first, created = _open(session, "c-1")
        again, created_again = _open(session, "c-1")
        second, _ = _open(session, "c-2")
        other_queue, _ = _open(session, "c-3", department="insurance")
        assert created and not created_again and again.id == first.id
        assert handoffs.position(session, first) == 1
        assert handoffs.position(session, second) == 2
        assert handoffs.position(session, other_queue) == 1
        # no claims yet: the default per patient times the place in line
        assert handoffs.expected_wait_minutes(session, second) == 2 * handoffs.DEFAULT_WAIT_MINUTES


def test_claim_close_and_audit(seeded_url):
    with db.session_scope(seeded_url) as session:
        handoff, _ = _open(session, "c-9")
        handoffs.claim(session, handoff.id, "alex")
        handoffs.claim(session, handoff.id, "alex")  # claiming one's own again changes nothing
        with pytest.raises(handoffs.HandoffError) as taken:
            handoffs.claim(session, handoff.id, "jo")
        assert taken.value.reason == "not_waiting"
        with pytest.raises(handoffs.HandoffError) as not_yours:
            handoffs.check_can_write(handoff, "jo", "agent")
        assert not_yours.value.reason == "not_yours"
        handoffs.check_can_write(handoff, "sam", "supervisor")
        with pytest.raises(handoffs.HandoffError):
            handoffs.close(session, handoff.id, "alex", "agent", disposition="made_up")
        closed = handoffs.close(session, handoff.id, "alex", "agent", disposition="plan_set_up", note="6 months", resume_bot=True)
        assert (closed.status, closed.disposition, closed.resume_bot) == ("closed", "plan_set_up", True)
        with pytest.raises(handoffs.HandoffError):
            handoffs.close(session, handoff.id, "alex", "agent", disposition="paid")
        actions = [e.action for e in session.query(DeskAuditEntry).order_by(DeskAuditEntry.id)]
        assert actions[-2:] == ["handoff.claim", "handoff.close"]
        # a new request after closing opens a new handoff
        assert _open(session, "c-9")[1]


def test_expected_wait_follows_recent_claims(seeded_url):
    with db.session_scope(seeded_url) as session:
        start = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.timezone.utc)
        for n, minutes in enumerate((4, 6, 8)):
            handoff, _ = _open(session, f"old-{n}", now=start)
            handoffs.claim(session, handoff.id, "alex", now=handoff.created_at + dt.timedelta(minutes=minutes))
        waiting, _ = _open(session, "new-1")
        assert handoffs.median_wait_minutes(session, "lakeside") == 6
        assert handoffs.expected_wait_minutes(session, waiting) == 6


def test_partner_hours_in_the_clients_time_zone(seeded_url):
    with db.session_scope(seeded_url) as session:
        client = get_client(session, "riverside")
    # the demo clients staff their queue around the clock (no partner_hours in their policy)
    assert handoffs.partners_available(client, dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.timezone.utc))
    hours = {"mon": ("08:00", "20:00"), "tue": ("08:00", "20:00"), "wed": ("08:00", "20:00"), "thu": ("08:00", "20:00"),
             "fri": ("08:00", "20:00"), "sat": ("09:00", "13:00")}
    staffed = dataclasses.replace(client, policy=dataclasses.replace(client.policy, partner_hours=hours))
    # Friday 2026-11-27 19:30 New York is 00:30 UTC Saturday: still open
    assert handoffs.partners_available(staffed, dt.datetime(2026, 11, 28, 0, 30, tzinfo=dt.timezone.utc))
    # Saturday 14:00 New York: closed; Sunday: closed
    assert not handoffs.partners_available(staffed, dt.datetime(2026, 11, 28, 19, 0, tzinfo=dt.timezone.utc))
    assert not handoffs.partners_available(staffed, dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.timezone.utc))
    assert handoffs.hours_text(staffed) == "Monday to Friday 8 AM to 8 PM, Saturday 9 AM to 1 PM"


def test_policy_reads_partner_hours_ranges():
    from billing.policy import _partner_hours

    hours = _partner_hours({"mon-fri": ["08:00", "18:00"], "sat": ["09:00", "12:30"]})
    assert hours["wed"] == ("08:00", "18:00") and hours["sat"] == ("09:00", "12:30") and "sun" not in hours


def test_the_queue_is_the_named_department_else_the_topics_else_billing():
    assert handoffs.department_for("insurance") == "insurance"
    assert handoffs.department_for("disputes", named="financial_counseling") == "financial_counseling"
    assert handoffs.department_for("insurance", named="patient_relations") == "disputes"
    assert handoffs.department_for("made_up") == "billing"
    assert handoffs.department_for(None, named="medical_records") == "billing"
    assert handoffs.department_for() == "billing"


def test_summary_names_only_what_verification_allows():
    facts = handoffs.Facts(reason="asked_for_person", channel="SMS", phone="(555) 010-1001", asked=["pay my bill"],
                           account_number="40012345")
    unverified = handoffs.summary_text(facts)
    assert "not verified" in unverified and "40012345" not in unverified
    facts.patient_name, facts.verified_by = "Maria Garcia", "date of birth and account number"
    from decimal import Decimal

    facts.balance = Decimal("412.50")
    verified = handoffs.summary_text(facts)
    assert "Maria Garcia, verified by date of birth and account number" in verified
    assert "Account 40012345, balance $412.50" in verified and '"pay my bill"' in verified


def test_the_patient_hears_what_is_passed_on_without_account_detail_before_verification():
    from decimal import Decimal

    facts = handoffs.Facts(reason="asked_for_person", channel="phone call", asked=["what's my balance", "can i talk to a real person"])
    assert handoffs.patient_recap(facts) == 'you asked about "what\'s my balance"; they will confirm who you are first'
    facts.patient_name, facts.verified_by, facts.account_number, facts.balance = "Maria Garcia", "date of birth", "40012345", Decimal("412.50")
    assert handoffs.patient_recap(facts) == ('you are Maria Garcia, account 40012345 with a balance of $412.50, '
                                             'and you asked about "what\'s my balance"')
