"""The model's NLU (intent classifiers, sentence encoder, DIET, the
entity rules) run in a process of its own beside the Rasa server.

Profiled under `make bench`, a patient message's parse was a third of the
Rasa server's main thread, and on a thread of the same process it still
held the interpreter for most of it: the dialogue of the other
conversations waited.  In a child process it runs on the machine's other
core, and the Rasa server's thread only keeps the dialogue (policies,
action calls, tracker store).  The child loads the same model file
(``rasa.core.agent.Agent.load``) and parses with the same graph, so its
answer is the one the Rasa server would have given (tested).

Faults: the child is started with the server and loads while the server
loads (the server answers as soon as its own copy has loaded, and parses
itself until the child is ready); it dies with the server (the kernel's parent-death signal: a Rasa
server killed with -9 leaves no orphan).  A child that dies or cannot
load is logged; the messages of that moment are parsed in the server
itself, on its NLU thread, as before, and a new child is started; after
``_GIVE_UP_AFTER`` children in a row die before they have loaded, the server
keeps parsing itself and says so in its log.  Nothing is lost or parsed
twice: each message is parsed exactly once, in one place or the other.

NLU_PROCESS=0 keeps the parse in the server (on its NLU thread).
"""
from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Dict, Optional

from selfpay import settings

logger = logging.getLogger(__name__)
# Rasa leaves loggers other than its own at WARNING: the child's start is said in the server's log
logger.setLevel(logging.INFO)
# what the server's log says when its NLU process parses (the bench waits for it)
STARTED = "NLU process {pid} parses this server's messages"

_GIVE_UP_AFTER = 3


def enabled() -> bool:
    """NLU_PROCESS: on unless set to 0 (false, no, off)."""
    return (settings.get("NLU_PROCESS") or "1").strip().lower() not in {"0", "false", "no", "off"}
_RESTART_PAUSE_SECONDS = 2.0

# --- in the child


_processor = None


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: the kernel sends this process SIGKILL when the Rasa server that started it ends."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _load(model: str, parent: int, prepare: Optional[Callable[[], None]]) -> None:
    """The child's start: ``prepare`` (the server's parse-time fixes), then the model loaded as the Rasa
    server loads it."""
    global _processor
    _die_with_parent()
    if os.getppid() != parent:  # the server ended before the signal was asked for
        os._exit(0)
    from rasa.core.agent import Agent

    if prepare is not None:
        prepare()
    _processor = Agent.load(model).processor
    gc.collect()
    gc.freeze()


def _parse(text: str, sender_id: str, input_channel: Optional[str], message_id: Optional[str],
           metadata: Optional[Dict[str, Any]], only_output_properties: bool) -> Dict[str, Any]:
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    message = UserMessage(text, None, sender_id, None, input_channel, message_id, metadata)
    return _processor._parse_message_with_graph(message, DialogueStateTracker.from_events(sender_id, []),
                                                only_output_properties)


# --- in the Rasa server


class NluProcess:
    """The child and what the server does when it is not there."""

    def __init__(self, model: str, prepare: Optional[Callable[[], None]] = None) -> None:
        """``prepare``: a module-level function the child runs before it loads the model."""
        self.model, self.prepare = model, prepare
        self._pool: Optional[ProcessPoolExecutor] = None
        self._ready: Optional[Future] = None
        self._failed_starts = 0
        self._restart_at = 0.0
        self.given_up = False

    def start(self) -> Future:
        """A new child, loading the model; the future is done when it can parse."""
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_load,
                                         initargs=(self.model, os.getpid(), self.prepare))
        self._ready = self._pool.submit(_parse, "hello", "nlu-process-start", None, None, None, True)
        self._ready.add_done_callback(self._say_started)
        return self._ready

    def _say_started(self, ready: Future) -> None:
        if not ready.cancelled() and ready.exception() is None:
            logger.info(STARTED.format(pid=self.pid()))

    def start_future(self) -> Optional[Future]:
        """Done when the child started last can parse (its exception: why it could not)."""
        return self._ready

    def pid(self) -> Optional[int]:
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    def usable(self) -> bool:
        """A child that has loaded and is alive; otherwise a new one is on its way (unless given up)."""
        if self.given_up:
            return False
        if self._ready is not None and self._ready.done():
            if self._ready.exception() is not None:
                self._died(self._ready.exception())
                return False
            self._failed_starts = 0
            return True
        if self._ready is None and time.monotonic() >= self._restart_at:
            self.start()
        return False

    def _died(self, error: BaseException) -> None:
        if self._pool is None:
            return
        pool, self._pool, self._ready = self._pool, None, None
        pool.shutdown(wait=False, cancel_futures=True)
        self._failed_starts += 1
        if self._failed_starts >= _GIVE_UP_AFTER:
            self.given_up = True
            logger.error("NLU process failed %d times in a row (%s): this server parses every message itself from now on",
                         self._failed_starts, error)
        else:
            self._restart_at = time.monotonic() + _RESTART_PAUSE_SECONDS
            logger.warning("NLU process ended (%s): messages are parsed in this server until a new one has loaded",
                           error or type(error).__name__)

    async def parse(self, message, only_output_properties: bool) -> Optional[Dict[str, Any]]:
        """The child's parse of the message, or None when there is no child to ask (the caller parses)."""
        if not self.usable():
            return None
        pool = self._pool
        try:
            future = pool.submit(_parse, message.text, message.sender_id, message.input_channel, message.message_id,
                                 message.metadata, only_output_properties)
            parsed = await asyncio.wrap_future(future)
        except (BrokenProcessPool, RuntimeError) as error:
            # the child died with this message (or before it): it was not parsed there, the caller parses it
            if self._pool is pool:
                self._died(error)
            return None
        except Exception as error:  # noqa: BLE001 - the server's own parse gives Rasa's answer (or error) for it
            logger.warning("NLU process could not parse a message (%s): parsed in this server", error)
            return None
        return parsed

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
