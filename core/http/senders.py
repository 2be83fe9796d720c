"""The threads `HttpClient.request_soon` sends on (`Senders`).

A thread started per page made the reader wait, each page, for the new thread to be scheduled (`Thread.start`
returns only once it runs): a sixth of the reader's samples on a busy machine. These threads are started when
needed and kept. They are daemon threads, as the per-page ones were: a request still travelling (or waiting to
retry) never holds up the process's exit after a stop (SIGTERM, Ctrl-C); a standard thread pool's threads are
joined at exit. They end when the client is closed or garbage-collected (a plugin need not close its client).
"""

from __future__ import annotations

import queue
import threading
import weakref
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["Senders"]

_STOP = None


class _Pool:
    """What the threads share (never the `Senders` itself, so an unclosed client can still be collected)."""

    __slots__ = ("work", "lock", "threads", "idle", "queued", "limit", "name")

    def __init__(self, limit: int, name: str):
        self.work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.threads = self.idle = self.queued = 0
        self.limit, self.name = limit, name


def _serve(pool: _Pool) -> None:
    while True:
        with pool.lock:
            pool.idle += 1
        item = pool.work.get()
        with pool.lock:
            pool.idle -= 1
            if item is _STOP:
                pool.threads -= 1
                return
            pool.queued -= 1
        future, send = item
        if not future.set_running_or_notify_cancel():
            continue
        try:
            result = send()
        except BaseException as exc:  # noqa: BLE001 — handed to whoever asks for the result
            future.set_exception(exc)
        else:
            future.set_result(result)
        del item, future, send


def _stop(pool: _Pool) -> None:
    with pool.lock:
        count = pool.threads
    for _ in range(count):
        pool.work.put(_STOP)


class Senders:
    """Up to `limit` kept daemon threads running what `submit` hands them, in order; one more is started only
    when everything queued would otherwise wait (one reader's prefetch never waits behind another's)."""

    def __init__(self, limit: int = 4, name: str = "ledgerlink-http"):
        self._pool = _Pool(limit, name)
        self._finalizer = weakref.finalize(self, _stop, self._pool)

    def submit(self, send: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        pool = self._pool
        with pool.lock:
            pool.queued += 1
            start = pool.queued > pool.idle and pool.threads < pool.limit
            if start:
                pool.threads += 1
        if start:
            threading.Thread(target=_serve, args=(pool,), name=pool.name, daemon=True).start()
        pool.work.put((future, send))
        return future

    def close(self) -> None:
        """Let the threads end once what they run now is done (nothing waits for them)."""
        self._finalizer()
