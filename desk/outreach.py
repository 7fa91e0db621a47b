"""Desk use cases about outbound engagement: each campaign's results for a
supervisor (``GET /api/outreach`` and /desk/outreach), pausing and
resuming a client's campaign, a partner's outreach hold on an account,
and the account panel's attempts.  The rules (who is contacted, holds,
pauses) are billing's (billing.outreach, billing.outreach_plan); this
module counts what was recorded and translates refusals.

Skip decisions are not stored: only attempts are.  The skipped and
deferred counts come from running the planner at this moment, read-only
(a plan, nothing recorded), and the answer says so (``skips_from``)."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any, Dict, List, Optional

from markupsafe import Markup, escape
from sqlalchemy import select

from billing import clock, db, outreach, outreach_plan, staff
from billing.models import Client, ContactPreference, DeskAuditEntry, OutreachAttempt, OutreachHold, OutreachPause, Payment
from billing.money import format_money, money
from billing.policy import policy_of
from billing.vocabulary import OUTREACH_OPEN, OutreachDecision, OutreachStatus, PaymentStatus
from desk import transcripts
from desk.common import DeskError, find_account, find_row

# what a supervisor reads off an attempt's status
DELIVERED = (OutreachStatus.DELIVERED, OutreachStatus.ANSWERED, OutreachStatus.COMPLETED)
FAILED = (OutreachStatus.FAILED, OutreachStatus.UNDELIVERED, OutreachStatus.NO_ANSWER, OutreachStatus.BUSY,
          OutreachStatus.CANCELED)
PAID_WITHIN = dt.timedelta(days=7)
SKIPS_FROM = ("planned now: skip and defer decisions are not stored, so these counts come from running the planner "
              "at this moment, read-only (nothing is recorded or sent)")
REPLIES_FROM = "attempts a patient texted back within 7 days (the conversation records which reminder it answers)"
DEFINITIONS = {
    "candidates": "contacts the campaign makes due at this moment (the planner's rows, incl. those already sent)",
    "attempts": "attempts recorded, ever",
    "sent": "attempts Twilio accepted (a text sent, a call placed)",
    "delivered": "texts delivered and calls answered",
    "failed": "failed, undelivered, unanswered, busy or cancelled",
    "in_flight": "recorded, not yet handed to Twilio or answered by it",
    "opted_out": "accounts whose number opted out after this campaign contacted it",
    "paid_within_7_days": "accounts with a posted payment within 7 days after an attempt, and how much",
}
HOLD_PROBLEMS = {
    "hold_needs_reason": (400, "Say why this account's outreach is held (a partner reads it before any contact)."),
    "hold_reason_too_long": (400, "Keep the reason under 300 characters."),
    "hold_already_lifted": (409, "This hold has already been lifted."),
}


def _iso(moment: Optional[dt.datetime]) -> Optional[str]:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _moment(now: Optional[str]) -> dt.datetime:
    if not now:
        return clock.now_aware()
    try:
        return clock.parse(now)
    except clock.ClockError:
        raise DeskError(400, "now is an ISO-8601 moment, for example 2026-11-28T15:00:00Z") from None


# --- each campaign's results -------------------------------------------------

def summary(now: Optional[str] = None) -> Dict[str, Any]:
    """Per client and campaign: candidates, attempts by outcome, opt-outs,
    payments within 7 days, and the planner's skips and deferrals now."""
    moment = _moment(now)
    # before the session: bringing the desk's tables up to date writes to the same database
    replies = transcripts.outreach_replies()
    with db.session_scope() as session:
        clients = list(session.execute(select(Client).order_by(Client.id)).scalars())
        contacts = outreach_plan.plan(session, moment)   # decides, records nothing
        attempts = list(session.execute(select(OutreachAttempt).order_by(OutreachAttempt.id)).scalars())
        pauses = {(p.client_id, p.campaign): p for p in session.execute(select(OutreachPause)).scalars()}
        opt_outs = defaultdict(list)   # (client, address) -> when
        for p in session.execute(select(ContactPreference).where(ContactPreference.opted_out.is_(True))).scalars():
            opt_outs[(p.client_id, p.address)].append(p.updated_at)
        payments = defaultdict(list)   # account -> (date, amount, id)
        accounts = {a.account_id for a in attempts}
        if accounts:
            for p in session.execute(select(Payment).where(Payment.account_id.in_(accounts),
                                                           Payment.status == PaymentStatus.POSTED)).scalars():
                payments[p.account_id].append((p.payment_date, p.amount, p.id))
        reasons = _pause_reasons(session)
        campaigns: List[Dict[str, Any]] = []
        for client in clients:
            for campaign in policy_of(client).outreach.campaigns:
                key = (client.id, campaign.name)
                rows = [c for c in contacts if (c.client, c.campaign) == key]
                mine = [a for a in attempts if (a.client_id, a.campaign) == key]
                campaigns.append(_campaign_view(client, campaign, rows, mine, pauses.get(key), reasons.get(key),
                                                opt_outs, payments, replies))
    return {"as_of": moment.isoformat(timespec="seconds").replace("+00:00", "Z"), "skips_from": SKIPS_FROM,
            "replies": REPLIES_FROM, "definitions": DEFINITIONS, "campaigns": campaigns}


