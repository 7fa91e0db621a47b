"""The desk's JSON API (DESIGN.md, "Desk JSON API"): a bearer token from
``POST /api/login``; agents work handoffs and accounts, supervisors also
read metrics and exports."""
from __future__ import annotations

import functools
from urllib.parse import unquote

from sanic import Blueprint
from sanic.response import json

from billing import writeoffs
from desk import assist, auth, outreach, record_work, review, work
from desk.web import client_address, pdf_response, run_sync
from desk.transcripts import RasaUnavailable

bp = Blueprint("api", url_prefix="/api")


def _body(request) -> dict:
    try:
        payload = request.json
    except Exception:
        payload = None
    return payload if isinstance(payload, dict) else {}


async def _call(fn, *args, status_of=None, **kwargs):
    """The use case's view as JSON: 200, or what ``status_of(view)`` says."""
    try:
        view = await run_sync(fn, *args, **kwargs)
        return json(view, status=status_of(view) if status_of else 200)
    except work.DeskError as problem:
        return json({"error": problem.message, "reason": problem.reason or None}, status=problem.status)
    except RasaUnavailable:
        return json({"error": "the assistant is not answering; nothing was sent, try again in a moment"}, status=503)


def _with_filters(handler):
    """Hand the review filters in the query to ``handler``; a bad one is a 400."""
    @functools.wraps(handler)
    async def wrapper(request, *args, **kwargs):
        try:
            filters = review.Filters.from_args(request.args)
        except ValueError as problem:
            return json({"error": str(problem)}, status=400)
        return await handler(request, filters, *args, **kwargs)
    return wrapper


@bp.post("/login")
async def login(request):
    body = _body(request)
    username, password = str(body.get("username") or ""), str(body.get("password") or "")
    if not username or not password:
        return json({"error": "send JSON {\"username\": ..., \"password\": ...}"}, status=400)
    result = await auth.sign_in(username, password, client_address(request))
    if result.token is None:
        return json({"error": result.words(), "reason": result.problem}, status=result.status,
                    headers={"Retry-After": str(result.retry_after)} if result.retry_after else None)
    user = result.user
    return json({"token": result.token, "token_type": "Bearer", "user": user.username, "role": user.role,
                 "csrf_token": user.csrf_token})


@bp.post("/logout")
@auth.api()
async def logout(request):
    token, _ = auth._token(request)
    await run_sync(auth.sign_out, token)
    return json({"signed_out": True})


@bp.get("/accounts/<number:str>")
@auth.api()
async def account(request, number):
    return await _call(work.account_view, number)


@bp.get("/conversations")
@auth.api()
@_with_filters
async def conversations(request, filters):
    rows = await run_sync(review.conversations, filters)
    if request.ctx.user.role == "agent":
        # QA flags are for supervisors
        rows = [{k: v for k, v in r.items() if k != "flags"} for r in rows]
    return json({"conversations": rows})


@bp.get("/conversations/<conversation_id:path>")
@auth.api()
async def conversation(request, conversation_id):
    # Sanic 21.12 leaves path parameters encoded: links and scripts encode the id
    if not await auth.may_read(request.ctx.user, unquote(conversation_id)):
        return json({"error": auth.NOT_YOURS}, status=403)
    return await _call(work.conversation, unquote(conversation_id), request.ctx.user)


@bp.get("/handoffs")
@auth.api()
async def handoff_list(request):
    return await _call(lambda: {"handoffs": work.handoff_list(request.args.get("status"), request.ctx.user,
                                                              request.args.get("language"))})


@bp.get("/handoffs/<handoff_id:int>")
@auth.api()
async def handoff(request, handoff_id):
    try:
        detail = await run_sync(work.handoff_detail, handoff_id, request.ctx.user)
    except work.DeskError as problem:
        return json({"error": problem.message}, status=problem.status)
    detail["assist"] = await run_sync(assist.panel, handoff_id)
    return json(detail)


@bp.post("/handoffs/<handoff_id:int>/claim")
@auth.api()
async def claim(request, handoff_id):
    return await _call(work.claim, handoff_id, request.ctx.user)


@bp.post("/handoffs/<handoff_id:int>/messages")
@auth.api()
async def message(request, handoff_id):
    body = _body(request)
    return await _call(work.reply, handoff_id, request.ctx.user, str(body.get("text") or body.get("message") or ""))


@bp.post("/handoffs/<handoff_id:int>/close")
@auth.api()
async def close(request, handoff_id):
    body = _body(request)
    # a close that names no disposition is recorded as unresolved, never guessed better
    disposition = "unresolved" if body.get("disposition") in (None, "") else str(body["disposition"])
    return await _call(work.close, handoff_id, request.ctx.user, disposition, str(body.get("note") or ""),
                       body.get("resume_bot") is True)


@bp.post("/accounts/<number:str>/write-off")
@auth.api()
async def write_off(request, number):
    body = _body(request)
    # 202: accepted for a supervisor's approval, not posted
    return await _call(work.write_off, number, request.ctx.user, str(body.get("amount") or ""), str(body.get("reason_code") or ""),
                       str(body.get("reason") or ""),
                       status_of=lambda view: 202 if view["status"] == writeoffs.Routed.AWAITING_SUPERVISOR else 200)


@bp.post("/write-offs/<request_id:int>/<decision:str>")
@auth.api("supervisor")
async def write_off_decision(request, request_id, decision):
    return await _call(work.decide_write_off, request_id, request.ctx.user, decision, str(_body(request).get("note") or ""))


