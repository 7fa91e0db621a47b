"""What the desk does, one function per use case: the JSON API and the
pages both call these (blocking database and HTTP work: call them through
``run_sync``).  Rules stay in billing/; this module translates."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from sqlalchemy import select

from billing import assistance, clock, db, disputes, eob, handoffs, ledger, outreach, payments, plans, refunds, staff, writeoffs
from billing.accounts import plan_status
from billing.clients import get_client
from billing.contact import display_phone
from billing.models import (
    Account, AssistanceApplication, Dispute, Handoff, LedgerEntry, RefundRequest, WriteOffRequest,
)
from billing.money import format_money, money
from billing.redaction import redact_card_numbers
from billing.scripts import script
from billing.vocabulary import ApplicationStatus, Channel, DisputeStatus, HandoffStatus, RequestStatus, channel_of_conversation
from desk import transcripts
from desk.common import (
    DeskError, apply_decision, approver_refused, deliver, find_account, find_row, handoff_error, notify_patient,
)

logger = logging.getLogger(__name__)


# --- accounts ---------------------------------------------------------------

def _plan_view(plan) -> Optional[Dict[str, Any]]:
    if plan is None:
        return None
    status = plan_status(plan)
    return {
        "id": plan.id, "status": plan.status, "months": plan.months, "monthly_amount": str(plan.monthly_amount),
        "day_of_month": plan.day_of_month, "start_date": plan.start_date.isoformat(), "missed_payments": plan.missed_payments,
        "paid_installments": status.paid_installments, "next_due_date": status.next_due_date.isoformat() if status.next_due_date else None,
        "autopay": plan.payment_method_id is not None,
        "installments": [{"seq": i.seq, "due_date": i.due_date.isoformat(), "amount": str(i.amount), "status": i.status}
                         for i in plan.installments],
    }


def account_view(account_number: str) -> Dict[str, Any]:
    from desk import outreach as outreach_work, record_work

    with db.session_scope() as session:
        account = session.execute(select(Account).where(Account.account_number == account_number)).scalar_one_or_none()
        if account is None:
            raise DeskError(404, f"There is no account {account_number}.")
        client = get_client(session, account.client_id)
        patient = account.patient
        plan = plans.active_plan(session, account) or (account.payment_plans[-1] if account.payment_plans else None)
        balance = ledger.balance(session, account)
        return {
            "account_number": account.account_number,
            "client": client.id,
            "client_name": client.name,
            "patient": {"id": patient.id, "name": patient.full_name, "date_of_birth": patient.date_of_birth.isoformat(),
                        "phone": display_phone(patient.phone) if patient.phone else None, "email": patient.email,
                        "language": patient.language,
                        "language_name": handoffs.LANGUAGE_WORDS["en"].get(patient.language, patient.language)},
            "balance": str(balance),
            "balance_display": format_money(balance),
            "statement_date": account.statement_date.isoformat() if account.statement_date else None,
            "due_date": account.due_date.isoformat() if account.due_date else None,
            "ledger": [{"id": e.id, "date": e.effective_date.isoformat(), "kind": e.kind, "amount": str(e.amount),
                        "reason_code": e.reason_code, "description": e.description, "actor": e.actor,
                        "posted_at": e.posted_at.isoformat() + "Z"} for e in ledger.entries(session, account)],
            "payments": [{"id": p.id, "date": p.payment_date.isoformat(), "amount": str(p.amount), "status": p.status,
                          "card": payments.card_label(p.card_brand, p.card_last4) if p.card_last4 else None,
                          "decline_code": p.decline_code, "confirmation_number": p.confirmation_number, "channel": p.channel}
                         for p in account.payments],
            "payment_plan": _plan_view(plan),
            "disputes": [{"reference": d.reference, "status": d.status, "reason": d.reason, "description": d.description,
                          "opened_at": d.opened_at.isoformat() + "Z", "resolution": d.resolution,
                          "service_line": d.service_line.description if d.service_line else None}
                         for d in session.execute(select(Dispute).where(Dispute.account_id == account.id).order_by(Dispute.id)).scalars()],
            "assistance_applications": [_application_view(a) for a in session.execute(
                select(AssistanceApplication).where(AssistanceApplication.account_id == account.id)
                .order_by(AssistanceApplication.id)).scalars()],
            "refund_requests": [_refund_view(r) for r in session.execute(
                select(RefundRequest).where(RefundRequest.account_id == account.id).order_by(RefundRequest.id)).scalars()],
            "collection_holds": outreach.collection_holds(session, account),
            "claims": [_claim_view(c) for c in eob.claims_of(session, account)],
            **record_work.account_record(session, account),
            **outreach_work.account_outreach(session, account),
        }


def _application_view(a: AssistanceApplication) -> Dict[str, Any]:
    return {"reference": a.reference, "status": a.status, "screening": a.screening, "household_size": a.household_size,
            "annual_income": str(a.annual_income), "fpl_percent": a.fpl_percent, "discount_percent": str(a.discount_percent),
            "opened_at": a.opened_at.isoformat() + "Z", "window_ends": a.window_ends.isoformat(),
            "documents_needed": list(assistance.DOCUMENTS), "decided_by": a.decided_by, "decision_note": a.decision_note,
            "account_number": a.account.account_number}


def _refund_view(r: RefundRequest) -> Dict[str, Any]:
    return {"id": r.id, "amount": str(r.amount), "method": r.method, "status": r.status,
            "card": payments.card_label(r.payment_method.brand, r.payment_method.last4) if r.payment_method else None,
            "requested_at": r.requested_at.isoformat() + "Z", "requested_by": r.requested_by, "decided_by": r.decided_by,
            "decision_note": r.decision_note, "account_number": r.account.account_number}


def _claim_view(c: eob.ClaimExplanation) -> Dict[str, Any]:
    if c.denied:
        words = f"{c.payer} denied claim {c.claim_number} ({', '.join(f'{g}-{r}' for g, r in c.denied_reasons)}): " + "; ".join(
            filter(None, (eob.explain_code(g, r) for g, r in c.denied_reasons))) + f". The patient owes {format_money(c.patient_owes)} unless it is resolved."
    else:
        parts = [f"{c.payer} allowed {format_money(c.allowed)} of the {format_money(c.billed)} billed and paid {format_money(c.paid)}"]
        owed = [(c.deductible, "deductible"), (c.coinsurance, "coinsurance"), (c.copay, "copay"), (c.other_owed, "other patient responsibility")]
        shares = [f"{format_money(a)} {label}" for a, label in owed if a]
        if shares:
            parts.append("the patient owes " + " and ".join(shares))
        if c.written_off:
            parts.append(f"{format_money(c.written_off)} was written off by contract")
        words = "; ".join(parts) + "."
    return {"payer": c.payer, "claim_number": c.claim_number, "billed": str(c.billed), "allowed": str(c.allowed),
            "paid": str(c.paid), "patient_owes": str(c.patient_owes), "denied": c.denied, "explanation": words}


# --- handoffs ---------------------------------------------------------------

OFFER_WORDS = {
    "speaks": "You speak {language}.",
    "supervisor": "",
    "phone_queue": "",
    "first_to_speakers": "Offered first to partners who speak {language}, until {until} UTC; then to everyone.",
    "no_speaker_on_shift": "No partner who speaks {language} is on shift: open to everyone.",
    "window_over": "Offered first to partners who speak {language}; now open to everyone.",
}


def _offer_view(session, handoff: Handoff, user: Optional[staff.SignedIn], now) -> Dict[str, Any]:
    """Whether this user may claim the waiting handoff now, and why, in words (billing.handoffs.offer)."""
    if user is None or handoff.status != HandoffStatus.WAITING:
        return {"claimable": handoff.status == HandoffStatus.WAITING, "reason": None, "until": None, "words": ""}
    offered = handoffs.offer_to(session, handoff, user.username, now)
    language = handoffs.LANGUAGE_WORDS["en"].get(handoff.language or "en", handoff.language)
    until = offered.until.strftime("%H:%M") if offered.until else ""
    return {"claimable": offered.claimable, "reason": offered.reason,
            "until": offered.until.isoformat() + "Z" if offered.until else None,
            "words": OFFER_WORDS.get(offered.reason, "").format(language=language, until=until)}


def handoff_list(status: Optional[str], user: Optional[staff.SignedIn] = None, language: Optional[str] = None) -> List[Dict[str, Any]]:
    """The handoffs (by status, by language), each with whether ``user``
    may claim it now and why (a handoff is offered first to partners who
    speak its language)."""
    if status and status not in (HandoffStatus.WAITING, HandoffStatus.ACTIVE, HandoffStatus.CLOSED):
        raise DeskError(400, "status is waiting, active or closed")
    if language and language not in handoffs.LANGUAGES:
        raise DeskError(400, "language is " + " or ".join(handoffs.LANGUAGES))
    with db.session_scope() as session:
        now = clock.utcnow()
        reads = user.reads if user is not None else "en"
        return [{**handoffs.as_dict(h, now), "summary": handoffs.summary_for(h, reads), "summary_language": reads,
                 "offer": _offer_view(session, h, user, now)}
                for h in handoffs.listing(session, status=status, language=language or None)]


def handoff_detail(handoff_id, user: Optional[staff.SignedIn] = None) -> Dict[str, Any]:
    """A handoff, its summary in the reading partner's language (the
    patient's words as they said them) and whether they may claim it."""
    with db.session_scope() as session:
        try:
            handoff = handoffs.get(session, handoff_id)
        except handoffs.HandoffError as error:
            raise handoff_error(error)
        now = clock.utcnow()
        reads = user.reads if user is not None else "en"
        return {**handoffs.as_dict(handoff, now), "summary": handoffs.summary_for(handoff, reads), "summary_language": reads,
                "offer": _offer_view(session, handoff, user, now)}