def _campaign_view(client, campaign, rows, attempts, pause, pause_reason, opt_outs, payments, replies) -> Dict[str, Any]:
    statuses = Counter(str(a.status) for a in attempts)
    decisions = Counter(c.decision.value for c in rows)
    skipped = Counter(c.reason.value for c in rows if c.decision is OutreachDecision.SKIP)
    deferred = Counter(c.reason.value for c in rows if c.decision is OutreachDecision.DEFER)
    opted = {a.account_id for a in attempts if any(at >= a.created_at for at in opt_outs.get((a.client_id, a.to), ()))}
    paid: Dict[int, Decimal] = {}
    counted = set()
    for a in attempts:
        start = a.sent_at or a.created_at
        for day, amount, payment_id in payments.get(a.account_id, ()):
            if start.date() <= day <= (start + PAID_WITHIN).date() and payment_id not in counted:
                counted.add(payment_id)
                paid[a.account_id] = paid.get(a.account_id, money(0)) + amount
    paid_total = sum(paid.values(), money(0))
    return {
        "client": client.id, "client_name": client.name, "campaign": campaign.name,
        "channels": [c.value for c in campaign.channels],
        "paused": bool(pause and pause.paused),
        "paused_by": pause.changed_by if pause and pause.paused else None,
        "paused_at": _iso(pause.changed_at) if pause and pause.paused else None,
        "pause_reason": pause_reason if pause and pause.paused else None,
        "candidates": len(rows),
        "planned_now": {d.value: decisions.get(d.value, 0) for d in OutreachDecision},
        "attempts": len(attempts),
        "sent": sum(1 for a in attempts if a.sent_at is not None),
        "delivered": sum(statuses.get(s.value, 0) for s in DELIVERED),
        "failed": sum(statuses.get(s.value, 0) for s in FAILED),
        "in_flight": sum(statuses.get(s.value, 0) for s in OUTREACH_OPEN),
        "by_status": dict(sorted(statuses.items())),
        "replied": sum(1 for a in attempts if replies.get(a.id)),
        "opted_out": len(opted),
        "paid_within_7_days": {"accounts": len(paid), "amount": str(paid_total), "amount_display": format_money(paid_total)},
        "skipped": dict(sorted(skipped.items())),
        "deferred": dict(sorted(deferred.items())),
    }


def _target(client_id: str, campaign: str) -> str:
    return f"campaign:{client_id}/{campaign}"


def _pause_reasons(session) -> Dict[tuple, str]:
    """The reason given with each campaign's latest pause (the desk audit log)."""
    found: Dict[tuple, str] = {}
    for entry in session.execute(select(DeskAuditEntry).where(DeskAuditEntry.action == "outreach.pause")
                                 .order_by(DeskAuditEntry.id)).scalars():
        client_id, _, campaign = entry.target.removeprefix("campaign:").partition("/")
        found[(client_id, campaign)] = (entry.after or {}).get("reason")
    return found


def chart(campaigns: List[Dict[str, Any]]) -> Markup:
    """Each campaign's attempts (delivered darker, failed lighter) as inline
    SVG, with the same numbers as text for a screen reader."""
    width, row, label = 560, 22, 230
    top = max([c["attempts"] for c in campaigns] + [1])
    height = row * max(len(campaigns), 1) + 8
    words = "; ".join(f"{c['client']} {c['campaign'].replace('_', ' ')}: {c['attempts']} attempts, {c['delivered']} delivered, "
                      f"{c['failed']} failed" for c in campaigns)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-labelledby="oc-title oc-desc">',
             '<title id="oc-title">Attempts per campaign: delivered, failed and the rest</title>',
             f'<desc id="oc-desc">{escape(words)}</desc>']
    for i, c in enumerate(campaigns):
        y = 4 + i * row
        scale = (width - label - 40) / top
        parts.append(f'<text x="0" y="{y + 14}">{escape(c["client"] + " " + c["campaign"].replace("_", " "))}</text>')
        x = label
        for part, css in ((c["delivered"], "bar-handed"), (c["attempts"] - c["delivered"] - c["failed"], "bar-total"),
                          (c["failed"], "bar-failed")):
            if part > 0:
                parts.append(f'<rect class="{css}" x="{x:.1f}" y="{y}" width="{part * scale:.1f}" height="{row - 6}"/>')
                x += part * scale
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}">{c["attempts"]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --- pausing and resuming a campaign -------------------------------------------

