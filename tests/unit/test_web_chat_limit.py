"""The web chat's limit counts each browser's address, also behind a
trusted TLS proxy (desk.app.client_address), never the proxy's own."""
from __future__ import annotations

import pytest

from billing import ratelimit


class Headers(dict):
    def getall(self, name, default=None):
        return [self[name]] if name in self else (default or [])

    def get(self, name, default=None):
        return super().get(name, default)


class Request:
    def __init__(self, peer: str, forwarded: str | None = None):
        self.ip = self.remote_addr = peer
        self.headers = Headers({"x-forwarded-for": forwarded} if forwarded else {})


@pytest.fixture
def two_a_minute(monkeypatch):
    monkeypatch.setitem(ratelimit._limiters, "webchat", ratelimit.RateLimiter(2))


def test_behind_a_trusted_proxy_each_browser_has_its_own_limit(two_a_minute, monkeypatch):
    from desk.chat import _too_fast

    monkeypatch.setenv("DESK_TRUSTED_PROXIES", "10.0.0.5")
    first, second = Request("10.0.0.5", "203.0.113.7"), Request("10.0.0.5", "198.51.100.9")
    assert _too_fast(first) is None and _too_fast(first) is None
    refused = _too_fast(first)
    assert refused is not None and refused.status == 429 and refused.headers["Retry-After"]
    assert _too_fast(second) is None  # another patient behind the same proxy


def test_a_forwarded_address_from_an_untrusted_peer_is_not_believed(two_a_minute, monkeypatch):
    from desk.chat import _too_fast

    monkeypatch.delenv("DESK_TRUSTED_PROXIES", raising=False)
    assert _too_fast(Request("192.0.2.1", "203.0.113.1")) is None
    assert _too_fast(Request("192.0.2.1", "203.0.113.2")) is None
    assert _too_fast(Request("192.0.2.1", "203.0.113.3")).status == 429  # one peer, however it names itself