def claim(handoff_id, user: staff.SignedIn) -> Dict[str, Any]:
    with db.session_scope() as session:
        try:
            waiting = handoffs.get(session, handoff_id)
        except handoffs.HandoffError as error:
            raise handoff_error(error)
        if not staff.serves(user, waiting.department):
            raise DeskError(403, "This handoff waits in another team's queue: a partner who works that queue takes it.")
        try:
            handoff = handoffs.claim(session, handoff_id, user.username)
        except handoffs.HandoffError as error:
            raise handoff_error(error, waiting)
        view = handoffs.as_dict(handoff)
        was_after_hours = handoff.after_hours
    if was_after_hours:
        # the bot kept serving after hours: the partner takes the conversation over now
        transcripts.pause(view["conversation_id"])
    return view


def reply(handoff_id, user: staff.SignedIn, words: str) -> Dict[str, Any]:
    words = " ".join(redact_card_numbers(words or "")[0].split())
    if not words:
        raise DeskError(400, "Write a message first.")
    if len(words) > 1600:
        raise DeskError(400, "Keep a message under 1,600 characters.")
    with db.session_scope() as session:
        try:
            handoff = handoffs.get(session, handoff_id)
            handoffs.check_can_write(handoff, user.username, user.role)
        except handoffs.HandoffError as error:
            raise handoff_error(error)
        client = get_client(session, handoff.client_id)
    # sending checks consent in its own transaction: none of ours may be open
    deliver(handoff, client, words)
    with db.session_scope() as session:
        staff.record(session, user.username, "handoff.message", f"handoff:{handoff.id}", None, {"length": len(words)})
    transcripts.partner_said(handoff.conversation_id, user.username, words, handoff.id)
    return {"handoff": handoff.id, "conversation_id": handoff.conversation_id, "from": "agent", "text": words}