def _client_for(session, campaign: str, client_id: str):
    runs = [c for c in session.execute(select(Client).order_by(Client.id)).scalars()
            if policy_of(c).outreach.campaign(campaign) is not None]
    if client_id:
        client = session.get(Client, client_id)
        if client is None:
            raise DeskError(404, f"There is no client {client_id}.")
        if client not in runs:
            raise DeskError(404, f"{client.name} runs no campaign named {campaign}.")
        return client
    if not runs:
        raise DeskError(404, f"No client runs a campaign named {campaign}.")
    if len(runs) > 1:
        raise DeskError(400, f"Several clients run {campaign} ({', '.join(c.id for c in runs)}): name the client.", "name_the_client")
    return runs[0]


def set_paused(campaign: str, user: staff.SignedIn, paused: bool, client_id: str = "", reason: str = "") -> Dict[str, Any]:
    """Pause (a reason is needed: the next supervisor reads it) or resume
    a client's campaign; who, when and why go to the desk audit log."""
    reason = " ".join((reason or "").split())
    if paused and not reason:
        raise DeskError(400, "Say why the campaign is paused (the next supervisor reads it).", "pause_needs_reason")
    if len(reason) > 300:
        raise DeskError(400, "Keep the reason under 300 characters.")
    with db.session_scope() as session:
        client = _client_for(session, campaign, (client_id or "").strip())
        changed = outreach.set_paused(session, client.id, campaign, paused, actor=user.username)
        if changed:
            staff.record(session, user.username, "outreach.pause" if paused else "outreach.resume", _target(client.id, campaign),
                         {"paused": not paused}, {"paused": paused, "reason": reason or None})
        return {"client": client.id, "campaign": campaign, "paused": paused, "changed": changed,
                "by": user.username, "reason": reason or None, "at": _iso(clock.utcnow())}


# --- a partner's hold on an account ------------------------------------------

def _hold_view(h: OutreachHold) -> Dict[str, Any]:
    return {"id": h.id, "reason": h.reason, "placed_by": h.placed_by, "placed_at": _iso(h.placed_at),
            "lifted_by": h.lifted_by, "lifted_at": _iso(h.lifted_at), "active": h.lifted_at is None}


def _hold_error(refused: outreach.HoldRefused) -> DeskError:
    status, message = HOLD_PROBLEMS.get(refused.reason, (400, refused.reason))
    return DeskError(status, message, refused.reason)


def place_hold(account_number: str, user: staff.SignedIn, reason: str) -> Dict[str, Any]:
    with db.session_scope() as session:
        account = find_account(session, account_number)
        try:
            hold = outreach.place_hold(session, account, reason, actor=user.username)
        except outreach.HoldRefused as refused:
            raise _hold_error(refused)
        view = _hold_view(hold)
        staff.record(session, user.username, "account.outreach_hold", f"account:{account_number}", None, view)
        return {**view, "account_number": account_number}


def lift_hold(account_number: str, hold_id, user: staff.SignedIn, note: str = "") -> Dict[str, Any]:
    with db.session_scope() as session:
        account = find_account(session, account_number)
        hold = find_row(session, OutreachHold, hold_id, "There is no such hold on this account.")
        if hold.account_id != account.id:
            raise DeskError(404, "There is no such hold on this account.")
        try:
            outreach.lift_hold(session, hold, actor=user.username, note=" ".join((note or "").split())[:300])
        except outreach.HoldRefused as refused:
            raise _hold_error(refused)
        view = _hold_view(hold)
        staff.record(session, user.username, "account.outreach_hold_lifted", f"account:{account_number}",
                     {"hold": hold.id, "active": True}, view)
        return {**view, "account_number": account_number}


# --- the account panel ---------------------------------------------------------

def _attempt_view(a: OutreachAttempt) -> Dict[str, Any]:
    return {"id": a.id, "campaign": a.campaign, "step": a.step, "channel": a.channel, "to": a.to, "language": a.language,
            "status": str(a.status), "created_at": _iso(a.created_at), "sent_at": _iso(a.sent_at),
            "status_at": _iso(a.status_at), "tries": a.tries, "error_code": a.error_code, "error": a.error,
            "answered_by": a.answered_by}


def account_outreach(session, account) -> Dict[str, Any]:
    """What account_view adds: the account's attempts (newest first) and its holds."""
    return {
        "outreach_attempts": [_attempt_view(a) for a in session.execute(
            select(OutreachAttempt).where(OutreachAttempt.account_id == account.id)
            .order_by(OutreachAttempt.created_at.desc(), OutreachAttempt.id.desc())).scalars()],
        "outreach_holds": [_hold_view(h) for h in session.execute(
            select(OutreachHold).where(OutreachHold.account_id == account.id).order_by(OutreachHold.id)).scalars()],
    }
