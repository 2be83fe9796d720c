"""While records are read the GIL switch interval is short and the young generation larger; afterwards both are
what they were, also when reads overlap (the fleet's threads) and when a read fails."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

from ledgerlink.runtime.read_tuning import READ_GC_THRESHOLD, READ_SWITCH_INTERVAL_S, reading_tuned


def test_a_read_is_tuned_and_what_was_there_comes_back():
    before = (sys.getswitchinterval(), gc.get_threshold())
    with reading_tuned():
        assert sys.getswitchinterval() == pytest.approx(READ_SWITCH_INTERVAL_S)
        assert gc.get_threshold() == READ_GC_THRESHOLD
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def test_overlapping_reads_keep_the_tuning_until_the_last_one_ends():
    before = (sys.getswitchinterval(), gc.get_threshold())
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    during: list[tuple[float, tuple[int, int, int]]] = []

    def second() -> None:
        first_in.wait()
        with reading_tuned():
            second_in.set()
            first_out.wait()
            during.append((sys.getswitchinterval(), gc.get_threshold()))

    thread = threading.Thread(target=second)
    thread.start()
    with reading_tuned():
        first_in.set()
        second_in.wait()
    first_out.set()  # the first read has ended; the second is still reading
    thread.join()
    assert during == [(pytest.approx(READ_SWITCH_INTERVAL_S), READ_GC_THRESHOLD)]
    assert (sys.getswitchinterval(), gc.get_threshold()) == before


def test_a_failed_read_puts_the_settings_back():
    before = (sys.getswitchinterval(), gc.get_threshold())
    with pytest.raises(RuntimeError), reading_tuned():
        raise RuntimeError("the source failed")
    assert (sys.getswitchinterval(), gc.get_threshold()) == before
