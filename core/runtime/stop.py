"""Stopping a sync cleanly: SIGTERM (a container being stopped) or Ctrl-C asks the running sync to finish the
batch in hand, commit it, and end; a second signal ends it sooner, but never between a write and its record.

The sync checks `should_stop()` between batches: after each staging flush (records and the STATE covering them
commit together), after each normalise batch, after each written batch (the destination's answer and the
outbox's record of it commit together). What is left is done by the next sync, which resumes from that commit.

A second signal raises `StopNow` at once wherever the main thread is (a report poll's sleep, a page being
read), except inside `shielded()`: a batch being written and recorded, or a flush being committed, which finish
first. Either way the state file holds exactly what was committed, and nothing was posted without its record.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from typing import Any, Callable, Iterator

__all__ = ["StopNow", "stop_requested", "request_stop", "reset", "install_signal_handlers", "shielded",
           "stop_exit_code", "NEVER", "stop_reason"]

log = logging.getLogger("ledgerlink.stop")


class StopNow(BaseException):
    """A second stop signal: end the sync now (a BaseException, so no plugin's `except Exception` swallows it)."""


_requested = threading.Event()
_signal: int | None = None
_urgent = False
#: depth of `shielded()` sections in progress (the main thread's: signal handlers only run there)
_shield_depth = 0


def NEVER() -> bool:  # noqa: N802 — a constant-like default for `should_stop`
    """A `should_stop` that never asks to stop (library calls, tests)."""
    return False


def stop_requested() -> bool:
    """Whether this process was asked to stop (the default `should_stop` of a sync)."""
    return _requested.is_set()


def stop_reason() -> str:
    """The signal's name (`SIGTERM`) or `requested`, for the run's record."""
    return signal.Signals(_signal).name if _signal is not None else "requested"


def request_stop(signum: int | None = None) -> None:
    """Ask the running sync to stop after its current batch (what the first signal does)."""
    global _signal
    if _signal is None and signum is not None:
        _signal = signum
    _requested.set()


def reset() -> None:
    """Forget a stop request (tests; a process that goes on after a stopped sync)."""
    global _signal, _urgent
    _requested.clear()
    _signal, _urgent = None, False


def stop_exit_code() -> int:
    """128 + the signal's number, as a shell reports a process ended by it: 143 for SIGTERM, 130 for SIGINT."""
    return 128 + (_signal if _signal is not None else signal.SIGTERM)


#: whether a second signal may end the main thread at once (not in `serve`, whose syncs run on other threads)
_second_raises = True


def _on_signal(signum: int, frame: Any) -> None:
    global _urgent
    if not _requested.is_set():
        request_stop(signum)
        log.warning("%s received: stopping after the current batch%s", signal.Signals(signum).name,
                    " (send it again to stop sooner)" if _second_raises else "")
        return
    _urgent = True
    if not _second_raises:
        log.warning("%s received again: still waiting for the running syncs to record their batch",
                    signal.Signals(signum).name)
        return
    if _shield_depth:
        log.warning("%s received again: stopping as soon as the batch being written is recorded",
                    signal.Signals(signum).name)
        return
    log.warning("%s received again: stopping now", signal.Signals(signum).name)
    raise StopNow(signal.Signals(signum).name)


def install_signal_handlers(*, second_stops_now: bool = True) -> Callable[[], None]:
    """SIGTERM and SIGINT stop the sync as above (main thread only); returns what puts the old handlers back.
    `second_stops_now=False` (serve: its syncs run on other threads, out of `shielded()`'s reach): a second
    signal is only logged, and the process still waits for every running sync to record its batch."""
    global _second_raises
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    _second_raises = second_stops_now
    old = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        global _second_raises
        _second_raises = True
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return restore


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A section a second signal must not cut (a batch written and then recorded, a commit): the signal's
    `StopNow` is raised when the outermost section ends instead."""
    global _shield_depth
    main = threading.current_thread() is threading.main_thread()
    if main:
        _shield_depth += 1
    try:
        yield
    finally:
        if main:
            _shield_depth -= 1
    if main and _shield_depth == 0 and _urgent:
        raise StopNow(stop_reason())
