"""The token buckets that limit one address or number (billing.ratelimit)."""
from __future__ import annotations

from billing.ratelimit import MAX_MESSAGE_CHARS, RateLimiter, capped


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_burst_up_to_the_rate_passes_then_one_waits_for_the_refill():
    clock = FakeTime()
    limiter = RateLimiter(6, clock=clock)  # 6 a minute: one every 10 s
    assert all(limiter.allow("+15550101001")[0] for _ in range(6))
    allowed, wait = limiter.allow("+15550101001")
    assert not allowed and wait == 10
    clock.now += 10
    assert limiter.allow("+15550101001")[0]


def test_each_key_has_its_own_bucket():
    limiter = RateLimiter(1, clock=FakeTime())
    assert limiter.allow("a")[0] and not limiter.allow("a")[0]
    assert limiter.allow("b")[0]


def test_messages_are_cut_to_the_cap_and_say_so():
    assert capped("hi") == ("hi", False)
    text, cut = capped("x" * (MAX_MESSAGE_CHARS + 1))
    assert cut and len(text) == MAX_MESSAGE_CHARS == 4000