def close(handoff_id, user: staff.SignedIn, disposition: str, note: str, resume_bot: bool) -> Dict[str, Any]:
    with db.session_scope() as session:
        try:
            handoff = handoffs.close(session, handoff_id, user.username, user.role, disposition=disposition, note=note,
                                     resume_bot=resume_bot)
        except handoffs.HandoffError as error:
            raise handoff_error(error)
        client = get_client(session, handoff.client_id)
        view = handoffs.as_dict(handoff)
    back = script("utter_handoff_resumed", client) if resume_bot else None
    if back and handoff.channel == Channel.SMS:
        try:
            deliver(handoff, client, back)
        except DeskError as problem:
            # the hand-back is still recorded; the patient's next text gets the bot
            logger.warning("hand-back text for handoff %s not sent: %s", handoff.id, problem.message)
    if resume_bot:
        transcripts.resume(view["conversation_id"], back)
    return view


# --- conversations ----------------------------------------------------------

def conversation(conversation_id: str, user: Optional[staff.SignedIn] = None) -> Dict[str, Any]:
    """A conversation's transcript, its language and its handoffs (their
    summaries in the reading partner's language)."""
    events = transcripts.events(conversation_id)
    if not events:
        raise DeskError(404, "There is no such conversation.")
    facts = transcripts.facts(conversation_id, events)
    reads = user.reads if user is not None else "en"
    with db.session_scope() as session:
        found = session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id)).scalars().all()
        handoff_views = [{**handoffs.as_dict(h), "summary": handoffs.summary_for(h, reads)} for h in found]
    # the language the conversation is held in: the assistant's language slot, last set
    language = next((e.get("value") for e in reversed(events) if e.get("event") == "slot" and e.get("name") == "language"
                     and e.get("value")), None) or (found[-1].language if found else None) or "en"
    return {
        "id": conversation_id,
        "client": facts.client,
        "channel": facts.channel,
        "language": language,
        "language_name": handoffs.LANGUAGE_WORDS["en"].get(language, language),
        "paused": facts.paused,
        "transcript": transcripts.transcript(events),
        "handoffs": handoff_views,
    }


