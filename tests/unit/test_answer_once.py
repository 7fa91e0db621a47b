"""connectors/once.py: a webhook turn answered once, however its deliveries
arrive: a retry while the first is still running gets the first answer, the
first runs to its end when its caller hangs up, and a turn that failed is
run again by its retry."""
from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from connectors.once import StillAnswering, once


def _request():
    return SimpleNamespace(app=SimpleNamespace(loop=asyncio.get_running_loop(), ctx=SimpleNamespace()))


async def _first_delivery(request, key, work):
    """The first delivery of a REST turn, started and under way."""
    first = asyncio.ensure_future(once(request, "rest", key, None, work))
    await asyncio.sleep(0.1)
    return first


def _run(main):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.fixture
def billing(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("INBOUND_CLAIM_LEASE_SECONDS", "2.5")
    monkeypatch.setenv("INBOUND_RETRY_WAIT_SECONDS", "12")


def test_a_retry_while_the_first_is_running_gets_the_first_answer_and_the_turn_runs_once(billing):
    runs = []

    async def work(taken_over):
        runs.append(taken_over)
        await asyncio.sleep(5)  # longer than the lease: kept alive meanwhile
        return json.dumps([{"text": f"answer {len(runs)}"}]), True

    async def main():
        request = _request()
        first = await _first_delivery(request, "rest:k1", work)
        retry = await once(request, "rest", "rest:k1", None, work)
        return await first, retry

    first, retry = _run(main)
    assert first == retry == json.dumps([{"text": "answer 1"}]) and runs == [False]


def test_the_first_runs_to_its_end_and_is_kept_when_its_caller_hangs_up(billing):
    runs = []

    async def work(taken_over):
        runs.append(taken_over)
        await asyncio.sleep(0.5)
        return "kept", True

    async def main():
        request = _request()
        first = await _first_delivery(request, "rest:k2", work)
        first.cancel()  # HAProxy killed: Sanic cancels the handler
        return await once(request, "rest", "rest:k2", None, work)

    assert _run(main) == "kept" and runs == [False]


def test_a_turn_that_failed_is_run_again_by_its_retry(billing):
    outcomes = iter([("", False), ("second", True)])

    async def work(taken_over):
        return next(outcomes)

    async def main():
        request = _request()
        await once(request, "twilio_sms", "SMfail", "riverside", work)
        return await once(request, "twilio_sms", "SMfail", "riverside", work)

    assert _run(main) == "second"


def test_a_retry_that_waited_in_vain_is_told_to_send_again(billing, monkeypatch):
    monkeypatch.setenv("INBOUND_RETRY_WAIT_SECONDS", "0.3")

    async def work(taken_over):
        await asyncio.sleep(3)
        return "late", True

    async def main():
        request = _request()
        first = await _first_delivery(request, "rest:k3", work)
        with pytest.raises(StillAnswering):
            await once(request, "rest", "rest:k3", None, work)
        return await first

    assert _run(main) == "late"


def test_a_turn_its_dead_receiver_had_saved_is_answered_from_the_tracker_not_run_again():
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from connectors.once import saved_turn

    store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker("patient-1", [])
    for event in (UserUttered("i want to pay $1", message_id="rest:first"), BotUttered("Let me verify you first."),
                  UserUttered("card", message_id="rest:second"),
                  BotUttered("Pay $1.00 with your Visa ending 4242?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
                  UserUttered("yes", message_id="rest:third"), BotUttered("Done.")):
        tracker.update(event)

    async def main(message_id):
        request = _request()
        request.app.ctx.agent = SimpleNamespace(tracker_store=store)
        await store.save(tracker)
        collector = CollectingOutputChannel()
        return await saved_turn(request, "patient-1", message_id, collector), collector.messages

    found, said = _run(lambda: main("rest:second"))
    assert found and [m.get("text") for m in said] == ["Pay $1.00 with your Visa ending 4242?"]
    assert said[0]["buttons"] == [{"title": "Yes", "payload": "/affirm"}]
    assert _run(lambda: main("rest:never-saved")) == (False, [])
