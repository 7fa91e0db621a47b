"""Disputes on SQLite and PostgreSQL: David's duplicate lab charge."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import db, disputes, ledger, outreach
from billing.models import Account, AccountEvent


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