# --- account operations -----------------------------------------------------

WRITE_OFF_PROBLEMS = {
    "not_positive": "The amount must be more than zero.",
    "above_balance": "That is more than the balance.",
    "not_approver": "Only a supervisor approves write-offs above the agent limit.",
}


def write_off(account_number: str, user: staff.SignedIn, amount: str, reason_code: str, reason: str) -> Dict[str, Any]:
    """A partner's write-off: posted at once up to the client's agent limit;
    above it, an agent's goes to a supervisor (``status`` awaiting_supervisor)
    and a supervisor's posts."""
    try:
        value = money(amount)
    except Exception:
        raise DeskError(400, f"{amount!r} is not an amount of money: write it like 125.00.")
    if not (reason_code or "").strip() or not (reason or "").strip():
        raise DeskError(400, "Give a reason code and a reason.")
    code, why = reason_code.strip()[:32], reason.strip()[:300]
    # an agent's own approval does not count: above the limit a supervisor decides
    approver = user.username if user.role in ("supervisor", "admin") else None
    with db.session_scope() as session:
        account = find_account(session, account_number)
        before = str(ledger.balance(session, account))
        try:
            outcome = writeoffs.write_off_or_request(session, account, value, reason_code=code, reason=why, actor=user.username,
                                                     approved_by=approver)
        except writeoffs.WriteOffRefused as refused:
            raise DeskError(400, WRITE_OFF_PROBLEMS.get(refused.reason, refused.reason), refused.reason)
        if outcome.routed is writeoffs.Routed.AWAITING_SUPERVISOR:
            request = outcome.request
            staff.record(session, user.username, "account.write_off_request", f"account:{account_number}", None,
                         {"amount": str(value), "reason_code": code, "request": request.id})
            return {"account_number": account_number, "status": outcome.routed.value, "request_id": request.id,
                    "balance": before, "limit": str(outcome.limit), "remaining_today": str(outcome.remaining),
                    "message": f"Write-offs above {format_money(outcome.limit)} a day on one account need a supervisor "
                               f"({format_money(outcome.remaining)} of yours left today): sent for approval."}
        entry = outcome.entry
        after = str(ledger.balance(session, account))
        staff.record(session, user.username, "account.write_off", f"account:{account_number}", {"balance": before},
                     {"balance": after, "amount": str(value), "reason_code": entry.reason_code})
        return {"account_number": account_number, "status": outcome.routed.value, "entry_id": entry.id, "balance": after}


