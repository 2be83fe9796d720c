"""Incremental by file: an unchanged file is skipped, an appended file yields only its new rows, a rewritten
file is read again; a STATE follows each file."""

from __future__ import annotations

import os

from files_helpers import write


def _touch_later(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_unchanged_files_are_skipped_and_appended_rows_alone_are_read(tmp_path, read, stream_config):
    a = write(tmp_path / "in" / "a.csv", "SKU,Qty\nA,1\nB,2\n")
    b = write(tmp_path / "in" / "b.csv", "SKU,Qty\nC,3\n")
    config = stream_config("in/*.csv")
    first = read(config)
    assert [(r["_file"], r["_line"]) for r in first.records] == [(str(a), 2), (str(a), 3), (str(b), 2)]
    # a STATE after each file, each naming the files read so far
    assert [sorted(s.stream.stream_state.model_dump()["files"]) for s in first.states][:2] == [[str(a)], [str(a), str(b)]]

    second = read(config, first.state)
    assert second.records == []

    with open(a, "a") as f:
        f.write("D,4\nE,5\n")
    third = read(config, second.state)
    assert [(r["SKU"], r["_line"]) for r in third.records] == [("D", 4), ("E", 5)]  # header remembered
    assert read(config, third.state).records == []


def test_a_touched_but_unchanged_file_yields_nothing(tmp_path, read, stream_config):
    a = write(tmp_path / "a.csv", "SKU\nA\n")
    config = stream_config("a.csv")
    first = read(config)
    _touch_later(a)
    assert read(config, first.state).records == []


def test_a_rewritten_file_is_read_again_from_the_top(tmp_path, read, stream_config):
    a = write(tmp_path / "a.csv", "SKU,Qty\nA,1\nB,2\n")
    config = stream_config("a.csv")
    first = read(config)
    write(a, "SKU,Qty\nA,9\nB,2\nC,3\n")
    _touch_later(a)
    again = read(config, first.state)
    assert [(r["SKU"], r["Qty"], r["_line"]) for r in again.records] == [("A", "9", 2), ("B", "2", 3), ("C", "3", 4)]


def test_a_last_line_without_newline_is_read_and_read_whole_when_continued(tmp_path, read, stream_config):
    a = write(tmp_path / "a.jsonl", '{"n": 1}\n{"n": 2}')
    config = stream_config("a.jsonl")
    first = read(config)
    assert [r["n"] for r in first.records] == [1, 2]
    with open(a, "a") as f:
        f.write('\n{"n": 3}\n')
    # the file did not end with a newline: it is read again whole (same keys, so staging replaces rows)
    assert [r["n"] for r in read(config, first.state).records] == [1, 2, 3]


def test_a_new_file_in_the_folder_is_read_and_a_removed_one_leaves_the_state(tmp_path, read, stream_config):
    a = write(tmp_path / "a.jsonl", '{"n": 1}\n')
    config = stream_config("*.jsonl")
    first = read(config)
    write(tmp_path / "b.jsonl", '{"n": 2}\n')
    a.unlink()
    second = read(config, first.state)
    assert [r["n"] for r in second.records] == [2]
    assert list(second.state[0]["stream"]["stream_state"]["files"]) == [str(tmp_path / "b.jsonl")]


def test_state_survives_a_crash_between_files(tmp_path, read, stream_config):
    """The STATE after the first file covers it alone: resuming from it reads only the second file."""
    write(tmp_path / "a.csv", "SKU\nA\n")
    write(tmp_path / "b.csv", "SKU\nB\n")
    config = stream_config("*.csv")
    first = read(config)
    after_a = first.states[0].model_dump(mode="json", exclude_none=True)
    assert [r["SKU"] for r in read(config, [after_a]).records] == ["B"]


def test_a_shortened_file_marks_the_lines_that_no_longer_hold_a_row(tmp_path, read, stream_config):
    a = write(tmp_path / "a.csv", "SKU,Qty\nA,1\nB,2\nC,3\n")
    config = stream_config("a.csv")
    first = read(config)
    write(a, "SKU,Qty\nA,1\nC,3\n")  # B's line removed: C moves up to line 3
    _touch_later(a)
    again = read(config, first.state)
    assert [(r.get("SKU"), r["_line"], r.get("_removed")) for r in again.records] == [
        ("A", 2, None), ("C", 3, None), (None, 4, True)]


def test_with_a_primary_key_a_rewrite_marks_nothing(tmp_path, read, stream_config):
    a = write(tmp_path / "a.csv", "SKU,Qty\nA,1\nB,2\n")
    config = stream_config("a.csv", primary_key=["SKU"])
    first = read(config)
    write(a, "SKU,Qty\nB,2\n")
    _touch_later(a)
    assert [r["SKU"] for r in read(config, first.state).records] == ["B"]
