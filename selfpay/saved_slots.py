"""The slots a conversation's turn was saved with, for the channel waiting for that turn.

The voice channel speaks its answer in the conversation's language (the ``language`` slot as the
turn left it).  Reading it back from the tracker store after the turn re-read and replayed the
whole conversation, about 6 ms of the Rasa server's only thread on every voice webhook.  Instead
the channel says it waits (``expect``) before it hands Rasa the message; the tracker store's
save (bot/rasa_stores.py) leaves the saved tracker's slots here for such a conversation only,
and the channel takes them once (``take``).  Nothing saved (the turn failed, or was saved by
another process): ``take`` gives None and the channel reads the store as before.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional

MOST_EXPECTED = 10_000  # a channel that never took its slots (the call was cut off) does not keep them for ever

_lock = threading.Lock()
_expected: "OrderedDict[str, Optional[Dict[str, Any]]]" = OrderedDict()


def expect(sender: str) -> None:
    """The next save of this conversation is waited for (what an earlier save left is forgotten)."""
    with _lock:
        _expected[sender] = None
        _expected.move_to_end(sender)
        while len(_expected) > MOST_EXPECTED:
            _expected.popitem(last=False)


def saved(sender: str, slots: Callable[[], Dict[str, Any]]) -> None:
    """The tracker store saved this conversation with ``slots()`` (asked for only when a channel waits)."""
    with _lock:
        if sender in _expected:
            _expected[sender] = dict(slots())


def take(sender: str) -> Optional[Dict[str, Any]]:
    """The slots of the save a channel waited for, once; None when there was none."""
    with _lock:
        return _expected.pop(sender, None)