def decide_write_off(request_id, user: staff.SignedIn, decision: str, note: str = "") -> Dict[str, Any]:
    if user.role not in ("supervisor", "admin"):
        raise DeskError(403, "Only a supervisor approves write-offs above the agent limit.")
    with db.session_scope() as session:
        request = find_row(session, WriteOffRequest, request_id, "There is no such write-off request.")
        before = {"status": request.status}
        try:
            apply_decision(decision, note, lambda: writeoffs.approve_request(session, request, actor=user.username, note=note),
                            lambda: writeoffs.deny_request(session, request, actor=user.username, note=note), "write-off",
                            "the partner who asked is told")
        except writeoffs.WriteOffRefused as refused:
            if refused.reason == "not_requested":
                raise DeskError(409, "This write-off has already been decided.")
            raise DeskError(409, WRITE_OFF_PROBLEMS.get(refused.reason, refused.reason) + " Deny it and ask again.", refused.reason)
        staff.record(session, user.username, f"write_off.{decision}", f"write_off_request:{request.id}", before,
                     {"status": request.status, "amount": str(request.amount)})
        return _write_off_view(session, request)


def _write_off_view(session, r: WriteOffRequest) -> Dict[str, Any]:
    return {"id": r.id, "account_number": r.account.account_number, "amount": str(r.amount), "reason_code": r.reason_code,
            "reason": r.reason, "status": r.status, "requested_by": r.requested_by, "requested_at": r.requested_at.isoformat() + "Z",
            "decided_by": r.decided_by, "decision_note": r.decision_note, "balance": str(ledger.balance(session, r.account))}


def plan_change(account_number: str, user: staff.SignedIn, months: Optional[int] = None, day_of_month: Optional[int] = None,
                reason: str = "") -> Dict[str, Any]:
    if not reason.strip():
        raise DeskError(400, "Say why the plan changes.")
    with db.session_scope() as session:
        account = find_account(session, account_number)
        client = get_client(session, account.client_id)
        before = _plan_view(plans.active_plan(session, account))
        if before is None:
            raise DeskError(409, "This account has no active plan.")
        try:
            if months is not None:
                terms = plans.terms_for_months(client.policy.payment_plan, ledger.balance(session, account), int(months))
                plans.change_terms(session, account, client.policy.payment_plan, terms, actor=user.username, reason=reason.strip())
            if day_of_month is not None:
                plans.change_day(session, account, int(day_of_month), actor=user.username, reason=reason.strip())
        except plans.PlanRefused as refused:
            nearest = ", ".join(f"{t.months} x {format_money(t.monthly)}" for t in (refused.nearest or []))
            raise DeskError(400, f"Outside {client.name}'s plan policy ({refused.reason})." + (f" Allowed nearby: {nearest}." if nearest else ""))
        except (TypeError, ValueError) as exc:
            raise DeskError(400, str(exc))
        after = _plan_view(plans.active_plan(session, account))
        staff.record(session, user.username, "account.plan_change", f"account:{account_number}", before, after)
        return after


