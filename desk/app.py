"""The Sanic application: pages, security headers, health."""
from __future__ import annotations

import asyncio
import functools
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from billing.records import desk_url
from sanic import Sanic
from sanic.response import HTTPResponse, html, json, raw

TEMPLATES = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
)
STATIC = Path(__file__).parent / "static"
# our own patient pages, the only links a chat line turns into anchors
OWN_LINK = re.compile(r"(https?://[^\s<>\"']+/(?:pay|statements)/[A-Za-z0-9_-]+)")


def linkify(text: str) -> Markup:
    """A chat line, escaped, with our own payment and statement links clickable."""
    ours = desk_url("/")
    parts = []
    for n, piece in enumerate(OWN_LINK.split(str(text or ""))):
        if n % 2 and piece.startswith(ours):
            parts.append(Markup('<a href="{0}">{0}</a>').format(piece))
        else:
            parts.append(escape(piece))
    return Markup("").join(parts)


TEMPLATES.filters["linkify"] = linkify

# pages that take card details are never cached, framed or referred from
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
}


def page(name: str, status: int = 200, **values) -> HTTPResponse:
    return html(TEMPLATES.get_template(name).render(**values), status=status)


async def run_sync(fn, *args, **kwargs):
    """Billing calls are blocking database work: keep them off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))


def pdf_response(pdf: bytes, account_number: str, disposition: str = "inline") -> HTTPResponse:
    """A statement PDF, never cached (it holds patient detail)."""
    return raw(pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="statement-{account_number}.pdf"', "Cache-Control": "no-store"})


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

    @app.on_response
    async def secure(request, response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)

    return app
