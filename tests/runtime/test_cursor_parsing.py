"""A stream's `parse_cursor` decides how its cursor compares: in `observe` and in staging, where the newest
version of a record must win even when the API's dates do not sort as text (BigCommerce's RFC 2822)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from ledgerlink import Stream
from ledgerlink.runtime.extract import staged_cursor
from ledgerlink.store import Store


class TextCursor(Stream):
    name: ClassVar[str] = "text"
    primary_key: ClassVar[str] = "id"
    cursor_field: ClassVar[str] = "date_modified"


class Rfc2822Cursor(TextCursor):
    name: ClassVar[str] = "rfc"

    @classmethod
    def parse_cursor(cls, value: Any) -> Any:
        return parsedate_to_datetime(str(value))


# as text "Mon, 15 Jan" sorts before "Tue, 09 Jan": the later date loses
EARLY, LATE = "Tue, 09 Jan 2024 10:00:00 +0000", "Mon, 15 Jan 2024 09:00:00 +0000"


def test_observe_keeps_the_greatest_cursor_as_the_stream_parses_it():
    text, rfc = TextCursor(None), Rfc2822Cursor(None)
    for stream in (text, rfc):
        stream.observe({"id": 1, "date_modified": LATE})
        stream.observe({"id": 2, "date_modified": EARLY})
    assert text.state == {"date_modified": EARLY}  # the default compares text, as before
    assert rfc.state == {"date_modified": LATE}  # the state keeps the API's own value


def test_staged_cursors_sort_as_parsed_times_in_utc():
    a = staged_cursor(Rfc2822Cursor, EARLY)
    b = staged_cursor(Rfc2822Cursor, LATE)
    same_instant = staged_cursor(Rfc2822Cursor, "Mon, 15 Jan 2024 04:00:00 -0500")
    assert a < b and b == same_instant
    assert staged_cursor(TextCursor, EARLY) == EARLY  # unchanged for streams that do not override


def test_an_unreadable_cursor_is_staged_without_one():
    assert staged_cursor(Rfc2822Cursor, "not a date") is None


def test_staging_keeps_the_later_version_of_a_record(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        # the later version arrives first; the earlier one (a late page) must not roll it back
        for version, when in (("later", LATE), ("earlier", EARLY)):
            store.raw.stage("rfc", ["1"], [staged_cursor(Rfc2822Cursor, when)], [f'{{"v": "{version}"}}'], [None], 1)
        assert store.raw.get("rfc", "1") == {"v": "later"}
    finally:
        store.close()
