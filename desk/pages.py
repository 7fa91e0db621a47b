"""The desk's pages: sign-in, the queue, a handoff (transcript, summary,
account, assist, reply, close), supervisor review with CSV export, and
the audit log.  Server-rendered; plain JavaScript only refreshes the
queue and the transcript.  Every form posts with the session's CSRF token
and redirects back (post, redirect, get)."""
from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

from sanic import Blueprint
from sanic.response import redirect

from billing import handoffs as handoff_rules
from billing.staff import SESSION_HOURS
from desk import assist, auth, outreach, record_work, review, work
from desk.web import client_address, page, pdf_response, run_sync, set_cookie
from desk.transcripts import RasaUnavailable

bp = Blueprint("desk_pages", url_prefix="/desk")


def _back(path: str, notice: str = "", problem: str = ""):
    query = urlencode({k: v for k, v in (("notice", notice), ("problem", problem)) if v})
    return redirect(path + ("?" + query if query else ""))


def _safe_next(target: str) -> str:
    # only our own pages: never an open redirect
    return target if target.startswith("/desk") and not target.startswith("//") else "/desk"


def _login_form(request, status: int = 200, **values):
    """The sign-in page with a fresh CSRF token (its nonce in a cookie of its own)."""
    nonce, token = auth.new_login_form()
    response = page("desk_login.html", status=status, csrf_token=token, **values)
    set_cookie(request, response, auth.LOGIN_COOKIE, nonce, max_age=3600, path="/desk/login")
    return response


@bp.get("/login")
async def login_page(request):
    return _login_form(request, next=_safe_next(request.args.get("next", "/desk")), problem=request.args.get("problem"))


@bp.post("/login")
async def login(request):
    form = request.form
    target = _safe_next(form.get("next") or "/desk")
    if not auth.login_form_ok(request):
        # a sign-in posted from another site (or an old page): nothing is checked
        return _login_form(request, status=403, next=target, username=form.get("username") or "",
                           problem="This sign-in form has expired or did not come from the desk. Please sign in again.")
    result = await auth.sign_in(form.get("username") or "", form.get("password") or "", client_address(request))
    if result.token is None:
        response = _login_form(request, status=result.status, next=target, problem=result.words(), username=form.get("username") or "")
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    response = redirect(target)
    set_cookie(request, response, auth.COOKIE, result.token, max_age=SESSION_HOURS * 3600)
    return response


@bp.post("/logout")
@auth.page()
async def logout(request):
    await run_sync(auth.sign_out, request.cookies.get(auth.COOKIE))
    response = redirect("/desk/login")
    set_cookie(request, response, auth.COOKIE, "", max_age=0)
    return response


@bp.get("/")
@auth.page()
async def queue(request):
    language = request.args.get("language") or ""
    if language not in ("", *handoff_rules.LANGUAGES):
        language = ""
    waiting = await run_sync(work.handoff_list, "waiting", request.ctx.user, language)
    active = await run_sync(work.handoff_list, "active", request.ctx.user, language)
    pending = await run_sync(work.pending_work)
    return page("desk_queue.html", user=request.ctx.user, waiting=waiting, active=active, pending=pending, language=language,
                languages=handoff_rules.LANGUAGE_WORDS["en"], notice=request.args.get("notice"), problem=request.args.get("problem"))


@bp.get("/handoffs/<handoff_id:int>")
@auth.page()
async def handoff(request, handoff_id):
    try:
        detail = await run_sync(work.handoff_detail, handoff_id, request.ctx.user)
        if not await auth.may_read(request.ctx.user, detail["conversation_id"]):
            raise work.DeskError(403, auth.NOT_YOURS)
        conversation = await run_sync(work.conversation, detail["conversation_id"], request.ctx.user)
        account = await run_sync(work.account_view, detail["account_number"]) if detail["account_number"] and detail["verified"] else None
    except work.DeskError as problem:
        return page("desk_forbidden.html", status=problem.status, user=request.ctx.user, needed=None, problem=problem.message)
    panel = await run_sync(assist.panel, handoff_id)
    return page("desk_handoff.html", languages=handoff_rules.LANGUAGE_WORDS["en"], user=request.ctx.user, handoff=detail, conversation=conversation, account=account,
                assist=panel, dispositions=handoff_rules.DISPOSITIONS, notice=request.args.get("notice"),
                problem=request.args.get("problem"))


async def _act(path: str, fn, *args, done: str = ""):
    try:
        await run_sync(fn, *args)
    except work.DeskError as problem:
        return _back(path, problem=problem.message)
    except RasaUnavailable:
        return _back(path, problem="The assistant is not answering; nothing was sent. Try again in a moment.")
    return _back(path, notice=done)


@bp.post("/handoffs/<handoff_id:int>/claim")
@auth.page()
async def claim(request, handoff_id):
    return await _act(f"/desk/handoffs/{handoff_id}", work.claim, handoff_id, request.ctx.user, done="You have this conversation.")


