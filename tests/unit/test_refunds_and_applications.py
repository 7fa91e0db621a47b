"""Credit refunds and financial assistance applications on SQLite and
PostgreSQL: Aisha's $85.00 credit back to her card once; Robert's
application held open, approved as free care."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import assistance, db, ledger, outreach, refunds
from billing.gateway import SandboxCharge, SandboxGateway
from billing.models import Account, AccountEvent, Client
from billing.policy import policy_of


def _account(session, number):
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def test_aisha_asks_for_her_credit_back_and_a_partner_approves_it_once(seeded_url):
    with db.session_scope(seeded_url) as session:
        aisha = _account(session, "40056789")
        assert refunds.credit(session, aisha) == Decimal("85.00")
        card = refunds.original_card(session, aisha)
        assert card.last4 == "4444"
        for amount, method, reason in (("100.00", "card", "above_credit"), ("-5", "card", "not_positive"),
                                       ("0", "check", "not_positive"), ("85.00", "cash", "bad_method")):
            with pytest.raises(refunds.RefundError) as refused:
                refunds.request_refund(session, aisha, amount, method, actor="bot")
            assert refused.value.reason == reason
        request = refunds.request_refund(session, aisha, "85.00", "card", actor="bot", conversation_id="c-aisha")
        with pytest.raises(refunds.RefundError) as twice:
            refunds.request_refund(session, aisha, "10.00", "check", actor="bot")
        assert twice.value.reason == "already_requested"
        assert ledger.balance(session, aisha) == Decimal("-85.00")  # nothing moves before a partner approves
        refunds.approve(session, request, actor="alex")
        assert request.status == "refunded" and request.gateway_reference.startswith("re_sbx_")
        with pytest.raises(refunds.RefundError):
            refunds.approve(session, request, actor="alex")
        assert ledger.balance(session, aisha) == Decimal("0.00")
        assert session.execute(select(SandboxCharge).where(SandboxCharge.idempotency_key == f"refund:{request.id}")).scalar_one().amount == Decimal("-85.00")
        with pytest.raises(refunds.RefundError) as none_left:
            refunds.request_refund(session, aisha, "1.00", "check", actor="bot")
        assert none_left.value.reason == "no_credit"
        actions = [e.action for e in session.execute(select(AccountEvent).where(AccountEvent.account_id == aisha.id)).scalars()]
        assert actions[-2:] == ["refund_requested", "refund_paid"]


def test_a_refund_is_not_paid_when_the_gateway_is_down(seeded_url):
    with db.session_scope(seeded_url) as session:
        aisha = _account(session, "40056789")
        request = refunds.request_refund(session, aisha, "85.00", "card", actor="bot")
        with pytest.raises(refunds.RefundError) as down:
            refunds.approve(session, request, actor="alex", gateway=SandboxGateway(mode="unavailable"))
        assert down.value.reason == "gateway_unavailable" and request.status == "requested"
        assert ledger.balance(session, aisha) == Decimal("-85.00")
        refunds.deny(session, request, actor="alex", note="patient called to keep it as a credit")
        assert request.status == "denied"


def test_robert_applies_outreach_is_held_and_approval_posts_free_care(seeded_url):
    with db.session_scope(seeded_url) as session:
        robert = _account(session, "40045678")
        policy = policy_of(session.get(Client, robert.client_id)).financial_assistance
        screening = assistance.screen(policy, 4, "38000")
        assert (screening.outcome, screening.fpl_percent) == ("free_care", 115)
        application = assistance.apply(session, robert, screening, actor="bot", channel="rest", today=dt.date(2026, 11, 28))
        assert application.reference.startswith("FA-") and application.window_ends == dt.date(2027, 7, 26)
        assert any("assistance application" in hold for hold in outreach.collection_holds(session, robert))
        with pytest.raises(assistance.ApplicationError):
            assistance.apply(session, robert, screening, actor="bot")
        assistance.approve(session, application, actor="sam", note="income verified")
        assert ledger.balance(session, robert) == Decimal("0.00")
        assert not outreach.collection_holds(session, robert)
        with pytest.raises(assistance.ApplicationError):
            assistance.approve(session, application, actor="sam")


def test_a_discount_approval_takes_the_clients_percent(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        policy = policy_of(session.get(Client, james.client_id)).financial_assistance
        screening = assistance.screen(policy, 1, "50000")
        assert screening.outcome == "discount"
        application = assistance.apply(session, james, screening, actor="bot")
        assistance.approve(session, application, actor="sam")
        # Riverside: 60% off the $1,850.00 owed
        assert ledger.balance(session, james) == Decimal("740.00")