def resolve_dispute(reference: str, user: staff.SignedIn, outcome: str, explanation: str, amount: Optional[str] = None) -> Dict[str, Any]:
    if not (explanation or "").strip():
        raise DeskError(400, "Explain the outcome: the patient is told.")
    with db.session_scope() as session:
        dispute = session.execute(select(Dispute).where(Dispute.reference == reference)).scalar_one_or_none()
        if dispute is None:
            raise DeskError(404, f"There is no dispute {reference}.")
        client = get_client(session, dispute.account.client_id)
        before = {"status": dispute.status}
        try:
            if outcome == "adjust":
                try:
                    value = money(amount or "")
                except Exception:
                    raise DeskError(400, f"{amount!r} is not an amount of money: write it like 115.00.")
                disputes.resolve_by_adjustment(session, dispute, value, actor=user.username, note=explanation.strip())
            elif outcome == "uphold":
                disputes.uphold(session, dispute, actor=user.username, explanation=explanation.strip())
            else:
                raise DeskError(400, "The outcome is adjust or uphold.")
        except disputes.DisputeError as error:
            words = {"not_open": "This dispute is already resolved.", "amount_not_positive": "The adjustment must be more than zero.",
                     "above_balance": "The adjustment is more than the balance.",
                     "above_charge": "The adjustment is more than the disputed charge."}
            most = f" At most {format_money(error.limit)}." if error.limit is not None and error.reason.startswith("above_") else ""
            raise DeskError(409 if error.reason == "not_open" else 400, words.get(error.reason, error.reason) + most, error.reason)
        staff.record(session, user.username, "dispute.resolve", f"dispute:{reference}", before, {"status": dispute.status})
        balance = ledger.balance(session, dispute.account)
        notice = script("utter_notice_dispute_adjusted" if outcome == "adjust" else "utter_notice_dispute_upheld", client,
                        language=dispute.account.patient.language, reference=reference, amount=format_money(money(amount or "0")) if outcome == "adjust" else "",
                        explanation=explanation.strip().rstrip(".") + ".", balance=format_money(balance))
        account_number, conversation_id, channel, status = dispute.account.account_number, dispute.conversation_id, dispute.channel, dispute.status
    told = notify_patient(account_number, conversation_id, channel, notice, user.username)
    return {"reference": reference, "status": status, "patient_told": told}


def audit_entries(limit: int = 500) -> Dict[str, Any]:
    with db.session_scope() as session:
        return {"entries": [{"at": e.at.isoformat() + "Z", "actor": e.actor, "action": e.action, "target": e.target,
                             "before": e.before, "after": e.after} for e in staff.audit_log(session, limit)]}


# --- account work waiting for a partner ------------------------------------

def pending_work() -> Dict[str, Any]:
    """Open disputes, refund requests, assistance applications, write-offs
    waiting for a supervisor, and the record work (desk/record_work.py)."""
    from desk import record_work

    with db.session_scope() as session:
        open_disputes = session.execute(select(Dispute).where(Dispute.status == DisputeStatus.OPEN).order_by(Dispute.id)).scalars().all()
        waiting = {
            "disputes": [{"reference": d.reference, "status": d.status, "reason": d.reason, "account_number": d.account.account_number,
                          "client": d.account.client_id, "opened_at": d.opened_at.isoformat() + "Z", "description": d.description,
                          "service_line": d.service_line.description if d.service_line else None,
                          "service_date": d.service_line.encounter.date_of_service.isoformat() if d.service_line else None,
                          "amount": str(d.service_line.charge) if d.service_line else None}
                         for d in open_disputes],
            "refund_requests": [_refund_view(r) for r in session.execute(
                select(RefundRequest).where(RefundRequest.status == RequestStatus.REQUESTED).order_by(RefundRequest.id)).scalars()],
            "assistance_applications": [_application_view(a) for a in session.execute(
                select(AssistanceApplication).where(AssistanceApplication.status == ApplicationStatus.OPEN).order_by(AssistanceApplication.id)).scalars()],
            "write_off_requests": [_write_off_view(session, r) for r in session.execute(
                select(WriteOffRequest).where(WriteOffRequest.status == RequestStatus.REQUESTED).order_by(WriteOffRequest.id)).scalars()],
        }
    return {**waiting, **record_work.pending()}


