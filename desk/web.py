"""What every desk page and handler shares: templates, the client's
address behind a trusted proxy, cookies, masked logs, PDF responses and
running blocking billing work off the event loop.  The blueprints import
this; desk/app.py assembles them into the app."""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sanic.response import HTTPResponse, html, raw

from billing.records import desk_url
from selfpay import settings

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


HSTS = "max-age=31536000; includeSubDomains"
# the largest id a database row can have (signed 64 bits)
MAX_ID = 2 ** 63 - 1


# --- behind a TLS proxy ----------------------------------------------------

def trusted_proxies() -> list:
    """DESK_TRUSTED_PROXIES: addresses or networks (comma or space separated)
    whose X-Forwarded-Proto and X-Forwarded-For are believed; nobody by default."""
    found = []
    for item in re.split(r"[,\s]+", settings.get("DESK_TRUSTED_PROXIES", "")):
        if item:
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                logging.getLogger(__name__).warning("DESK_TRUSTED_PROXIES: %r is not an address or network; ignored", item)
    return found


def _trusted(address: str, proxies: list) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def _from_trusted_proxy(request) -> bool:
    return _trusted(request.ip, trusted_proxies())


def is_https(request) -> bool:
    """The browser reached us over TLS: our own TLS, or a trusted proxy's word."""
    if request.transport.get_extra_info("sslcontext"):
        return True
    if not _from_trusted_proxy(request):
        return False
    proto = (request.headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    return proto == "https"


def client_address(request) -> str:
    """Who is asking: the peer, or behind trusted proxies the nearest
    address in X-Forwarded-For that is not one of them."""
    peer = request.ip or "unknown"
    proxies = trusted_proxies()
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("x-forwarded-for", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


def set_cookie(request, response: HTTPResponse, name: str, value: str, *, max_age: int, path: str = "/") -> None:
    """A desk cookie: HttpOnly, SameSite=Strict, Secure whenever the browser came over TLS."""
    # Sanic 21.12 (what Rasa 3.6 pins): cookies are set item by item
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    cookie["max-age"] = max_age
    if is_https(request):
        cookie["secure"] = True


# --- logs without one-time tokens --------------------------------------------

_SECRETS_IN_TEXT = (
    # one-time payment and statement links: /pay/<token>..., /statements/<token>...
    (re.compile(r"(?<!/desk)(?<!/api)(/(?:pay|statements)/)[^/?#\s'\"]+"), r"\1[token]"),
    # card tokens and any other token in a query string or a form
    (re.compile(r"((?:card_token|token|csrf_token)=)[^&\s'\"]+"), r"\1[token]"),
    (re.compile(r"\btok_[A-Za-z0-9_]+"), "tok_[token]"),
)


def mask_secrets(text: str) -> str:
    """A log line without one-time link tokens or card tokens."""
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


class MaskSecrets(logging.Filter):
    """On every handler: the message, Sanic's access line and any
    traceback go out with their tokens masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if isinstance(getattr(record, "request", None), str):
            record.request = mask_secrets(record.request)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def mask_logs() -> None:
    """Put the filter on every handler there is (root, Sanic's, ours)."""
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, MaskSecrets) for f in handler.filters):
                handler.addFilter(MaskSecrets())


def page(name: str, status: int = 200, **values) -> HTTPResponse:
    return html(TEMPLATES.get_template(name).render(**values), status=status)


async def run_sync(fn, *args, **kwargs):
    """Billing calls are blocking database work: keep them off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))


def pdf_response(pdf: bytes, account_number: str, disposition: str = "inline") -> HTTPResponse:
    """A statement PDF, never cached (it holds patient detail)."""
    return raw(pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="statement-{account_number}.pdf"', "Cache-Control": "no-store"})
