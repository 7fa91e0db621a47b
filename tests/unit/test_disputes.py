"""Disputes on SQLite and PostgreSQL: David's duplicate lab charge."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import db, disputes, ledger
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
        assert reference.startswith("D-") and disputes.outreach_held(session, david)
    with db.session_scope(seeded_url) as session:
        david = _david(session)
        dispute = disputes.open_disputes(session, david)[0]
        with pytest.raises(disputes.DisputeError):
            disputes.resolve_by_adjustment(session, dispute, "500", actor="agent:alex", note="too much")
        disputes.resolve_by_adjustment(session, dispute, "115.00", actor="agent:alex", note="duplicate charge removed")
        assert ledger.balance(session, david) == Decimal("115.00")
        assert not disputes.outreach_held(session, david)
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
