"""The desk's web app: the blueprints (desk/api.py, pages.py, chat.py,
pay.py, statement_page.py, sandbox_gateway.py) assembled with the
security headers, id range checks and masked logs."""
from __future__ import annotations

from sanic import Sanic
from sanic.response import HTTPResponse, json

from desk.web import (  # noqa: F401 (the desk's shared helpers, also reached as desk.app.*)
    HSTS, MAX_ID, SECURITY_HEADERS, STATIC, TEMPLATES, client_address, is_https, linkify, mask_logs, mask_secrets,
    page, pdf_response, run_sync, set_cookie, trusted_proxies,
)


def create_app(name: str = "selfpay-desk") -> Sanic:
    from desk.api import bp as api_bp
    from desk.chat import bp as chat_bp
    from desk.pages import bp as pages_bp
    from desk.pay import bp as pay_bp
    from desk.statement_page import bp as statement_bp
    from desk.sandbox_gateway import bp as gateway_bp

    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.blueprint(pay_bp)
    app.blueprint(statement_bp)
    app.blueprint(chat_bp)
    app.blueprint(gateway_bp)
    app.blueprint(api_bp)
    app.blueprint(pages_bp)
    app.static("/static", str(STATIC))

    @app.get("/health")
    async def health(request):
        return json({"status": "ok"})

    @app.on_request
    async def ids_in_range(request):
        # an int id in the path no database row can have is simply not there
        if any(isinstance(v, int) and not -MAX_ID <= v <= MAX_ID for v in (request.match_info or {}).values()):
            return _not_found(request)

    @app.exception(OverflowError)
    async def out_of_range(request, exception):
        # a number (in a form or a body) too big for the database
        if request.path.startswith("/api/"):
            return json({"error": "a number in the request is out of range"}, status=400)
        return page("desk_forbidden.html", status=400, user=None, needed=None, problem="A number in the request is out of range.")

    @app.on_response
    async def secure(request, response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if is_https(request):
            response.headers.setdefault("Strict-Transport-Security", HSTS)

    @app.listener("before_server_start")
    async def masked_logs(app, loop):
        mask_logs()

    mask_logs()
    return app


def _not_found(request) -> HTTPResponse:
    if request.path.startswith("/api/"):
        return json({"error": "there is no such record"}, status=404)
    return page("desk_forbidden.html", status=404, user=None, needed=None, problem="There is no such record.")
