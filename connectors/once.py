"""One answer per webhook turn, whoever delivers it and however often
(billing/inbound.py keeps the claims and the answers).

A channel hands ``once`` the turn's delivery id (an SMS MessageSid, a REST
``Idempotency-Key`` digest) and the work that answers it:

* the first delivery claims the id and runs the work; its answer is kept.
  The work runs to its end even when the caller hangs up (HAProxy killed, a
  client timing out): Sanic cancels a request's handler when its connection
  drops, and a turn cut off after Rasa saved it but before its answer was
  kept would be run again by the retry.  So the work is shielded, and the
  claim is kept alive while it runs;
* a retry while the first is still being answered waits for that answer
  (``INBOUND_RETRY_WAIT_SECONDS``), else raises ``StillAnswering`` (the
  channel answers 503 with Retry-After: send it again);
* a retry that finds the claim abandoned (its receiver died mid-turn: a
  Rasa server killed) takes it over; the work is told so, and first looks
  in the tracker store whether the dead receiver had already saved the
  turn (``saved_turn``: the patient message carries the delivery id as its
  ``message_id``).  If it had, the answer is what the bot said then, and
  nothing runs twice.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Optional, Tuple

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from sanic.request import Request

from billing import inbound

logger = logging.getLogger(__name__)


class StillAnswering(Exception):
    """The first delivery of this turn is still being answered: send it again in a moment."""


def _retrieve_outcome(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None and not isinstance(task.exception(), StillAnswering):
        logger.error("a turn whose caller had gone failed: %s", task.exception())


async def once(request: Request, channel: str, delivery: str, client_id: Optional[str],
               work: Callable[[bool], Awaitable[Tuple[str, bool]]], wait_seconds: Optional[float] = None) -> str:
    """The answer to the delivery ``delivery``.  ``work(taken_over)`` answers
    it, returning (answer, handled); an answer not handled (the turn failed)
    is not kept, and the claim is given up so a retry runs the turn."""
    loop = request.app.loop

    async def first(taken_over: bool) -> str:
        with inbound.keep_alive(channel, delivery):
            try:
                answer, handled = await work(taken_over)
            except BaseException:
                await loop.run_in_executor(None, inbound.release, channel, delivery)
                raise
            if handled:
                await loop.run_in_executor(None, inbound.record_answer, channel, delivery, answer)
            else:
                await loop.run_in_executor(None, inbound.release, channel, delivery)
            return answer

    async def whole() -> str:
        if await loop.run_in_executor(None, inbound.claim, channel, delivery, client_id):
            return await first(False)
        again = await loop.run_in_executor(None, inbound.redelivered, channel, delivery, wait_seconds)
        if again.ours:
            logger.warning("%s %s delivered again, its first delivery never answered: answering it now", channel, delivery)
            return await first(True)
        if again.answer is None:
            raise StillAnswering(delivery)
        logger.info("%s %s delivered again: answered from the first delivery", channel, delivery)
        return again.answer

    task = asyncio.ensure_future(whole())
    task.add_done_callback(_retrieve_outcome)
    return await asyncio.shield(task)


async def saved_turn(request: Request, sender: str, message_id: str, collector: OutputChannel) -> bool:
    """Whether the conversation already holds the patient message
    ``message_id`` (a receiver saved the turn and died before its answer was
    kept); if so, what the bot said to it is sent to ``collector`` again."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return False
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return False
    found = False
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = event.message_id == message_id
        elif found and isinstance(event, BotUttered):
            await collector.send_response(sender, event.message())
    if found:
        logger.warning("the turn %s of %s was saved by a receiver that died before answering: its answer is given, "
                       "the turn is not run again", message_id, sender)
    return found