@bp.post("/accounts/<number:str>/plan-change")
@auth.api()
async def plan_change(request, number):
    body = _body(request)
    try:
        months = int(body["months"]) if body.get("months") not in (None, "") else None
        day = int(body["day_of_month"]) if body.get("day_of_month") not in (None, "") else None
    except (TypeError, ValueError):
        return json({"error": "months and day_of_month are whole numbers"}, status=400)
    if months is None and day is None:
        return json({"error": "send months, day_of_month or both"}, status=400)
    return await _call(work.plan_change, number, request.ctx.user, months, day, str(body.get("reason") or ""))


@bp.post("/disputes/<reference:str>/resolve")
@auth.api()
async def resolve_dispute(request, reference):
    body = _body(request)
    return await _call(work.resolve_dispute, reference, request.ctx.user, str(body.get("outcome") or ""),
                       str(body.get("explanation") or ""), body.get("amount"))


@bp.get("/work")
@auth.api()
async def work_list(request):
    return await _call(work.pending_work)


@bp.post("/refunds/<refund_id:int>/<decision:str>")
@auth.api()
async def refund_decision(request, refund_id, decision):
    return await _call(work.decide_refund, refund_id, request.ctx.user, decision, str(_body(request).get("note") or ""))


@bp.post("/assistance/<reference:str>/<decision:str>")
@auth.api()
async def assistance_decision(request, reference, decision):
    return await _call(work.decide_application, reference, request.ctx.user, decision, str(_body(request).get("note") or ""))


@bp.get("/metrics")
@auth.api("supervisor")
@_with_filters
async def metrics(request, filters):
    return json(await run_sync(review.metrics, filters))


@bp.get("/conversations.csv")
@auth.api("supervisor")
@_with_filters
async def export(request, filters):
    return review.csv_download(filters, await run_sync(review.conversations, filters))


@bp.get("/audit")
@auth.api("supervisor")
async def audit(request):
    return await _call(work.audit_entries)


# --- the patient's record: insurance, contact changes, statements ------------

@bp.post("/insurance/<policy_id:int>/<decision:str>")
@auth.api()
async def insurance_decision(request, policy_id, decision):
    return await _call(record_work.decide_insurance, policy_id, request.ctx.user, decision, str(_body(request).get("note") or ""))


@bp.post("/accounts/<number:str>/insurance-transfer")
@auth.api()
async def insurance_transfer(request, number):
    body = _body(request)
    return await _call(record_work.transfer, number, request.ctx.user, str(body.get("reason") or ""), body.get("policy_id"))


@bp.post("/insurance-transfers/<transfer_id:int>/close")
@auth.api()
async def close_insurance_transfer(request, transfer_id):
    return await _call(record_work.close_transfer, transfer_id, request.ctx.user, str(_body(request).get("note") or ""))


@bp.post("/contact-changes/<change_id:int>/notice")
@auth.api()
async def contact_notice(request, change_id):
    return await _call(record_work.settle_notice, change_id, request.ctx.user, str(_body(request).get("how") or ""))


@bp.post("/contact-changes/<change_id:int>/<decision:str>")
@auth.api()
async def name_change_decision(request, change_id, decision):
    return await _call(record_work.decide_name_change, change_id, request.ctx.user, decision, str(_body(request).get("note") or ""))


@bp.post("/accounts/<number:str>/statements")
@auth.api()
async def send_statement(request, number):
    body = _body(request)
    return await _call(record_work.send_statement, number, request.ctx.user, str(body.get("delivery") or ""), body.get("phone"))


@bp.get("/accounts/<number:str>/statement.pdf")
@auth.api()
async def statement_pdf(request, number):
    try:
        pdf = await run_sync(record_work.statement_pdf, number, request.ctx.user)
    except work.DeskError as problem:
        return json({"error": problem.message}, status=problem.status)
    return pdf_response(pdf, number)


@bp.post("/statements/<reference:str>/mailed")
@auth.api()
async def statement_mailed(request, reference):
    return await _call(record_work.mark_mailed, reference, request.ctx.user)


# --- a patient's self-service verification lock --------------------------------

@bp.post("/patients/<patient_id:str>/identity-unlock")
@auth.api()
async def identity_unlock(request, patient_id):
    return await _call(record_work.unlock_identity, request.ctx.user, str(_body(request).get("note") or ""), patient_id=patient_id)


@bp.post("/accounts/<number:str>/identity-unlock")
@auth.api()
async def account_identity_unlock(request, number):
    return await _call(record_work.unlock_identity, request.ctx.user, str(_body(request).get("note") or ""), account_number=number)


# --- outreach: each campaign's results, pausing, a partner's hold ---------------

@bp.get("/outreach")
@auth.api("supervisor")
async def outreach_summary(request):
    return await _call(outreach.summary, request.args.get("now"))


@bp.post("/outreach/<campaign:str>/<action:str>")
@auth.api("supervisor")
async def outreach_pause(request, campaign, action):
    if action not in ("pause", "resume"):
        return json({"error": "POST /api/outreach/{campaign}/pause or /resume"}, status=404)
    body = _body(request)
    return await _call(outreach.set_paused, campaign, request.ctx.user, action == "pause",
                       str(body.get("client") or request.args.get("client") or ""), str(body.get("reason") or ""))


@bp.post("/accounts/<number:str>/outreach-hold")
@auth.api()
async def outreach_hold(request, number):
    return await _call(outreach.place_hold, number, request.ctx.user, str(_body(request).get("reason") or ""),
                       status_of=lambda view: 201)


@bp.post("/accounts/<number:str>/outreach-hold/<hold_id:int>/lift")
@auth.api()
async def outreach_hold_lift(request, number, hold_id):
    return await _call(outreach.lift_hold, number, hold_id, request.ctx.user, str(_body(request).get("note") or ""))
