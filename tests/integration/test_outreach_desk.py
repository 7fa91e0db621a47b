"""The desk's side of outreach against the real servers: what a supervisor
sees per campaign (the planner's skips now, the attempts recorded and what
came of them), pausing and resuming a campaign (audited: who, when, why),
a partner's hold on an account and lifting it, the account's attempts,
the /desk/outreach page and its forms; agents get 403."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, select

from billing import db
from billing.models import Account, OutreachAttempt
from tests.integration.helpers import call

pytestmark = pytest.mark.integration

JAMES, LINDA = "40023456", "40034567"   # due reminder and installment reminder at the demo moment (riverside)


def _sign_in(assistant, username, password):
    status, body, _ = call(assistant, "POST", "/api/login", {"username": username, "password": password})
    assert status == 200, body
    return body


@pytest.fixture(scope="module")
def sam(assistant):
    return _sign_in(assistant, "sam", "sam-demo-pass")


@pytest.fixture(scope="module")
def alex_login(assistant):
    return _sign_in(assistant, "alex", "alex-demo-pass")


def campaigns(assistant, sam):
    status, body, _ = call(assistant, "GET", "/api/outreach", token=sam["token"])
    assert status == 200, body
    return body, {(c["client"], c["campaign"]): c for c in body["campaigns"]}


def test_an_agent_gets_403_and_nobody_signed_out_gets_in(assistant, alex_login):
    token = alex_login["token"]
    assert call(assistant, "GET", "/api/outreach")[0] == 401
    assert call(assistant, "GET", "/api/outreach", token=token)[0] == 403
    status, body, _ = call(assistant, "POST", "/api/outreach/statement_ready/pause", {"client": "riverside", "reason": "x"}, token=token)
    assert status == 403 and "supervisor" in body["error"]
    assert call(assistant, "POST", "/api/outreach/statement_ready/resume", {"client": "riverside"}, token=token)[0] == 403
    status, page, _ = call(assistant, "GET", "/desk/outreach", token=token)
    assert status == 403 and "supervisor" in page


def test_the_supervisor_sees_every_campaign_of_every_client_and_where_the_skips_come_from(assistant, sam):
    body, by_key = campaigns(assistant, sam)
    assert {("riverside", "statement_ready"), ("riverside", "due_reminder"), ("riverside", "past_due"),
            ("riverside", "installment_reminder"), ("riverside", "declined_followup"), ("lakeside", "due_reminder"),
            ("lakeside", "past_due"), ("lakeside", "installment_reminder")} == set(by_key)
    assert "planner" in body["skips_from"] and "read-only" in body["skips_from"]
    assert body["as_of"].startswith("2026-11-28")
    row = by_key[("riverside", "due_reminder")]
    assert row["channels"] == ["sms", "voice"] and row["client_name"] == "Riverside Health"
    for key in ("candidates", "attempts", "sent", "delivered", "failed", "opted_out", "skipped", "deferred", "planned_now",
                "paid_within_7_days", "replied"):
        assert key in row
    assert isinstance(row["replied"], int) and "texted back" in body["replies"]   # what a reply is, said in the answer
    assert row["candidates"] >= 1 and row["planned_now"]["send"] >= 1   # James is due at the demo moment
    # reading it twice records nothing: still no attempt of the demo day
    assert campaigns(assistant, sam)[1][("riverside", "due_reminder")]["attempts"] == row["attempts"]


def test_a_partners_hold_takes_the_account_out_of_the_campaign_until_it_is_lifted(assistant, sam, alex_login):
    alex = alex_login["token"]
    before = campaigns(assistant, sam)[1][("riverside", "due_reminder")]
    status, body, _ = call(assistant, "POST", f"/api/accounts/{JAMES}/outreach-hold", {"reason": "  "}, token=alex)
    assert status == 400 and "why" in body["error"]
    status, hold, _ = call(assistant, "POST", f"/api/accounts/{JAMES}/outreach-hold",
                           {"reason": "patient is in hospital, family asked us to wait"}, token=alex)
    assert status == 201 and hold["placed_by"] == "alex" and hold["active"] is True
    assert call(assistant, "POST", "/api/accounts/00000000/outreach-hold", {"reason": "x"}, token=alex)[0] == 404

    _, account, _ = call(assistant, "GET", f"/api/accounts/{JAMES}", token=alex)
    assert [h["id"] for h in account["outreach_holds"] if h["active"]] == [hold["id"]]
    assert any("patient is in hospital" in h and "alex" in h for h in account["collection_holds"])

    during = campaigns(assistant, sam)[1][("riverside", "due_reminder")]
    assert during["skipped"].get("hold", 0) == before["skipped"].get("hold", 0) + 1
    assert during["planned_now"]["send"] == before["planned_now"]["send"] - 1

    status, lifted, _ = call(assistant, "POST", f"/api/accounts/{JAMES}/outreach-hold/{hold['id']}/lift",
                             {"note": "family called back"}, token=alex)
    assert status == 200 and lifted["active"] is False and lifted["lifted_by"] == "alex"
    status, body, _ = call(assistant, "POST", f"/api/accounts/{JAMES}/outreach-hold/{hold['id']}/lift", {}, token=alex)
    assert status == 409 and "already" in body["error"]
    # a hold named on another account's URL is not found
    assert call(assistant, "POST", f"/api/accounts/{LINDA}/outreach-hold/{hold['id']}/lift", {}, token=alex)[0] == 404
    after = campaigns(assistant, sam)[1][("riverside", "due_reminder")]
    assert after["planned_now"] == before["planned_now"] and after["skipped"] == before["skipped"]

    _, audit, _ = call(assistant, "GET", "/api/audit", token=sam["token"])
    actions = [(e["actor"], e["action"], e["target"]) for e in audit["entries"]]
    assert ("alex", "account.outreach_hold", f"account:{JAMES}") in actions
    assert ("alex", "account.outreach_hold_lifted", f"account:{JAMES}") in actions


def test_pausing_a_campaign_is_audited_with_who_and_why_and_resuming_brings_it_back(assistant, sam):
    token = sam["token"]
    path = "/api/outreach/installment_reminder"
    status, body, _ = call(assistant, "POST", f"{path}/pause", {"client": "riverside"}, token=token)
    assert status == 400 and "why" in body["error"].lower()
    # two clients run it: the supervisor names one
    status, body, _ = call(assistant, "POST", f"{path}/pause", {"reason": "script under review"}, token=token)
    assert status == 400 and "lakeside" in body["error"] and "riverside" in body["error"]
    assert call(assistant, "POST", "/api/outreach/birthday_greetings/pause", {"reason": "x"}, token=token)[0] == 404
    assert call(assistant, "POST", "/api/outreach/statement_ready/pause", {"client": "lakeside", "reason": "x"}, token=token)[0] == 404
    assert call(assistant, "POST", f"{path}/stop", {"client": "riverside", "reason": "x"}, token=token)[0] == 404

    status, paused, _ = call(assistant, "POST", f"{path}/pause", {"client": "riverside", "reason": "script under review"}, token=token)
    assert status == 200 and paused["paused"] is True and paused["changed"] is True and paused["by"] == "sam"
    again = call(assistant, "POST", f"{path}/pause", {"client": "riverside", "reason": "still"}, token=token)[1]
    assert again["changed"] is False

    by_key = campaigns(assistant, sam)[1]
    row = by_key[("riverside", "installment_reminder")]
    assert row["paused"] is True and row["paused_by"] == "sam" and row["pause_reason"] == "script under review"
    assert row["paused_at"].startswith("2026-11-28")
    assert row["planned_now"]["send"] == 0 and row["skipped"].get("paused", 0) >= 1   # Linda's reminder waits
    assert by_key[("lakeside", "installment_reminder")]["paused"] is False

    status, resumed, _ = call(assistant, "POST", f"{path}/resume", {"client": "riverside", "reason": "approved"}, token=token)
    assert status == 200 and resumed["paused"] is False and resumed["changed"] is True
    row = campaigns(assistant, sam)[1][("riverside", "installment_reminder")]
    assert row["paused"] is False and row["skipped"].get("paused", 0) == 0

    _, audit, _ = call(assistant, "GET", "/api/audit", token=token)
    mine = [e for e in audit["entries"] if e["target"] == "campaign:riverside/installment_reminder"]
    assert [e["action"] for e in mine][:2] == ["outreach.resume", "outreach.pause"]   # newest first, one each
    pause = mine[1]
    assert pause["actor"] == "sam" and pause["after"] == {"paused": True, "reason": "script under review"} and pause["at"]


@pytest.fixture
def attempts(assistant):
    """Three texts of an old statement (ten days before the demo moment, so
    no rule counts them today): delivered, failed with Twilio's error, sent."""
    when = dt.datetime(2026, 11, 18, 15, 0)
    with db.session_scope(assistant.database) as session:
        linda = session.execute(select(Account).where(Account.account_number == LINDA)).scalar_one()
        rows = [OutreachAttempt(client_id="riverside", account_id=linda.id, patient_id=linda.patient_id, campaign="statement_ready",
                                step=f"statement:2026-10-0{n}", channel="sms", to="+15550101003", language="en", status=status,
                                created_at=when, sent_at=when if status != "failed" else None, status_at=when, tries=1,
                                error_code="30006" if status == "failed" else None)
                for n, status in ((1, "delivered"), (2, "failed"), (3, "sent"))]
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    yield ids
    with db.session_scope(assistant.database) as session:
        session.execute(delete(OutreachAttempt).where(OutreachAttempt.id.in_(ids)))


