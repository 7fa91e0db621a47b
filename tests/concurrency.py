"""Requests at the same moment, for the tests that prove a limit holds
under concurrency: each worker gets its own thread (and opens its own
session or connection); a barrier releases them together."""
from __future__ import annotations

import threading
import time


def at_once(count, work):
    """Run ``work(i)`` in ``count`` threads released together; what each
    returned (or the exception it raised), in order."""
    start, results = threading.Barrier(count), [None] * count

    def run(i):
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def slowed(fn, seconds: float = 0.3):
    """``fn`` after a pause: widens the window between a limit's check and
    its write, as a loaded server would, so a missing lock shows."""

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return fn(*args, **kwargs)

    return slow
