"""Supervisor review: conversations with their outcome and QA flags,
computed from the desk's conversation tables (fed by Rasa's event broker) and the billing database, the KPIs,
a CSV export and server-drawn charts."""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional

from markupsafe import Markup, escape
from sqlalchemy import func, select

from billing import clock, db, seed
from billing.models import Account, DeskConversation, Dispute, Handoff, Payment, PaymentPlan
from billing.money import format_money
from billing.redaction import redact_card_numbers
from billing.vocabulary import HandoffStatus, PaymentStatus
from desk import transcripts

LONG_WAIT_SECONDS = 10 * 60
FLAGS = {
    "detail_before_verification": "account detail before verification",
    "long_wait": "waited over 10 minutes for a partner",
    "repeated_fallbacks": "the assistant did not understand twice in a row",
    "opt_out_not_honoured": "opt-out not confirmed and honoured",
}
OUTCOMES = ("paid", "plan_set_up", "handed_off", "opted_out", "information", "no_reply")
# a review looks at most a year and a day at once, between these dates
LONGEST_WINDOW_DAYS = 366
EARLIEST = dt.date(2000, 1, 1)


@dataclass
class Filters:
    since: dt.date
    until: dt.date  # inclusive
    client: str = ""
    channel: str = ""
    intent: str = ""
    handoff: str = ""  # "", "yes", "no"
    outcome: str = ""
    flag: str = ""
    language: str = ""  # "", "en", "es"

    @classmethod
    def from_args(cls, args, today: Optional[dt.date] = None) -> "Filters":
        today = today or clock.now_aware().date()

        def day(name, default):
            try:
                return dt.date.fromisoformat(args.get(name) or "") if args.get(name) else default
            except ValueError:
                raise ValueError(f"{name} must be a date like {today.isoformat()}")

        since, until = day("since", today - dt.timedelta(days=6)), day("until", today)
        latest = today + dt.timedelta(days=LONGEST_WINDOW_DAYS)
        for name, value in (("since", since), ("until", until)):
            if not EARLIEST <= value <= latest:
                raise ValueError(f"{name} must be a date between {EARLIEST.isoformat()} and {latest.isoformat()}")
        if since > until:
            raise ValueError("since must be a date on or before until")
        if (until - since).days >= LONGEST_WINDOW_DAYS:
            raise ValueError(f"pick dates at most {LONGEST_WINDOW_DAYS} days apart")
        return cls(since=since, until=until,
                   **{k: (args.get(k) or "").strip() for k in ("client", "channel", "intent", "handoff", "outcome", "flag", "language")})

    def window(self) -> tuple[float, float]:
        start = dt.datetime.combine(self.since, dt.time(), dt.timezone.utc).timestamp()
        end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp()
        return start, end


def _outcome(conversation: DeskConversation, paid: bool, handed_off: bool) -> str:
    if paid:
        return "paid"
    if handed_off:
        return "handed_off"
    if "action_confirm_plan" in conversation.actions:
        return "plan_set_up"
    if "opt_out" in conversation.intents:
        return "opted_out"
    return "information" if conversation.patient_turns else "no_reply"


def conversations(filters: Filters) -> List[Dict[str, Any]]:
    """Conversations active in the window, from the desk's own tables (fed by
    Rasa's event broker), with their handoffs and payments from the billing database."""
    since, until = filters.window()
    found = {c.id: c for c in transcripts.conversations_between(since, until)}
    with db.session_scope() as session:
        handoff_rows = session.execute(select(Handoff).where(Handoff.conversation_id.in_(list(found) or [""]))).scalars().all()
        posted = {p.conversation_id for p in session.execute(
            select(Payment).where(Payment.conversation_id.in_(list(found) or [""]), Payment.status == PaymentStatus.POSTED)).scalars()}
        by_conversation: Dict[str, List[Handoff]] = {}
        for h in handoff_rows:
            by_conversation.setdefault(h.conversation_id, []).append(h)
        now = clock.utcnow()
        rows = []
        for conversation_id, conversation in found.items():
            handed = by_conversation.get(conversation_id, [])
            flags = []
            if conversation.detail_before_verification:
                flags.append("detail_before_verification")
            if any(((h.claimed_at or (h.closed_at if h.status == HandoffStatus.CLOSED else now)) - h.created_at).total_seconds() > LONG_WAIT_SECONDS
                   for h in handed):
                flags.append("long_wait")
            if conversation.max_fallbacks_in_a_row >= 2:
                flags.append("repeated_fallbacks")
            if "opt_out" in conversation.intents and not conversation.opt_out_honoured:
                flags.append("opt_out_not_honoured")
            rows.append({
                "id": conversation_id,
                "client": conversation.client_id,
                "channel": conversation.channel,
                # the conversation's language (its language slot); else its handoff's; else the default
                "language": conversation.language or (handed[-1].language if handed else None) or "en",
                "started": transcripts.iso(conversation.started_at),
                "last": transcripts.iso(conversation.last_at),
                "patient_turns": conversation.patient_turns,
                "intents": sorted(set(conversation.intents) - {"nlu_fallback"}),
                "handoff": bool(handed),
                "handoff_ids": [h.id for h in handed],
                "wait_seconds": [int(((h.claimed_at or now) - h.created_at).total_seconds()) for h in handed],
                "outcome": _outcome(conversation, conversation_id in posted, bool(handed)),
                "flags": flags,
            })
    rows = [r for r in rows if _matches(r, filters)]
    rows.sort(key=lambda r: r["started"], reverse=True)
    return rows


