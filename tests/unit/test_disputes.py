"""Disputes on SQLite and PostgreSQL: David's duplicate lab charge."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import db, disputes, ledger, outreach
from billing.models import Account, AccountEvent, Dispute
from tests.concurrency import at_once, slowed


def _david(session):
    return session.execute(select(Account).where(Account.account_number == "40067890")).scalar_one()


def test_davids_duplicate_panel_is_disputed_held_and_resolved_by_an_adjustment(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        lines = disputes.service_lines(session, david)
        assert [(line.code, line.charge) for line in lines] == [("80053", Decimal("115.00"))] * 2
        dispute = disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=lines[1].id,
                                        description="billed twice for the same test", channel="rest", conversation_id="c1")
        reference = dispute.reference
        assert reference.startswith("D-") and outreach.collection_holds(session, david)
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        dispute = disputes.open_disputes(session, david)[0]
        with pytest.raises(disputes.DisputeError):
            disputes.resolve_by_adjustment(session, dispute, "500", actor="agent:alex", note="too much")
        disputes.resolve_by_adjustment(session, dispute, "115.00", actor="agent:alex", note="duplicate charge removed")
        assert ledger.balance(session, david) == Decimal("115.00")
        assert not outreach.collection_holds(session, david)
        with pytest.raises(disputes.DisputeError):
            disputes.uphold(session, dispute, actor="agent:alex", explanation="again")
        actions = [e.action for e in session.execute(select(AccountEvent).where(AccountEvent.account_id == david.id)).scalars()]
        assert actions == ["dispute_opened", "dispute_adjusted"]


def test_a_dispute_can_be_upheld_and_bad_requests_are_refused(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        with pytest.raises(disputes.DisputeError) as caught:
            disputes.open_dispute(session, david, "because", actor="bot")
        assert caught.value.reason == "unknown_reason"
        with pytest.raises(disputes.DisputeError) as caught:
            disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=999999)
        assert caught.value.reason == "unknown_service_line"
        dispute = disputes.open_dispute(session, david, "amount_wrong", actor="bot")
        disputes.uphold(session, dispute, actor="agent:alex", explanation="the charge matches the price list")
        assert dispute.status == "upheld" and ledger.balance(session, david) == Decimal("230.00")


def test_a_paid_duplicate_becomes_a_credit_but_never_more_than_the_charge(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        line = disputes.service_lines(session, david)[1]
        dispute = disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=line.id)
        # David paid the whole $230.00 before the dispute was worked
        ledger.post(session, david, kind="patient_payment", amount="-230.00", reason_code="PAT-PAY", description="paid in full", actor="test")
        with pytest.raises(disputes.DisputeError) as refused:
            disputes.resolve_by_adjustment(session, dispute, "115.01", actor="agent:alex", note="too much")
        assert refused.value.reason == "above_charge"
        disputes.resolve_by_adjustment(session, dispute, "115.00", actor="agent:alex", note="duplicate removed")
        assert ledger.balance(session, david) == Decimal("-115.00")


def test_a_service_line_has_one_open_dispute_and_a_second_is_told_its_reference(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        first_line, second_line = disputes.service_lines(session, david)
        first = disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=second_line.id)
        with pytest.raises(disputes.DisputeError) as caught:
            disputes.open_dispute(session, david, "amount_wrong", actor="bot", service_line_id=second_line.id)
        assert caught.value.reason == "already_open" and caught.value.reference == first.reference
        # another line may be disputed; once resolved, the line may be disputed again
        disputes.open_dispute(session, david, "not_received", actor="bot", service_line_id=first_line.id)
        disputes.uphold(session, first, actor="alex", explanation="the panel was run twice")
        again = disputes.open_dispute(session, david, "amount_wrong", actor="bot", service_line_id=second_line.id)
        assert again.reference != first.reference


def test_adjustments_of_one_charge_never_add_up_to_more_than_the_charge(seeded_url):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        line = disputes.service_lines(session, david)[1]
        first = disputes.open_dispute(session, david, "amount_wrong", actor="bot", service_line_id=line.id)
        disputes.resolve_by_adjustment(session, first, "100.00", actor="alex", note="priced wrong")
        second = disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=line.id)
        with pytest.raises(disputes.DisputeError) as caught:
            disputes.resolve_by_adjustment(session, second, "15.01", actor="alex", note="the rest and a cent")
        assert caught.value.reason == "above_charge" and caught.value.limit == Decimal("15.00")
        disputes.resolve_by_adjustment(session, second, "15.00", actor="alex", note="the rest")
        assert ledger.balance(session, david) == Decimal("115.00")


def test_two_disputes_of_one_line_at_once_open_one(seeded_url, monkeypatch):
    with db.session_scope(seeded_url) as session:
        line_id = disputes.service_lines(session, _david(session))[1].id
    monkeypatch.setattr(disputes, "new_reference", slowed(disputes.new_reference))

    def open_one(_):
        with db.session_scope(seeded_url) as session:
            return disputes.open_dispute(session, _david(session), "duplicate", actor="bot", service_line_id=line_id).reference

    results = at_once(2, open_one)
    opened = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, disputes.DisputeError)]
    assert len(opened) == 1 and len(refused) == 1, results
    assert refused[0].reason == "already_open" and refused[0].reference == opened[0]
    with db.session_scope(seeded_url) as session:
        assert [d.reference for d in disputes.open_disputes(session, _david(session))] == opened


def test_one_dispute_adjusted_twice_at_once_adjusts_once(seeded_url, monkeypatch):
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        line = disputes.service_lines(session, david)[1]
        dispute_id = disputes.open_dispute(session, david, "duplicate", actor="bot", service_line_id=line.id).id
    monkeypatch.setattr(ledger, "post", slowed(ledger.post))

    def adjust(_):
        with db.session_scope(seeded_url) as session:
            return disputes.resolve_by_adjustment(session, session.get(Dispute, dispute_id), "115.00", actor="alex",
                                                  note="duplicate removed").status

    results = at_once(2, adjust)
    assert results.count("adjusted") == 1, results
    assert [r.reason for r in results if isinstance(r, disputes.DisputeError)] == ["not_open"], results
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _david(session)) == Decimal("115.00")

