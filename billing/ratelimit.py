"""How much one address or number may send (DESIGN.md, Identity: REST and
web chat callers are rate-limited by address, SMS and voice by number),
and how long one message may be.

A token bucket per key, in this process.  Under ``make cluster`` each
Rasa instance keeps its own buckets (HAProxy routes by conversation, not
by address), so a caller spread over N instances gets at most N times
the rate; the limits are sized so that this still stops flooding, and
verification guesses are capped per patient in billing.identity anyway.

Rates per minute, with a burst of the same size, from the environment:
``REST_RATE_PER_MINUTE`` per client address on the REST channel
(integrations: generous), ``WEBCHAT_RATE_PER_MINUTE`` per browser address
(counted by the desk, which sees the browser), ``SMS_RATE_PER_MINUTE`` and
``VOICE_RATE_PER_MINUTE`` per sending or calling number."""
from __future__ import annotations

import threading
import time
from typing import Dict, Tuple
from selfpay import settings

DEFAULT_PER_MINUTE = {"rest": 3000, "webchat": 60, "sms": 20, "voice": 60}
MAX_KEYS = 50_000  # forget idle keys beyond this many, so memory stays bounded


class RateLimiter:
    def __init__(self, per_minute: float, *, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.refill = float(per_minute) / 60.0
        self._clock = clock
        self._buckets: Dict[str, Tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> Tuple[bool, int]:
        """(allowed, seconds until the next message would be allowed)."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                allowed, wait = True, 0
            else:
                self._buckets[key] = (tokens, now)
                allowed, wait = False, max(1, int((1 - tokens) / self.refill + 0.999))
            if len(self._buckets) > MAX_KEYS:
                self._forget_full(now)
        return allowed, wait

    def _forget_full(self, now: float) -> None:
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.refill >= self.capacity:
                del self._buckets[key]


_limiters: Dict[str, RateLimiter] = {}


def limiter(channel: str) -> RateLimiter:
    """The process's limiter for a channel (rest, webchat, sms, voice)."""
    if channel not in _limiters:
        rate = float(settings.get(f"{channel.upper()}_RATE_PER_MINUTE", str(DEFAULT_PER_MINUTE[channel])))
        _limiters[channel] = RateLimiter(rate)
    return _limiters[channel]


MAX_MESSAGE_CHARS = 4000  # DESIGN.md, Channels: every channel's cap on one message


def capped(text: str) -> Tuple[str, bool]:
    """The message cut to the cap, and whether it was cut."""
    return (text[:MAX_MESSAGE_CHARS], True) if len(text) > MAX_MESSAGE_CHARS else (text, False)
