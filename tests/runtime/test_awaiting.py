"""Writes confirmed later (QuickBooks Desktop's Web Connector): queued, then settled by the plugin's web app."""

from __future__ import annotations

import fakes

from ledgerlink import PermanentError
from ledgerlink.runtime import sync
from ledgerlink.store import Store


def test_awaiting_writes_are_settled_later_and_unblock_dependents(fake_host, make_pipeline, tmp_path):
    fakes.FAILURES["Customer:Fake Store USD"] = "awaiting"
    pipeline = make_pipeline(orders=2)
    first = sync(pipeline, plugin_host=fake_host)
    assert first.counts["awaiting_confirmation"] == 1 and first.counts["blocked"] == 2
    store = Store(tmp_path / "state.duckdb")
    queue = store.awaiting("fake_dest")
    [waiting] = queue.list()
    assert waiting.key == "Customer:Fake Store USD" and waiting.data == {"DisplayName": "Fake Store USD"}
    queue.confirm(waiting.key, "80000001-1234567890", "1")
    assert queue.count() == 0
    store.close()
    second = sync(pipeline, plugin_host=fake_host)
    assert second.counts["created"] == {"Receipt": 2}
    store = Store(tmp_path / "state.duckdb")
    assert store.db.fetchone("SELECT destination_id FROM results WHERE key = ?", [waiting.key])[0] == "80000001-1234567890"
    store.close()


def test_a_refused_awaiting_write_becomes_a_dead_letter_or_goes_back(fake_host, make_pipeline, tmp_path):
    fakes.FAILURES["Receipt:fake/order/O-0000"] = "awaiting"
    fakes.FAILURES["Receipt:fake/order/O-0001"] = "awaiting"
    sync(make_pipeline(orders=2), plugin_host=fake_host)
    store = Store(tmp_path / "state.duckdb")
    queue = store.awaiting("fake_dest")
    queue.fail("Receipt:fake/order/O-0000", PermanentError("QuickBooks statusCode 3140: invalid reference", code="3140"))
    queue.fail("Receipt:fake/order/O-0001", PermanentError("QuickBooks statusCode 3170: record in use"), retry=True)
    [letter] = store.dead_letters.list()
    assert letter.record_key == "Receipt:fake/order/O-0000" and "3140" in letter.message
    assert store.outbox.get("Receipt:fake/order/O-0001")["status"] == "pending"
    store.close()
