"""The outreach planner, rule by rule, on the demo data (SQLite and
PostgreSQL): what a compliance officer checks before a reminder goes out.

The demo's moment is 2026-11-28 15:00 UTC: 10:00 in Atlanta (Riverside's
patients), 09:00 in Chicago and Evanston (Lakeside's)."""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select

from billing import assistance, clock, db, disputes, insurance, outreach, outreach_plan, seed
from billing.campaigns import CampaignError
from billing.models import Account, Client, IdentityCheck, OutreachAttempt, Patient
from billing.policy import ClientPolicy, policy_of
from tests.conftest import DEMO_FILE, DEMO_NOW

JAMES, LINDA, EMILY, ROBERT, AISHA, GRACE, CARLOS = (
    "40023456", "40034567", "40078901", "40045678", "40056789", "40090123", "40089012")
JAMES_PHONE = "+15550101002"


def plan_at(url, moment, client=None):
    with db.session_scope(url) as session:
        return {(c.account, c.campaign): c for c in outreach_plan.plan(session, clock.parse(moment), client)}


def account(session, number) -> Account:
    return session.execute(select(Account).where(Account.account_number == number)).scalar_one()


def test_at_the_demo_moment_the_due_reminders_and_the_installment_reminder_go_by_text(seeded_url):
    contacts = plan_at(seeded_url, DEMO_NOW)
    sent = {key: (c.channel, c.to) for key, c in contacts.items() if c.decision == "send"}
    assert sent == {
        (JAMES, "due_reminder"): ("sms", JAMES_PHONE),            # due 12-05, reminded 7 days before
        (LINDA, "installment_reminder"): ("sms", "+15550101003"),  # installment on 12-01, 3 days before
        (EMILY, "due_reminder"): ("sms", "+15550101007"),          # due 12-02: 11-27 was the day, still in its window
    }
    assert all(c.reason == "due" for c in contacts.values())


def test_planning_changes_nothing(seeded_url):
    plan_at(seeded_url, DEMO_NOW)
    plan_at(seeded_url, DEMO_NOW)
    with db.session_scope(seeded_url) as session:
        assert session.execute(select(func.count()).select_from(OutreachAttempt)).scalar_one() == 0


def test_a_credit_is_never_chased(seeded_url):
    aisha = plan_at(seeded_url, "2026-11-29T15:00:00Z")[(AISHA, "past_due")]   # due 11-14, 15 days after
    assert (aisha.decision, aisha.reason) == ("skip", "nothing_owed")
    assert "credit of $85.00" in aisha.detail


def test_a_balance_at_or_under_the_small_balance_line_is_not_chased(seeded_url):
    grace = plan_at(seeded_url, "2026-12-10T15:00:00Z")[(GRACE, "due_reminder")]   # $3.50, Lakeside's line $10.00
    assert (grace.decision, grace.reason) == ("skip", "small_balance")


def test_a_call_without_voice_consent_falls_to_a_text(seeded_url):
    robert = plan_at(seeded_url, "2026-11-20T15:00:00Z")[(ROBERT, "past_due")]   # channels [voice, sms], no voice consent
    assert (robert.decision, robert.channel) == ("send", "sms")


def test_no_consent_on_any_of_the_campaigns_channels(seeded_url):
    with db.session_scope(seeded_url) as session:
        patient = session.get(Patient, "p-james-carter")
        patient.consent_sms = patient.consent_voice = False
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason) == ("skip", "no_consent")


def test_without_text_consent_the_next_channel_in_the_campaigns_order_is_used(seeded_url):
    with db.session_scope(seeded_url) as session:
        session.get(Patient, "p-james-carter").consent_sms = False
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]   # channels [sms, voice]
    assert (james.decision, james.channel) == ("send", "voice")