def _matches(row: Dict[str, Any], f: Filters) -> bool:
    return ((not f.client or row["client"] == f.client) and (not f.channel or row["channel"] == f.channel)
            and (not f.intent or f.intent in row["intents"]) and (not f.handoff or row["handoff"] == (f.handoff == "yes"))
            and (not f.outcome or row["outcome"] == f.outcome) and (not f.flag or f.flag in row["flags"])
            and (not f.language or row["language"] == f.language))


def metrics(filters: Filters, rows: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    rows = conversations(filters) if rows is None else rows
    start = dt.datetime.combine(filters.since, dt.time())
    end = dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time())
    with db.session_scope() as session:
        def for_client(query, account_column):
            if filters.client:
                query = query.join(Account, Account.id == account_column).where(Account.client_id == filters.client)
            return query

        # by the day the money was paid; history loaded with the data set has its own dates
        collected = session.execute(for_client(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.status == PaymentStatus.POSTED, Payment.payment_date >= filters.since, Payment.payment_date <= filters.until),
            Payment.account_id)).scalar_one()
        plans_set_up = session.execute(for_client(
            select(func.count(PaymentPlan.id)).where(PaymentPlan.created_at >= start, PaymentPlan.created_at < end,
                                                     PaymentPlan.created_by != seed.ACTOR),
            PaymentPlan.account_id)).scalar_one()
        disputes_opened = session.execute(for_client(
            select(func.count(Dispute.id)).where(Dispute.opened_at >= start, Dispute.opened_at < end), Dispute.account_id)).scalar_one()
        query = select(Handoff).where(Handoff.created_at >= start, Handoff.created_at < end)
        if filters.client:
            query = query.where(Handoff.client_id == filters.client)
        waits = [(h.claimed_at - h.created_at).total_seconds() for h in session.execute(query).scalars() if h.claimed_at]
    total = len(rows)
    handed = sum(1 for r in rows if r["handoff"])
    return {
        "since": filters.since.isoformat(),
        "until": filters.until.isoformat(),
        "client": filters.client or None,
        "conversations": total,
        "handoffs": handed,
        "handoff_rate": round(handed / total, 4) if total else None,
        "containment_rate": round((total - handed) / total, 4) if total else None,
        "median_wait_to_claim_seconds": int(statistics.median(waits)) if waits else None,
        "payments_collected": str(Decimal(collected) if not isinstance(collected, Decimal) else collected),
        "plans_set_up": plans_set_up,
        "disputes_opened": disputes_opened,
        "qa_flags": {flag: sum(1 for r in rows if flag in r["flags"]) for flag in FLAGS},
    }


def per_day(filters: Filters, rows: List[Dict[str, Any]]) -> List[tuple[str, int, int]]:
    days = []
    day = filters.since
    while day <= filters.until:
        key = day.isoformat()
        on_day = [r for r in rows if r["started"].startswith(key)]
        days.append((key, len(on_day), sum(1 for r in on_day if r["handoff"])))
        day += dt.timedelta(days=1)
    return days


def bar_chart(days: List[tuple[str, int, int]], title: str) -> Markup:
    """Conversations per day (handed-off part darker), as inline SVG with a text alternative."""
    width, height, gap = 560, 120, 6
    top = max([total for _, total, _ in days] + [1])
    bar = (width - gap * (len(days) + 1)) / max(len(days), 1)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 30}" width="100%" aria-labelledby="chart-title chart-desc">',
             f'<title id="chart-title">{escape(title)}</title>',
             f'<desc id="chart-desc">{escape("; ".join(f"{d}: {t} conversations, {h} handed off" for d, t, h in days))}</desc>']
    for i, (day, total, handed) in enumerate(days):
        x = gap + i * (bar + gap)
        h_total = height * total / top
        h_handed = height * handed / top
        parts.append(f'<rect class="bar-total" x="{x:.1f}" y="{height - h_total:.1f}" width="{bar:.1f}" height="{h_total:.1f}"/>')
        parts.append(f'<rect class="bar-handed" x="{x:.1f}" y="{height - h_handed:.1f}" width="{bar:.1f}" height="{h_handed:.1f}"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height + 14}" text-anchor="middle">{escape(day[5:])}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{max(height - h_total - 4, 10):.1f}" text-anchor="middle">{total}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet will not run: text that starts like a formula
    gets a leading apostrophe; numbers stay numbers.  No card number
    leaves in an export, even one a REST sender id held (billing.redaction)."""
    if isinstance(value, str):
        value = redact_card_numbers(value)[0]
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_export(rows: List[Dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["conversation", "client", "channel", "started", "last", "patient_turns", "intents", "handoff",
                     "wait_seconds", "outcome", "qa_flags", "language"])
    for r in rows:
        writer.writerow([csv_cell(cell) for cell in (
            r["id"], r["client"] or "", r["channel"] or "", r["started"], r["last"], r["patient_turns"],
            " ".join(r["intents"]), "yes" if r["handoff"] else "no", " ".join(str(w) for w in r["wait_seconds"]),
            r["outcome"], " ".join(r["flags"]), r.get("language") or "")])
    return out.getvalue()


def csv_download(filters: Filters, rows: List[Dict[str, Any]]):
    """The conversations as a CSV attachment (API and page alike)."""
    from sanic.response import text

    return text(csv_export(rows), content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="conversations-{filters.since}-{filters.until}.csv"'})


def money_text(value: str) -> str:
    return format_money(Decimal(value))
