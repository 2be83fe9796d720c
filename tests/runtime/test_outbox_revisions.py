"""When a re-plan of a posted document is a revision, and when it is the same document."""

from __future__ import annotations

from ledgerlink import PlannedWrite
from ledgerlink.store import Store


def _posted(store: Store, data: dict) -> None:
    store.outbox.add("qbo", [PlannedWrite(stream="SalesReceipt", key="SalesReceipt:shop/order/1", data=data)], None)
    store.outbox.mark("SalesReceipt:shop/order/1", "done")


def test_a_change_in_private_write_instructions_is_not_a_revision(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        _posted(store, {"TotalAmt": "10.00", "Line": [{"Amount": "10.00"}]})
        # the same document, now carrying a write-time look-up block (a newer ledgerlink plans one)
        outcome = store.outbox.add("qbo", [PlannedWrite(
            stream="SalesReceipt", key="SalesReceipt:shop/order/1",
            data={"TotalAmt": "10.00", "Line": [{"Amount": "10.00"}], "_ledgerlink": {"unless_posted": ["x"]}})], None)
        assert (outcome.unchanged, outcome.revised) == (1, 0)
        assert store.db.fetchall("SELECT count(*) FROM revisions")[0][0] == 0
    finally:
        store.close()


def test_a_change_in_what_the_document_says_is_held_as_a_revision(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        _posted(store, {"TotalAmt": "10.00", "Line": [{"Amount": "10.00"}]})
        outcome = store.outbox.add("qbo", [PlannedWrite(
            stream="SalesReceipt", key="SalesReceipt:shop/order/1",
            data={"TotalAmt": "12.00", "Line": [{"Amount": "12.00"}], "_ledgerlink": {}})], None)
        assert (outcome.unchanged, outcome.revised) == (0, 1)
        assert store.db.fetchall("SELECT status FROM revisions") == [("held",)]
    finally:
        store.close()
