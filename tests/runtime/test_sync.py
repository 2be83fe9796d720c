"""The runtime end to end on in-memory connectors: staging, state, normalise, plan, write, dead letters."""

from __future__ import annotations

import fakes
import pytest

from ledgerlink.errors import PipelineBusyError
from ledgerlink.runtime import sync
from ledgerlink.store import Store


def test_first_sync_posts_every_order_once(fake_host, make_pipeline):
    report = sync(make_pipeline(orders=7), plugin_host=fake_host)
    assert report.status == "succeeded", report.errors
    assert report.counts["read"] == {"orders": 7, "order_lines": 7}
    assert report.counts["created"] == {"Customer": 1, "Receipt": 7}
    assert len(fakes.REMOTE["Receipt"]) == 7
    receipt = fakes.REMOTE["Receipt"]["O-0001"]
    assert str(receipt["Total"]) == "19.98" and receipt["Line"][0]["ItemRef"] == {"name": "SKU-1"}


def test_second_sync_creates_nothing(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=7)
    sync(pipeline, plugin_host=fake_host)
    again = sync(pipeline, plugin_host=fake_host)
    assert again.counts.get("created") == {}
    assert again.counts["read_total"] == 0  # the cursor moved on
    assert len(fakes.REMOTE["Receipt"]) == 7


def test_state_only_advances_with_staged_records(fake_host, make_pipeline, tmp_path):
    report = sync(make_pipeline(orders=6, fail_after=3), plugin_host=fake_host)
    assert report.status == "failed" and "connection reset" in report.errors[0]
    store = Store(tmp_path / "state.duckdb")
    # records 0..2 were emitted; a checkpoint followed record 1, so state covers exactly those
    assert store.source_state()["orders"] == {"updated": "2026-01-02T00:00:00Z"}
    assert store.raw.count("orders") == 3  # the third record is staged, just not covered by state
    store.close()
    # the records that were staged were still posted: one failed stream never loses the rest of the run
    assert len(fakes.REMOTE["Receipt"]) == 3
    resumed = sync(make_pipeline(orders=6), plugin_host=fake_host)
    assert resumed.status == "succeeded"
    assert len(fakes.REMOTE["Receipt"]) == 6


def test_bad_record_is_a_dead_letter_and_the_rest_go_through(fake_host, make_pipeline, tmp_path):
    report = sync(make_pipeline(orders=5, no_sku=[2]), plugin_host=fake_host)
    assert report.counts["normalise_dead_letters"] == 1
    assert report.exit_code == 3
    assert len(fakes.REMOTE["Receipt"]) == 4
    store = Store(tmp_path / "state.duckdb")
    [letter] = store.dead_letters.list()
    assert letter.stage == "normalise" and letter.record_key == "O-0002"
    assert "sku" in letter.message and letter.hint == "give the product a SKU"
    assert letter.record["id"] == "O-0002"
    store.close()


def test_permanent_write_failure_is_dead_lettered_once_transient_is_retried(fake_host, make_pipeline, tmp_path):
    fakes.FAILURES["Receipt:fake/order/O-0001"] = "permanent"
    fakes.FAILURES["Receipt:fake/order/O-0002"] = "transient"
    pipeline = make_pipeline(orders=4)
    first = sync(pipeline, plugin_host=fake_host)
    assert first.counts["write_dead_letters"] == 1 and first.counts["retry_later"] == 1
    fakes.FAILURES.clear()
    second = sync(pipeline, plugin_host=fake_host)
    assert second.counts["created"] == {"Receipt": 1}  # the transient one; the dead one waits for `dlq retry`
    store = Store(tmp_path / "state.duckdb")
    [letter] = store.dead_letters.list()
    assert letter.stage == "write" and letter.error_kind == "permanent" and "2020" in letter.message
    store.outbox.mark(letter.record_key, "pending")
    store.close()
    third = sync(pipeline, plugin_host=fake_host)
    assert third.counts["created"] == {"Receipt": 1}
    assert third.counts["dead_letters_open"] == 0  # resolved once it went through
    assert len(fakes.REMOTE["Receipt"]) == 4


def test_dependents_wait_for_their_references(fake_host, make_pipeline):
    fakes.FAILURES["Customer:Fake Store USD"] = "permanent"
    report = sync(make_pipeline(orders=3), plugin_host=fake_host)
    assert report.counts["blocked"] == 3
    assert "Receipt" not in fakes.REMOTE


def test_dry_run_changes_nothing(fake_host, make_pipeline, tmp_path):
    pipeline = make_pipeline(orders=3)
    report = sync(pipeline, dry_run=True, plugin_host=fake_host)
    assert report.would_write["Receipt"]["count"] == 3
    assert report.would_write["Receipt"]["examples"][0]["DocNumber"] == "O-0000"
    assert fakes.REMOTE == {}
    store = Store(tmp_path / "state.duckdb")
    assert store.raw.count("orders") == 0 and store.runs.list() == [] and store.source_state() == {}
    store.close()


def test_changed_source_after_posting_is_held_not_rewritten(fake_host, make_pipeline):
    pipeline = make_pipeline(orders=2)
    sync(pipeline, plugin_host=fake_host)
    # the same orders come back with a later stamp: same documents, different payload (TxnDate unchanged here,
    # so only the plan hash is compared: the receipt is the same and nothing is held)
    again = sync(make_pipeline(orders=2, revision=5), plugin_host=fake_host)
    assert again.counts["planned_unchanged"] >= 2 and again.counts.get("changed_after_posting", 0) == 0


def test_audit_traces_rows_to_documents_and_back(fake_host, make_pipeline, tmp_path):
    sync(make_pipeline(orders=2), plugin_host=fake_host)
    store = Store(tmp_path / "state.duckdb")
    forward = store.trace("order_lines", "O-0001/1")
    # the row is one of the document's sources, and the source of its line 0
    assert [(t["key"], t["line"], t["status"]) for t in forward] == [
        ("Receipt:fake/order/O-0001", 0, "done"), ("Receipt:fake/order/O-0001", None, "done")]
    assert forward[0]["destination_id"]
    back = store.sources_of("Receipt:fake/order/O-0001")
    assert {"line": None, "stream": "orders", "key": "O-0001"} in back
    assert {"line": 0, "stream": "order_lines", "key": "O-0001/1"} in back
    store.close()


def test_second_process_gets_pipeline_busy(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from ledgerlink.store import Store
        s = Store({str(path)!r}); print("ready", flush=True); sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(PipelineBusyError) as err:
            Store(path)
        assert "pipeline is busy" in str(err.value) and "PID" in str(err.value)
    finally:
        holder.communicate("")


def test_secrets_never_reach_the_state_file(fake_host, make_pipeline, tmp_path):
    sync(make_pipeline(orders=2), plugin_host=fake_host)
    raw = (tmp_path / "state.duckdb").read_bytes()
    assert b"fake-api-key-123" not in raw and b"fake-dest-token-456" not in raw


def test_mappings_can_look_up_staged_records(fake_host, make_pipeline, tmp_path):
    template = tmp_path / "receipt.json.j2"
    template.write_text('{"DocNumber": {{ order.order_id }}, '
                        '"Buyer": {{ lookup("orders", order.order_id)["buyer"] }}, "CustomerRef": {"name": "x"}}')
    sync(make_pipeline(orders=2), plugin_host=fake_host)
    assert fakes.REMOTE["Receipt"]["O-0001"]["Buyer"] == "buyer1@example.com"