def test_a_stop_by_text_ends_the_clients_calls_to_that_number_too(seeded_url):
    with db.session_scope(seeded_url) as session:
        outreach.set_opt_out(session, client_id="riverside", channel="sms", address=JAMES_PHONE, opted_out=True, source="sms keyword (SM1)")
    contacts = plan_at(seeded_url, "2026-12-06T15:00:00Z")   # past_due, day 1: [voice, sms]
    james = contacts[(JAMES, "past_due")]
    assert (james.decision, james.reason) == ("skip", "opted_out")
    assert "voice: opted_out" in james.detail and "sms: opted_out" in james.detail


def test_an_opt_out_from_one_client_does_not_silence_another(seeded_url):
    with db.session_scope(seeded_url) as session:
        outreach.set_opt_out(session, client_id="lakeside", channel="sms", address=JAMES_PHONE, opted_out=True, source="sms keyword")
    assert plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")].decision == "send"


def test_a_wrong_number_is_never_contacted(seeded_url):
    with db.session_scope(seeded_url) as session:
        outreach.set_opt_out(session, client_id="riverside", channel="all", address=JAMES_PHONE, opted_out=True,
                             source="wrong number: sms:riverside:+15550101002")
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason) == ("skip", "wrong_number")


def _set_policy(url, client_id, change):
    with db.session_scope(url) as session:
        client = session.get(Client, client_id)
        policy = copy.deepcopy(client.policy)
        change(policy["outreach"])
        ClientPolicy.from_dict(policy)
        client.policy = policy


def test_a_channel_the_client_switched_off_is_not_used(seeded_url):
    def texts_off(out):
        out["sms_enabled"] = False
    _set_policy(seeded_url, "lakeside", texts_off)   # Lakeside's voice is off too
    emily = plan_at(seeded_url, DEMO_NOW)[(EMILY, "due_reminder")]
    assert (emily.decision, emily.reason) == ("skip", "channel_disabled")


@pytest.mark.parametrize("moment, decision, until", [
    # Riverside: quiet 21:00-08:00 in Atlanta (EST, UTC-5)
    ("2026-11-28T12:59:00Z", "defer", "2026-11-28T13:00:00+00:00"),   # 07:59
    ("2026-11-28T13:00:00Z", "send", None),                            # 08:00
    ("2026-11-29T01:59:00Z", "send", None),                            # 20:59
    ("2026-11-29T02:00:00Z", "defer", "2026-11-29T13:00:00+00:00"),   # 21:00, until 08:00 the next morning
])
def test_quiet_hours_in_atlanta_at_both_edges(seeded_url, moment, decision, until):
    james = plan_at(seeded_url, moment)[(JAMES, "due_reminder")]
    assert james.decision == decision
    assert (james.until.isoformat() if james.until else None) == until
    if decision == "defer":
        assert james.reason == "quiet_hours"


@pytest.mark.parametrize("moment, decision", [
    # Lakeside: quiet 20:00-09:00 in Evanston (CST, UTC-6)
    ("2026-11-28T14:59:00Z", "defer"),   # 08:59
    ("2026-11-28T15:00:00Z", "send"),    # 09:00
    ("2026-11-29T01:59:00Z", "send"),    # 19:59
    ("2026-11-29T02:00:00Z", "defer"),   # 20:00
])
def test_quiet_hours_in_chicago_at_both_edges(seeded_url, moment, decision):
    assert plan_at(seeded_url, moment)[(EMILY, "due_reminder")].decision == decision


def test_quiet_hours_follow_the_patients_address_not_the_clients_zone(seeded_url):
    with db.session_scope(seeded_url) as session:
        james = session.get(Patient, "p-james-carter")
        james.state, james.zip_code = "CA", "94110"   # Pacific: 07:00 at the demo moment
    contact = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (contact.decision, contact.reason) == ("defer", "quiet_hours")
    assert contact.until.isoformat() == "2026-11-28T16:00:00+00:00"   # 08:00 in San Francisco


def test_a_split_state_is_read_by_zip_and_no_address_means_the_clients_zone(seeded_url):
    with db.session_scope(seeded_url) as session:
        session.get(Patient, "p-james-carter").state, session.get(Patient, "p-james-carter").zip_code = "FL", "32501"  # Pensacola: Central
        linda = session.get(Patient, "p-linda-nguyen")
        linda.state = linda.zip_code = None
    contacts = plan_at(seeded_url, "2026-11-28T13:30:00Z")   # 08:30 in New York, 07:30 in Pensacola
    assert contacts[(JAMES, "due_reminder")].decision == "defer"
    assert contacts[(LINDA, "installment_reminder")].decision == "send"   # Riverside's own zone, New York