def test_attempts_are_counted_by_outcome_and_listed_on_the_account(assistant, sam, alex_login, attempts):
    row = campaigns(assistant, sam)[1][("riverside", "statement_ready")]
    assert row["attempts"] >= 3 and row["delivered"] >= 1 and row["failed"] >= 1 and row["sent"] >= 2
    assert row["by_status"].get("delivered", 0) >= 1 and row["by_status"].get("failed", 0) >= 1

    _, account, _ = call(assistant, "GET", f"/api/accounts/{LINDA}", token=alex_login["token"])
    listed = {a["id"]: a for a in account["outreach_attempts"]}
    assert set(attempts) <= set(listed)
    failed = listed[attempts[1]]
    assert failed["status"] == "failed" and failed["error_code"] == "30006" and failed["campaign"] == "statement_ready"
    assert failed["sent_at"] is None and listed[attempts[0]]["status"] == "delivered"


def test_the_outreach_page_is_a_table_with_pause_and_resume_forms_that_need_the_csrf_token(assistant, sam):
    token, csrf = sam["token"], sam["csrf_token"]
    status, page, _ = call(assistant, "GET", "/desk/outreach", token=token)
    assert status == 200
    assert '<table id="campaigns">' in page and "<caption>" in page and 'scope="col"' in page
    assert 'data-client="riverside" data-campaign="past_due"' in page and "Skipped now, by reason" in page
    assert f'name="csrf_token" value="{csrf}"' in page
    assert 'action="/desk/outreach/riverside/past_due/pause"' in page
    assert 'for="pause-riverside-past_due"' in page and 'id="pause-riverside-past_due"' in page

    form_path = "/desk/outreach/riverside/past_due"
    status, _, _ = call(assistant, "POST", f"{form_path}/pause", token=token, form={"reason": "no token"})
    assert status == 403
    assert campaigns(assistant, sam)[1][("riverside", "past_due")]["paused"] is False

    status, _, headers = call(assistant, "POST", f"{form_path}/pause", token=token,
                              form={"csrf_token": csrf, "reason": "phone lines down"})
    assert status == 302 and headers["Location"].startswith("/desk/outreach?notice=")
    status, page, _ = call(assistant, "GET", "/desk/outreach", token=token)
    assert "Paused by sam" in page and "phone lines down" in page
    assert 'action="/desk/outreach/riverside/past_due/resume"' in page

    status, _, headers = call(assistant, "POST", f"{form_path}/pause", token=token, form={"csrf_token": csrf, "reason": ""})
    assert status == 302 and "problem=" in headers["Location"]
    status, _, headers = call(assistant, "POST", f"{form_path}/resume", token=token, form={"csrf_token": csrf})
    assert status == 302 and "notice=" in headers["Location"]
    assert campaigns(assistant, sam)[1][("riverside", "past_due")]["paused"] is False
    assert re.search(r'action="/desk/outreach/riverside/past_due/pause"', call(assistant, "GET", "/desk/outreach", token=token)[1])
