"""The reference cache: entries can be forgotten and annotated, in a state file and in memory alike."""

from __future__ import annotations

import duckdb
import pytest

from ledgerlink.connectors import WriteContext
from ledgerlink.store import Store


@pytest.fixture(params=["state file", "memory"])
def refs(request, tmp_path):
    if request.param == "memory":
        yield WriteContext().references
        return
    store = Store(tmp_path / "state.duckdb")
    yield store.references("qb_desktop")
    store.close()


def test_a_deleted_entry_is_gone_and_deleting_it_again_says_so(refs):
    refs.put("Customer", "Ada", "80000001-1", "1700000000")
    assert refs.delete("Customer", "Ada") is True
    assert refs.get("Customer", "Ada") is None
    assert refs.delete("Customer", "Ada") is False


def test_a_note_stays_on_its_entry_until_cleared_and_goes_with_it(refs):
    assert refs.annotate("contact", "file-1", "sendRequestXML") is False  # no entry to annotate
    refs.put("contact", "file-1", "2026-12-07T00:00:00+00:00")
    assert refs.annotate("contact", "file-1", "sendRequestXML") is True
    refs.put("contact", "file-1", "2026-12-07T00:05:00+00:00")  # a new value keeps the note
    assert (refs.get("contact", "file-1"), refs.note("contact", "file-1")) == \
        ("2026-12-07T00:05:00+00:00", "sendRequestXML")
    refs.annotate("contact", "file-1", None)
    assert refs.note("contact", "file-1") is None
    refs.annotate("contact", "file-1", "closeConnection")
    refs.delete("contact", "file-1")
    refs.put("contact", "file-1", "again")
    assert refs.note("contact", "file-1") is None


def test_deleting_in_one_destination_leaves_another_alone(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        store.references("qbo").put("Item", "SKU-1", "7")
        store.references("qb_desktop").put("Item", "SKU-1", "80000007-1")
        store.references("qbo").delete("Item", "SKU-1")
        assert store.references("qb_desktop").get("Item", "SKU-1") == "80000007-1"
        assert store.references("qbo").get("Item", "SKU-1") is None
    finally:
        store.close()


def test_a_state_file_from_before_notes_gains_the_column_when_opened(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE refs (destination VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL, "
                "ref_id VARCHAR NOT NULL, version VARCHAR, updated_at TIMESTAMP NOT NULL, "
                "PRIMARY KEY (destination, kind, name))")
    con.execute("INSERT INTO refs VALUES ('qbo', 'Item', 'SKU-1', '7', NULL, now())")
    con.close()
    store = Store(path)
    try:
        refs = store.references("qbo")
        assert refs.get("Item", "SKU-1") == "7"
        assert refs.annotate("Item", "SKU-1", "merged into SKU-2") is True
        assert refs.note("Item", "SKU-1") == "merged into SKU-2"
    finally:
        store.close()