@pytest.mark.parametrize("moment, until", [
    ("2026-10-31T11:30:00Z", "2026-10-31T12:00:00+00:00"),   # 07:30 EDT: 08:00 EDT is 12:00 UTC
    ("2026-11-01T12:30:00Z", "2026-11-01T13:00:00+00:00"),   # the clocks went back at 06:00 UTC: 08:00 EST is 13:00 UTC
])
def test_quiet_hours_across_the_daylight_saving_change(seeded_url, moment, until):
    with db.session_scope(seeded_url) as session:
        account(session, JAMES).due_date = dt.date(2026, 11, 7)   # reminded from 10-31, for three days
    james = plan_at(seeded_url, moment)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason, james.until.isoformat()) == ("defer", "quiet_hours", until)


def _attempts(url, number, times, campaign="past_due"):
    with db.session_scope(url) as session:
        acct = account(session, number)
        for i, at in enumerate(times):
            session.add(OutreachAttempt(client_id=acct.client_id, account_id=acct.id, patient_id=acct.patient_id, campaign=campaign,
                                        step=f"earlier:{i}", channel="sms", to="+15550100000", language="en", status="delivered",
                                        created_at=at, sent_at=at, tries=1))


def test_the_attempts_cap_counts_every_channel_over_seven_days(seeded_url):
    now = clock.parse(DEMO_NOW).replace(tzinfo=None)
    # Riverside allows 7 in 7 days: six earlier ones leave room for this one
    _attempts(seeded_url, JAMES, [now - dt.timedelta(days=d, hours=1) for d in range(6)])
    assert plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")].decision == "send"
    _attempts(seeded_url, JAMES, [now - dt.timedelta(days=6, hours=20)], campaign="statement_ready")
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason) == ("defer", "cap_reached")
    assert james.until == clock.parse(DEMO_NOW) + dt.timedelta(hours=4)   # when the oldest is seven days old


def test_attempts_older_than_seven_days_do_not_count(seeded_url):
    now = clock.parse(DEMO_NOW).replace(tzinfo=None)
    _attempts(seeded_url, JAMES, [now - dt.timedelta(days=7, minutes=d + 1) for d in range(10)])
    assert plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")].decision == "send"


def _talked(url, patient_id, days_ago):
    with db.session_scope(url) as session:
        session.add(IdentityCheck(client_id="riverside", conversation_id="sms:riverside:+15550101002", channel="twilio_sms",
                                  outcome="verified", patient_id=patient_id,
                                  at=clock.parse("2026-12-06T15:00:00Z").replace(tzinfo=None) - dt.timedelta(days=days_ago)))


def test_no_call_within_seven_days_after_a_conversation(seeded_url):
    _talked(seeded_url, "p-james-carter", 3)
    james = plan_at(seeded_url, "2026-12-06T15:00:00Z")[(JAMES, "past_due")]   # [voice, sms]
    assert (james.decision, james.channel) == ("send", "sms")
    assert "voice: recent_conversation" in james.detail


def test_a_call_again_once_the_conversation_is_a_week_old(seeded_url):
    _talked(seeded_url, "p-james-carter", 8)
    assert plan_at(seeded_url, "2026-12-06T15:00:00Z")[(JAMES, "past_due")].channel == "voice"


def _dispute(session, acct):
    disputes.open_dispute(session, acct, "duplicate", actor="test")


def _application(session, acct):
    policy = policy_of(session.get(Client, acct.client_id)).financial_assistance
    assistance.apply(session, acct, assistance.screen(policy, 4, "30000.00"), actor="test", today=clock.today())


def _transfer(session, acct):
    insurance.transfer_to_insurance(session, acct, insurance.current_policy(session, acct.patient_id), actor="test",
                                    reason="re-bill Aetna")