@bp.post("/handoffs/<handoff_id:int>/reply")
@auth.page()
async def reply(request, handoff_id):
    return await _act(f"/desk/handoffs/{handoff_id}", work.reply, handoff_id, request.ctx.user, request.form.get("text") or "",
                      done="Sent.")


@bp.post("/handoffs/<handoff_id:int>/close")
@auth.page()
async def close(request, handoff_id):
    form = request.form
    try:
        await run_sync(work.close, handoff_id, request.ctx.user, form.get("disposition") or "", form.get("note") or "",
                       form.get("resume_bot") == "yes")
    except work.DeskError as problem:
        return _back(f"/desk/handoffs/{handoff_id}", problem=problem.message)
    except RasaUnavailable:
        return _back(f"/desk/handoffs/{handoff_id}", problem="The assistant is not answering: the handoff is closed, but the bot was not resumed.")
    return _back("/desk/", notice=f"Handoff {handoff_id} closed.")


@bp.post("/accounts/<number:str>/write-off")
@auth.page()
async def write_off(request, number):
    form = request.form
    back = _safe_next(form.get("back") or "/desk/")
    try:
        result = await run_sync(work.write_off, number, request.ctx.user, form.get("amount") or "", form.get("reason_code") or "",
                                form.get("reason") or "")
    except work.DeskError as problem:
        return _back(back, problem=problem.message)
    return _back(back, notice=result.get("message") or "Written off.")


@bp.get("/work")
@auth.page()
async def work_page(request):
    pending = await run_sync(work.pending_work)
    return page("desk_work.html", user=request.ctx.user, work=pending, notice=request.args.get("notice"),
                problem=request.args.get("problem"))


@bp.post("/disputes/<reference:str>/resolve")
@auth.page()
async def resolve_dispute(request, reference):
    form = request.form
    return await _act("/desk/work", work.resolve_dispute, reference, request.ctx.user, form.get("outcome") or "",
                      form.get("explanation") or "", form.get("amount"), done=f"Dispute {reference} resolved.")


@bp.post("/refunds/<refund_id:int>")
@auth.page()
async def refund_decision(request, refund_id):
    form = request.form
    return await _act("/desk/work", work.decide_refund, refund_id, request.ctx.user, form.get("decision") or "",
                      form.get("note") or "", done="Refund decided.")


@bp.post("/assistance/<reference:str>")
@auth.page()
async def assistance_decision(request, reference):
    form = request.form
    return await _act("/desk/work", work.decide_application, reference, request.ctx.user, form.get("decision") or "",
                      form.get("note") or "", done=f"Application {reference} decided.")


@bp.post("/write-offs/<request_id:int>")
@auth.page("supervisor")
async def write_off_decision(request, request_id):
    form = request.form
    return await _act("/desk/work", work.decide_write_off, request_id, request.ctx.user, form.get("decision") or "",
                      form.get("note") or "", done="Write-off decided.")


@bp.post("/insurance/<policy_id:int>")
@auth.page()
async def insurance_decision(request, policy_id):
    form = request.form
    return await _act("/desk/work", record_work.decide_insurance, policy_id, request.ctx.user, form.get("decision") or "",
                      form.get("note") or "", done="Insurance checked.")


@bp.post("/insurance-transfers/<transfer_id:int>/close")
@auth.page()
async def close_insurance_transfer(request, transfer_id):
    return await _act("/desk/work", record_work.close_transfer, transfer_id, request.ctx.user, request.form.get("note") or "",
                      done="The re-billed balance is back with the patient.")


@bp.post("/accounts/<number:str>/insurance-transfer")
@auth.page()
async def insurance_transfer(request, number):
    form = request.form
    return await _act(_safe_next(form.get("back") or "/desk/work"), record_work.transfer, number, request.ctx.user,
                      form.get("reason") or "", form.get("policy_id"), done="Balance moved to insurance; statements are held.")


@bp.post("/contact-changes/<change_id:int>/notice")
@auth.page()
async def contact_notice(request, change_id):
    return await _act("/desk/work", record_work.settle_notice, change_id, request.ctx.user, request.form.get("how") or "",
                      done="Notice recorded.")


@bp.post("/contact-changes/<change_id:int>")
@auth.page()
async def name_change_decision(request, change_id):
    form = request.form
    return await _act("/desk/work", record_work.decide_name_change, change_id, request.ctx.user, form.get("decision") or "",
                      form.get("note") or "", done="Name change decided.")


@bp.post("/accounts/<number:str>/statements")
@auth.page()
async def send_statement(request, number):
    form = request.form
    return await _act(_safe_next(form.get("back") or "/desk/work"), record_work.send_statement, number, request.ctx.user,
                      form.get("delivery") or "", form.get("phone"), done="Statement sent.")


