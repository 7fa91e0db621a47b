"""A webhook delivered again (Twilio's retry of the same MessageSid or
voice turn) is answered once: from the first delivery's answer, or, when
the receiver of the first delivery died before answering (a Rasa server
killed mid-turn), by the retry itself once that receiver's lease is over;
never by two at once."""
from __future__ import annotations

import threading
import time

from billing import clock, inbound


def _at(monkeypatch, moment: str) -> None:
    """The clock stands at ``moment`` now (pinned: a moment another test set
    earlier in this process has moved on since, so it would not be this one)."""
    monkeypatch.setenv("SELFPAY_NOW", moment)
    monkeypatch.setenv("SELFPAY_NOW_SINCE", str(time.time()))


def test_a_retry_of_an_answered_delivery_gets_the_first_answer(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert inbound.claim("twilio_sms", "SM1", "riverside")
    inbound.record_answer("twilio_sms", "SM1", "<Response>first</Response>")
    assert not inbound.claim("twilio_sms", "SM1", "riverside")
    again = inbound.redelivered("twilio_sms", "SM1")
    assert again.answer == "<Response>first</Response>" and not again.ours


def test_a_retry_after_its_first_receiver_died_is_answered_by_the_retry_and_only_once(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("INBOUND_CLAIM_LEASE_SECONDS", "8")
    _at(monkeypatch, "2026-11-28T15:00:00Z")
    assert inbound.claim("twilio_sms", "SM2", "riverside")  # and its receiver died: no answer recorded
    # inside the lease: the first receiver may still answer; a short wait gives nothing and takes nothing
    _at(monkeypatch, "2026-11-28T15:00:03Z")
    early = inbound.redelivered("twilio_sms", "SM2", wait_seconds=0.3)
    assert early.answer is None and not early.ours
    # after it: two retries at once (two live servers); exactly one takes it over
    _at(monkeypatch, "2026-11-28T15:00:09Z")
    results = []
    threads = [threading.Thread(target=lambda: results.append(inbound.redelivered("twilio_sms", "SM2", wait_seconds=0.5)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.ours for r in results) == [False, True]
    inbound.record_answer("twilio_sms", "SM2", "<Response>answered by the retry</Response>")
    assert inbound.redelivered("twilio_sms", "SM2").answer == "<Response>answered by the retry</Response>"


def test_a_retry_waits_for_the_first_answer_while_the_first_receiver_works(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert inbound.claim("twilio_voice", "CA1:3", "riverside")
    timer = threading.Timer(0.5, inbound.record_answer, ("twilio_voice", "CA1:3", "<Response>said</Response>"))
    timer.start()
    again = inbound.redelivered("twilio_voice", "CA1:3", wait_seconds=5)
    timer.join()
    assert again.answer == "<Response>said</Response>" and not again.ours
    assert clock.utcnow()  # the lease is read on the one clock


def test_a_claim_kept_alive_by_a_slow_first_receiver_is_not_taken_over(db_url, monkeypatch):
    """A turn that takes longer than the lease (a dead server's conversation
    lock, a loaded machine) is still its first receiver's: the retry waits
    for its answer instead of running the turn a second time."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("INBOUND_CLAIM_LEASE_SECONDS", "2.5")
    assert inbound.claim("rest", "rest:slow", None)
    with inbound.keep_alive("rest", "rest:slow"):
        timer = threading.Timer(6, inbound.record_answer, ("rest", "rest:slow", '[{"text": "first"}]'))
        timer.start()
        again = inbound.redelivered("rest", "rest:slow", wait_seconds=10)
        timer.join()
    assert again.answer == '[{"text": "first"}]' and not again.ours


def test_an_abandoned_claim_is_taken_over_a_lease_after_its_last_refresh(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("INBOUND_CLAIM_LEASE_SECONDS", "2.5")
    assert inbound.claim("rest", "rest:gone", None)
    with inbound.keep_alive("rest", "rest:gone"):
        time.sleep(4)  # refreshed meanwhile: still its receiver's
        assert not inbound.redelivered("rest", "rest:gone", wait_seconds=0).ours
    # its receiver stopped refreshing (died): a lease later the retry takes it
    assert inbound.redelivered("rest", "rest:gone", wait_seconds=6).ours


def test_a_released_claim_is_claimed_again_at_once(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert inbound.claim("twilio_sms", "SM9", "riverside")
    inbound.release("twilio_sms", "SM9")  # the turn failed (Redis down): nothing kept
    assert inbound.claim("twilio_sms", "SM9", "riverside")
    inbound.record_answer("twilio_sms", "SM9", "<Response/>")
    inbound.release("twilio_sms", "SM9")  # an answered claim is never given up
    assert not inbound.claim("twilio_sms", "SM9", "riverside")