def _partner_hold(session, acct):
    outreach.place_hold(session, acct, "patient asked us to wait for their HSA", actor="alex")


@pytest.mark.parametrize("hold, words", [
    (_dispute, "dispute"), (_application, "assistance application"), (_transfer, "insurance"), (_partner_hold, "partner's hold"),
])
def test_held_accounts_are_not_contacted(seeded_url, hold, words):
    with db.session_scope(seeded_url) as session:
        hold(session, account(session, JAMES))
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason) == ("skip", "hold")
    assert words in james.detail


def test_a_lifted_hold_lets_the_reminder_go(seeded_url):
    with db.session_scope(seeded_url) as session:
        hold = outreach.place_hold(session, account(session, JAMES), "checking a payment", actor="alex")
        outreach.lift_hold(session, hold, actor="alex")
    assert plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")].decision == "send"


def test_a_step_already_attempted_is_not_sent_again(seeded_url):
    with db.session_scope(seeded_url) as session:
        acct = account(session, JAMES)
        session.add(OutreachAttempt(client_id="riverside", account_id=acct.id, patient_id=acct.patient_id, campaign="due_reminder",
                                    step="due:2026-12-05", channel="sms", to=JAMES_PHONE, language="en", status="delivered", tries=1))
    james = plan_at(seeded_url, DEMO_NOW)[(JAMES, "due_reminder")]
    assert (james.decision, james.reason, james.status) == ("skip", "already_sent", "delivered")


def test_a_paused_campaign_sends_nothing(seeded_url):
    with db.session_scope(seeded_url) as session:
        outreach.set_paused(session, "riverside", "due_reminder", True, actor="sam")
    contacts = plan_at(seeded_url, DEMO_NOW)
    assert contacts[(JAMES, "due_reminder")].reason == "paused"
    assert contacts[(LINDA, "installment_reminder")].decision == "send"


def test_the_patients_language_goes_with_the_contact(seeded_url):
    carlos = plan_at(seeded_url, "2026-12-09T15:00:00Z")[(CARLOS, "past_due")]
    assert (carlos.decision, carlos.language) == ("send", "es")


def test_a_window_that_passed_is_not_sent_late(seeded_url):
    contacts = plan_at(seeded_url, "2026-12-01T15:00:00Z")   # Emily's due reminder day was 11-27, three days' window
    assert (EMILY, "due_reminder") not in contacts


def test_one_client_only(seeded_url):
    assert {c.client for c in plan_at(seeded_url, DEMO_NOW, "lakeside").values()} == {"lakeside"}


@pytest.mark.parametrize("campaign, words", [
    ({"name": "birthday_card", "channels": ["sms"], "when": {"days_before_due": 1}}, "unknown campaign"),
    ({"name": "due_reminder", "channels": ["fax"], "when": {"days_before_due": 1}}, "unknown channel"),
    ({"name": "due_reminder", "channels": ["sms"], "when": {"days_after_due": 1}}, "when is days_before_due"),
    ({"name": "due_reminder", "channels": ["sms"], "when": {"days_before_due": -2}}, "number of days"),
])
def test_a_policy_with_a_campaign_the_rules_cannot_read_is_refused_at_load(tmp_path, campaign, words):
    import yaml

    data = yaml.safe_load(DEMO_FILE.read_text())
    data["clients"][0]["policy"]["outreach"]["campaigns"] = [campaign]
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(data))
    url = f"sqlite:///{tmp_path / 'b.db'}"
    db.migrate(url)
    with pytest.raises(CampaignError, match=words):
        with db.session_scope(url) as session:
            seed.load(session, bad)


def test_quiet_hours_the_rules_cannot_read_are_refused():
    import yaml

    from billing.localtime import HoursError

    policy = yaml.safe_load(DEMO_FILE.read_text())["clients"][0]["policy"]
    policy["outreach"]["quiet_hours_local"] = ["late", "08:00"]
    with pytest.raises(HoursError):
        ClientPolicy.from_dict(policy)