@bp.get("/accounts/<number:str>/statement.pdf")
@auth.page()
async def statement_pdf(request, number):
    try:
        pdf = await run_sync(record_work.statement_pdf, number, request.ctx.user)
    except work.DeskError as problem:
        return _back("/desk/work", problem=problem.message)
    return pdf_response(pdf, number)


@bp.post("/statements/<reference:str>/mailed")
@auth.page()
async def statement_mailed(request, reference):
    return await _act("/desk/work", record_work.mark_mailed, reference, request.ctx.user, done=f"Statement {reference} mailed.")


@bp.post("/identity-unlock")
@auth.page()
async def identity_unlock(request):
    # the account is typed in by the partner, or the one the page shows
    form, user = request.form, request.ctx.user
    number, note = (form.get("account_number") or "").strip(), form.get("note") or ""
    return await _act(_safe_next(form.get("back") or "/desk/"),
                      lambda: record_work.unlock_identity(user, note, account_number=number),
                      done="Self-service verification unlocked for this patient.")


@bp.get("/review")
@auth.page("supervisor")
async def review_page(request):
    try:
        filters = review.Filters.from_args(request.args)
    except ValueError as problem:
        return page("desk_forbidden.html", status=400, user=request.ctx.user, needed=None, problem=str(problem))
    rows = await run_sync(review.conversations, filters)
    kpis = await run_sync(review.metrics, filters, rows)
    chart = review.bar_chart(review.per_day(filters, rows), "Conversations per day; the darker part was handed to a partner")
    export = "/desk/review.csv?" + urlencode({k: request.args.get(k) for k in request.args})
    return page("desk_review.html", user=request.ctx.user, rows=rows, kpis=kpis, chart=chart, filters=filters,
                flags=review.FLAGS, outcomes=review.OUTCOMES, export=export, money=review.money_text, quote=quote)


@bp.get("/review.csv")
@auth.page("supervisor")
async def review_csv(request):
    try:
        filters = review.Filters.from_args(request.args)
    except ValueError as problem:
        return page("desk_forbidden.html", status=400, user=request.ctx.user, needed=None, problem=str(problem))
    return review.csv_download(filters, await run_sync(review.conversations, filters))


@bp.get("/conversations/<conversation_id:path>")
@auth.page()
async def conversation(request, conversation_id):
    try:
        if not await auth.may_read(request.ctx.user, unquote(conversation_id)):
            raise work.DeskError(403, auth.NOT_YOURS)
        detail = await run_sync(work.conversation, unquote(conversation_id), request.ctx.user)
    except work.DeskError as problem:
        return page("desk_forbidden.html", status=problem.status, user=request.ctx.user, needed=None, problem=problem.message)
    return page("desk_conversation.html", user=request.ctx.user, conversation=detail)


@bp.get("/audit")
@auth.page("supervisor")
async def audit(request):
    entries = (await run_sync(work.audit_entries))["entries"]
    return page("desk_audit.html", user=request.ctx.user, entries=entries)


# --- outreach: each campaign's results, pausing, a partner's hold ---------------

@bp.get("/outreach")
@auth.page("supervisor")
async def outreach_page(request):
    try:
        summary = await run_sync(outreach.summary, request.args.get("now"))
    except work.DeskError as problem:
        return page("desk_forbidden.html", status=problem.status, user=request.ctx.user, needed=None, problem=problem.message)
    return page("desk_outreach.html", user=request.ctx.user, summary=summary, chart=outreach.chart(summary["campaigns"]),
                notice=request.args.get("notice"), problem=request.args.get("problem"))


@bp.post("/outreach/<client_id:str>/<campaign:str>/<action:str>")
@auth.page("supervisor")
async def outreach_pause(request, client_id, campaign, action):
    if action not in ("pause", "resume"):
        return _back("/desk/outreach", problem="Pause or resume a campaign.")
    done = f"{campaign.replace('_', ' ')} ({client_id}) {'paused' if action == 'pause' else 'resumed'}."
    return await _act("/desk/outreach", outreach.set_paused, campaign, request.ctx.user, action == "pause", client_id,
                      request.form.get("reason") or "", done=done)


@bp.post("/accounts/<number:str>/outreach-hold")
@auth.page()
async def outreach_hold(request, number):
    form = request.form
    return await _act(_safe_next(form.get("back") or "/desk/"), outreach.place_hold, number, request.ctx.user,
                      form.get("reason") or "", done="Outreach on this account is held.")


@bp.post("/accounts/<number:str>/outreach-hold/<hold_id:int>/lift")
@auth.page()
async def outreach_hold_lift(request, number, hold_id):
    form = request.form
    return await _act(_safe_next(form.get("back") or "/desk/"), outreach.lift_hold, number, hold_id, request.ctx.user,
                      form.get("note") or "", done="The outreach hold is lifted.")