REFUND_PROBLEMS = {
    "not_requested": (409, "This refund has already been decided."),
    "above_credit": (409, "The credit is now smaller than this refund; deny it and ask the patient again."),
    "gateway_unavailable": (503, "The card processor is not answering; nothing was refunded. Try again in a moment."),
}


def decide_refund(refund_id, user: staff.SignedIn, decision: str, note: str = "") -> Dict[str, Any]:
    with db.session_scope() as session:
        request = find_row(session, RefundRequest, refund_id, "There is no such refund request.")
        before = {"status": request.status}
        try:
            apply_decision(decision, note, lambda: refunds.approve(session, request, actor=user.username, note=note),
                            lambda: refunds.deny(session, request, actor=user.username, note=note), "refund")
        except refunds.RefundError as error:
            if error.reason == "not_approver":
                raise approver_refused(error, "refunds") from error
            status, message = REFUND_PROBLEMS.get(error.reason, (400, error.reason))
            raise DeskError(status, message, error.reason)
        staff.record(session, user.username, f"refund.{decision}", f"refund:{request.id}", before,
                     {"status": request.status, "amount": str(request.amount)})
        view = _refund_view(request)
        client = get_client(session, request.account.client_id)
        if request.status == RequestStatus.REFUNDED:
            notice = script("utter_notice_refund_paid", client, language=request.account.patient.language,
                            amount=format_money(request.amount),
                            method=view["card"] or "a check to the address on file")
        elif request.status == RequestStatus.DENIED:
            notice = script("utter_notice_refund_denied", client, language=request.account.patient.language,
                            amount=format_money(request.amount),
                            explanation=(note or "").strip().rstrip(".") + ".")
        else:
            notice = None
        conversation_id = request.conversation_id
    if notice:
        view["patient_told"] = notify_patient(view["account_number"], conversation_id, channel_of_conversation(conversation_id), notice, user.username)
    return view


def decide_application(reference: str, user: staff.SignedIn, decision: str, note: str = "") -> Dict[str, Any]:
    with db.session_scope() as session:
        application = session.execute(select(AssistanceApplication).where(AssistanceApplication.reference == reference)).scalar_one_or_none()
        if application is None:
            raise DeskError(404, f"There is no application {reference}.")
        before = {"status": application.status}
        try:
            apply_decision(decision, note, lambda: assistance.approve(session, application, actor=user.username, note=note),
                            lambda: assistance.deny(session, application, actor=user.username, note=note), "application")
        except assistance.ApplicationError as error:
            if error.reason == "not_approver":
                raise approver_refused(error, "assistance applications") from error
            raise DeskError(409, "This application has already been decided.")
        balance = ledger.balance(session, application.account)
        staff.record(session, user.username, f"assistance.{decision}", f"application:{reference}", before,
                     {"status": application.status, "balance": str(balance)})
        view = _application_view(application)
        client = get_client(session, application.account.client_id)
        if application.status == ApplicationStatus.APPROVED:
            adjusted = -session.get(LedgerEntry, application.adjustment_entry_id).amount if application.adjustment_entry_id else money(0)
            notice = script("utter_notice_assistance_approved", client, language=application.account.patient.language,
                            reference=reference, amount=format_money(adjusted),
                            balance=format_money(balance))
        else:
            notice = script("utter_notice_assistance_denied", client, language=application.account.patient.language,
                            reference=reference,
                            explanation=(note or "").strip().rstrip(".") + ".")
        conversation_id, channel = application.conversation_id, application.channel
    view["patient_told"] = notify_patient(view["account_number"], conversation_id, channel, notice, user.username)
    return view
