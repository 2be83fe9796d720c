"""The interpreter's settings while records are read and staged (`reading_tuned`).

A read runs three threads that take turns at the GIL: the reader parsing pages, the flusher handing batches to
DuckDB, and the HTTP sender. DuckDB asks for the GIL back many times within one statement, and under the default
5 ms switch interval each of those asks waits for the reader's turn to end: on the anchor benchmark, staging took
three times as long beside a busy reader as alone. A 1 ms interval gives most of that back.

A read also allocates about ten small tracked objects per record (the record, its message, their dicts), which
runs the cyclic garbage collector's young generation every 70 records and its older ones after that, walking
objects that are alive only until their page is staged. Collecting the young generation every 10,000
allocations instead costs a few megabytes at most and saves a tenth of the read's CPU
(docs/reference/performance.md, "Issue 18, session 7").

Both are process-wide, so reads that overlap (the fleet's worker threads, `serve`) share one setting: the first
read in sets it, the last one out puts back what was there.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator

__all__ = ["reading_tuned", "READ_SWITCH_INTERVAL_S", "READ_GC_THRESHOLD"]

#: seconds a thread holds the GIL before another that waits for it gets its turn (Python's default: 0.005)
READ_SWITCH_INTERVAL_S = 0.001
#: the garbage collector's thresholds while reading (Python's default: 700, 10, 10)
READ_GC_THRESHOLD = (10_000, 10, 10)

_lock = threading.Lock()
_readers = 0
_saved: tuple[float, tuple[int, int, int]] | None = None


@contextlib.contextmanager
def reading_tuned() -> Iterator[None]:
    """The read's switch interval and collector thresholds for the duration, restored after the last read."""
    global _readers, _saved
    with _lock:
        if _readers == 0:
            _saved = (sys.getswitchinterval(), gc.get_threshold())
            sys.setswitchinterval(READ_SWITCH_INTERVAL_S)
            gc.set_threshold(*READ_GC_THRESHOLD)
        _readers += 1
    try:
        yield
    finally:
        with _lock:
            _readers -= 1
            if _readers == 0 and _saved is not None:
                interval, threshold = _saved
                sys.setswitchinterval(interval)
                gc.set_threshold(*threshold)
                _saved = None
