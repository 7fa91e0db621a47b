"""Credit refunds and financial assistance applications on SQLite and
PostgreSQL: Aisha's $85.00 credit back to her card once; Robert's
application held open, approved as free care."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing import assistance, db, ledger, outreach, refunds, staff
from billing.gateway import SandboxCharge, SandboxGateway
from billing.models import Account, AccountEvent, AssistanceApplication, Client, RefundRequest
from billing import policy
from billing.policy import ClientPolicy, policy_of
from tests.concurrency import at_once, slowed


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
        refunds.approve(session, request, actor="sam")
        assert request.status == "refunded" and request.gateway_reference.startswith("re_sbx_")
        with pytest.raises(refunds.RefundError):
            refunds.approve(session, request, actor="sam")
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
            refunds.approve(session, request, actor="sam", gateway=SandboxGateway(mode="unavailable"))
        assert down.value.reason == "gateway_unavailable" and request.status == "requested"
        assert ledger.balance(session, aisha) == Decimal("-85.00")
        refunds.deny(session, request, actor="alex", note="patient called to keep it as a credit")
        assert request.status == "denied"


def test_robert_applies_outreach_is_held_and_approval_posts_free_care(seeded_url, monkeypatch):
    monkeypatch.setenv("SELFPAY_NOW", "2026-11-28T15:00:00Z")
    with db.session_scope(seeded_url) as session:
        robert = _account(session, "40045678")
        policy = policy_of(session.get(Client, robert.client_id)).financial_assistance
        screening = assistance.screen(policy, 4, "38000")
        assert (screening.outcome, screening.fpl_percent) == ("free_care", 115)
        # the window runs from Robert's first statement (2026-10-20), not from the day he asks
        application = assistance.apply(session, robert, screening, actor="bot", channel="rest")
        assert robert.statement_date == dt.date(2026, 10, 20)
        assert application.reference.startswith("FA-") and application.window_ends == dt.date(2027, 6, 17)
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


def _apply(session, account, today=None):
    policy = policy_of(session.get(Client, account.client_id)).financial_assistance
    return assistance.apply(session, account, assistance.screen(policy, 4, "38000"), actor="bot", today=today)


def test_a_late_application_is_still_taken_with_a_grace_period(seeded_url):
    with db.session_scope(seeded_url) as session:
        robert = _account(session, "40045678")
        # 2027-06-17 has passed: 501(r)'s 240 days are a floor, so he may still apply
        application = _apply(session, robert, dt.date(2027, 7, 1))
        assert application.window_ends == dt.date(2027, 7, 1) + dt.timedelta(days=assistance.LATE_APPLICATION_GRACE_DAYS)
        assert assistance.LATE_APPLICATION_GRACE_DAYS == 30


def test_an_account_with_no_statement_yet_counts_from_the_day_of_the_application(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = _account(session, "40023456")
        james.statement_date = None
        assert _apply(session, james, dt.date(2026, 12, 1)).window_ends == dt.date(2027, 7, 29)
        assert assistance.window_ends(james, 240, dt.date(2026, 12, 1)) == dt.date(2027, 7, 29)


def _set_policy(session, client_id, **changes):
    client = session.get(Client, client_id)
    client.policy = {**client.policy, **changes}


def test_only_a_supervisor_approves_refunds_and_assistance_unless_the_client_says_otherwise(seeded_url):
    with db.session_scope(seeded_url) as session:
        aisha, robert = _account(session, "40056789"), _account(session, "40045678")
        refund = refunds.request_refund(session, aisha, "85.00", "check", actor="bot")
        application = _apply(session, robert)
        for actor in ("alex", "patient:bot", "nobody"):
            with pytest.raises(refunds.RefundError) as refused:
                refunds.approve(session, refund, actor=actor)
            assert (refused.value.reason, refused.value.role) == ("not_approver", "supervisor")
            with pytest.raises(assistance.ApplicationError) as refused:
                assistance.approve(session, application, actor=actor)
            assert (refused.value.reason, refused.value.role) == ("not_approver", "supervisor")
        assert (refund.status, application.status) == ("requested", "open")
        assert ledger.balance(session, aisha) == Decimal("-85.00") and ledger.balance(session, robert) == Decimal("4200.00")
        # a partner may still deny (nothing moves); an admin may approve what a supervisor may
        staff.add_user(session, "ada", "Ada Admin", "admin", "ada-admin-pass", created_by="test")
        refunds.approve(session, refund, actor="ada")
        assert refund.status == "refunded"

    with db.session_scope(seeded_url) as session:
        robert = _account(session, "40045678")
        _set_policy(session, robert.client_id, approvals={"assistance": "agent"})
        application = assistance.open_applications(session, robert)[0]
        assistance.approve(session, application, actor="alex", note="the client lets partners approve")
        assert application.status == "approved" and ledger.balance(session, robert) == Decimal("0.00")


def test_the_approvals_policy(seeded_url):
    with db.session_scope(seeded_url) as session:
        raw = session.get(Client, "riverside").policy
    assert ClientPolicy.from_dict(raw).approvals == {"refund": "supervisor", "assistance": "supervisor"}
    assert ClientPolicy.from_dict({**raw, "approvals": {"refund": "agent"}}).approvals == {"refund": "agent", "assistance": "supervisor"}
    assert policy.ROLE_ORDER == staff.ROLES
    for bad in ({"refund": "intern"}, {"lunch": "supervisor"}, ["refund"]):
        with pytest.raises(ValueError):
            ClientPolicy.from_dict({**raw, "approvals": bad})


def test_one_refund_approved_twice_at_once_pays_once(seeded_url, monkeypatch):
    with db.session_scope(seeded_url) as session:
        refund_id = refunds.request_refund(session, _account(session, "40056789"), "85.00", "card", actor="bot").id
    monkeypatch.setattr(ledger, "post", slowed(ledger.post))

    def approve(_):
        with db.session_scope(seeded_url) as session:
            return refunds.approve(session, session.get(RefundRequest, refund_id), actor="sam").status

    results = at_once(2, approve)
    assert results.count("refunded") == 1, results
    assert [r.reason for r in results if isinstance(r, refunds.RefundError)] == ["not_requested"], results
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _account(session, "40056789")) == Decimal("0.00")


def test_one_application_approved_twice_at_once_adjusts_once(seeded_url, monkeypatch):
    with db.session_scope(seeded_url) as session:
        application_id = _apply(session, _account(session, "40045678")).id
    monkeypatch.setattr(ledger, "post", slowed(ledger.post))

    def approve(_):
        with db.session_scope(seeded_url) as session:
            return assistance.approve(session, session.get(AssistanceApplication, application_id), actor="sam").status

    results = at_once(2, approve)
    assert results.count("approved") == 1, results
    assert [r.reason for r in results if isinstance(r, assistance.ApplicationError)] == ["not_open"], results
    with db.session_scope(seeded_url) as session:
        assert ledger.balance(session, _account(session, "40045678")) == Decimal("0.00")
