"""A 100,000-row settlement that cannot be posted exactly is held (a dead letter) without running the store out of
memory: the letter keeps a summary and where the settlement is staged, not its 40 MB, and later syncs go on."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.plugins import host
from ledgerlink.runtime import sync
from ledgerlink.sandbox import running
from ledgerlink.store import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "settlements"))

from settlement_helpers import order_rows, settlement  # noqa: E402

SID = "24999999902"
ROWS = 100_000


def _settlement_file(path: Path, rows: int, *, off_by: str) -> None:
    """A Flat File V2 settlement of `rows` detail rows whose header total is `off_by` away from their sum."""
    from ledgerlink_amazon_sp.sandbox.seed_settlements import render_v2

    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    end = start + timedelta(days=14)
    out: list[dict[str, str]] = []
    for n in range(rows // 2):
        when = start + timedelta(seconds=n * 7)
        ids = {"settlement-id": SID, "transaction-type": "Order", "order-id": f"111-{n:07d}-0000001",
               "marketplace-name": "Amazon.com", "fulfillment-id": "AFN", "order-item-code": f"{n:014d}",
               "sku": f"SKU-{n % 500:03d}", "quantity-purchased": "1", "posted-date": when.strftime("%m/%d/%y"),
               "posted-date-time": when.strftime("%Y-%m-%d %H:%M:%S UTC")}
        out.append({**ids, "amount-type": "ItemPrice", "amount-description": "Principal", "amount": "20.00"})
        out.append({**ids, "amount-type": "ItemFees", "amount-description": "Commission", "amount": "-3.00"})
    total = sum((Decimal(r["amount"]) for r in out), Decimal(0)) + Decimal(off_by)
    summary = {"settlement-id": SID, "settlement-start-date": start.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
               "settlement-end-date": end.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
               "deposit-date": (end + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
               "total-amount": f"{total:.2f}", "currency": "USD"}
    path.write_text(render_v2(summary, out))


@pytest.mark.slow
def test_a_100000_row_settlement_that_does_not_add_up_is_held_and_later_syncs_go_on(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERLINK_DUCKDB_MEMORY", raising=False)  # the store's default limit (128MB)
    file = tmp_path / "settlement.txt"
    _settlement_file(file, ROWS, off_by="0.05")
    sandboxes = host().sandboxes()
    with running(sandboxes["amazon_sp"](orders=0, time_scale=100000)) as amazon, \
            running(sandboxes["qbo"](time_scale=100000)) as qbo:
        pipeline_file = tmp_path / "amazon-settlements-to-qbo.yaml"
        pipeline_file.write_text(resources.files("ledgerlink").joinpath("data", pipeline_file.name).read_text())
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": amazon,
               "AMAZON_LWA_ENDPOINT": f"{amazon}/auth/o2/token", "QBO_BASE_URL": qbo,
               "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REQUESTS_PER_MINUTE": "5000000",
               "QBO_BATCH_REQUESTS_PER_MINUTE": "400000"}
        pipeline = load_pipeline(pipeline_file, env=env)
        pipeline.source.config.update(settlement_files=[str(file)], settlement_reports=False)
        first = sync(pipeline)
        assert first.status == "succeeded", first.errors
        assert first.counts["dead_letters_open"] == 1 and first.exit_code == 3
        assert not first.counts.get("created")  # nothing of a held settlement is posted
        second = sync(pipeline)  # every later sync goes on (it used to run out of memory here, for ever)
        assert second.status == "succeeded", second.errors

    store = Store(tmp_path / "state.duckdb")
    try:
        [letter] = store.dead_letters.list()
        stored = store.db.fetchone("SELECT length(record::VARCHAR) FROM dead_letters WHERE id = ?", [letter.id])[0]
    finally:
        store.close()
    assert letter.stream == "settlements" and letter.record_key == SID
    assert "total-amount" in letter.message
    assert stored < 256 << 10  # a summary, not the 40 MB record
    note = letter.record["_truncated"]
    assert note["chars"] > 10_000_000
    assert note["where"] == {"staged": {"stream": "settlements", "key": SID}}
    assert letter.record["settlement_id"] == SID


@pytest.mark.slow
def test_a_held_canonical_settlement_keeps_its_source_and_can_be_planned_again(tmp_path):
    """The plan stage's letter for a settlement of 100,000 lines: kilobytes, still naming where it came from,
    so `dlq retry` can plan it again."""
    lines = []
    while len(lines) < ROWS:
        lines += order_rows(len(lines) + 1, f"111-{len(lines):07d}", "10.00")
    held = settlement(lines, total="1.00", sid=SID)
    store = Store(tmp_path / "state.duckdb")
    try:
        store.raw.stage("settlement_reports", [SID], [None], [json.dumps({"settlement_id": SID})], [None], 1)
        letter_id = store.dead_letters.add(stage="plan", stream="settlement_reports", record_key=held.natural_key,
                                           record=held.model_dump(mode="python"), run_id=1,
                                           error=ValueError("settlement on hold: rows do not add up"))
        letter = store.dead_letters.get(letter_id)
        stored = store.db.fetchone("SELECT length(record::VARCHAR) FROM dead_letters WHERE id = ?", [letter_id])[0]
        assert stored < 256 << 10
        assert letter.record["source_refs"] == [{"stream": "settlement_reports", "key": SID}]
        assert f"{len(lines):,} in all" in letter.record["lines"][-1]  # the first lines, then how many more
        assert store.requeue(letter) == "will be planned again on the next sync"
    finally:
        store.close()
