"""The plan helper works on the next batch while this process writes the outbox (issue 18), and that changes
nothing: not the outbox (rows in the same order, payloads, hashes, dependencies, natural keys, status), audit
rows, dead letters or counts, not what a failed write leaves behind, not where a stopped run resumes.

The helper plans each batch's part as if the outbox held nothing for its keys, before the batch ahead of it is
committed; the parent keeps that plan only if the outbox, read after the commit, holds nothing for those keys.
A second run whose changed orders were planned before breaks that guess batch after batch: the parts are then
planned again (by the helper, or here when another part was already queued behind), with what the outbox
holds.
"""

from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from typing import Any

import pytest

from ledgerlink import json_dumps
from ledgerlink.runtime import normalise as runtime_normalise
from ledgerlink.runtime import plan_workers
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers
from ledgerlink.store import Store
from ledgerlink.store.outbox import EncodedWrite, Outbox, encode_payload

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_qbo.destination import QuickBooksOnlineDestination

from plan_helpers import seeded_runs

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)
STREAM = "orders_2026"


def rerun_heavy(orders: int, seed: int) -> list[list[dict[str, Any]]]:
    """A first run, then one where most orders of the first changed (shipped, cancelled) and some are new: the
    helper's guess that the outbox holds nothing for its part's keys is wrong for most parts of it."""
    first, _ = seeded_runs(orders, seed)
    extra, _ = seeded_runs(orders // 2, seed + 1)
    seen = {r["orderId"] for r in first}
    later = [{**r, "lastUpdatedTime": "2026-03-02T00:00:00Z",
              "fulfillment": {**r["fulfillment"], "fulfillmentStatus": "CANCELLED" if n % 7 == 0 else "SHIPPED"}}
             for n, r in enumerate(first) if "fulfillment" in r]
    later += [r for r in extra if r["orderId"] not in seen]
    return [first, later]


def stage(store: Store, records: list[dict[str, Any]], run_id: int) -> None:
    store.raw.stage(STREAM, [r["orderId"] for r in records], [r.get("lastUpdatedTime") for r in records],
                    [json_dumps(r) for r in records], [None] * len(records), run_id=run_id)


def plan(store: Store, run_id: int, *, batch: int, workers: int, **kwargs: Any) -> dict[str, Any]:
    destination = QuickBooksOnlineDestination()
    normalisers = [n for n in resolve_normalisers(AmazonSellingPartnerSource(), {}) if n.stream == STREAM]
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {}, store=store, destination=destination.name)
    return normalise_and_plan(normalisers, destination, ctx, store, run_id=run_id, batch=batch, workers=workers,
                              **kwargs)


def state(store: Store) -> tuple[Any, ...]:
    outbox = store.db.fetchall("SELECT key, stream, data, payload_hash, depends_on, status, natural_key, planned_run "
                               "FROM outbox ORDER BY seq")
    audit = store.db.fetchall("SELECT * FROM audit ORDER BY ALL")
    dead = store.db.fetchall("SELECT * EXCLUDE (id, created_at, updated_at) FROM dead_letters ORDER BY ALL")
    return outbox, audit, dead


def planned(path: Any, runs: list[list[dict[str, Any]]], *, batch: int, workers: int, columnar: bool,
            monkeypatch: Any) -> tuple[Any, ...]:
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "1" if columnar else "0")
    store = Store(path)
    counts = []
    for run_id, records in enumerate(runs, 1):
        stage(store, records, run_id)
        counts.append(plan(store, run_id, batch=batch, workers=workers))
    out = (*state(store), counts)
    store.close()
    return out


@pytest.fixture
def calls(monkeypatch) -> dict[str, int]:
    """How the helper's parts went: kept as speculated, planned again by the helper, planned here."""
    seen = {"speculated": 0, "held": 0, "replanned": 0, "adopted": 0}
    columnar, holds, replan, adopt = (plan_workers.PlanHelper.columnar, plan_workers.PlanHelper.speculation_holds,
                                      plan_workers.PlanHelper.plan, plan_workers.PlanHelper.adopt)

    def counting_columnar(self: Any, index: int, rows: Any, *, speculate: bool = False) -> bool:
        seen["speculated"] += speculate
        return columnar(self, index, rows, speculate=speculate)

    def counting_holds(*args: Any) -> bool:
        held = holds(*args)
        seen["held"] += held
        return held

    def counting_plan(self: Any, posted: Any) -> bool:
        seen["replanned"] += 1
        return replan(self, posted)

    def counting_adopt(self: Any, writes: Any, ctx: Any) -> None:
        seen["adopted"] += 1
        adopt(self, writes, ctx)

    monkeypatch.setattr(plan_workers.PlanHelper, "columnar", counting_columnar)
    monkeypatch.setattr(plan_workers.PlanHelper, "speculation_holds", staticmethod(counting_holds))
    monkeypatch.setattr(plan_workers.PlanHelper, "plan", counting_plan)
    monkeypatch.setattr(plan_workers.PlanHelper, "adopt", counting_adopt)
    return seen


@pytest.mark.slow
def test_a_second_run_of_changed_orders_plans_alike_when_the_helpers_guess_fails(tmp_path, monkeypatch, calls):
    runs = rerun_heavy(700, 13)
    reference = planned(tmp_path / "reference.duckdb", runs, batch=250, workers=1, columnar=False,
                        monkeypatch=monkeypatch)
    assert calls["speculated"] == 0
    overlapped = planned(tmp_path / "overlapped.duckdb", runs, batch=250, workers=2, columnar=True,
                         monkeypatch=monkeypatch)
    outbox, audit, dead, counts = overlapped
    assert {row[1] for row in outbox} >= {"Customer", "Item", "SalesReceipt", "Void"}
    assert counts[1]["planned_unchanged"] > 100 and counts[1]["planned_new"] > 100  # the second run re-planned
    assert calls["held"] >= 2  # the first run's parts were kept as the helper planned them ahead
    assert calls["speculated"] > calls["held"]  # the second run's guesses failed…
    assert calls["replanned"] >= 1  # …and the helper planned those parts again with what the outbox holds
    assert overlapped == reference


def test_a_failed_outbox_write_commits_nothing_after_it_and_the_helper_ends(tmp_path, monkeypatch, calls):
    """The helper is already planning the next batch when a batch's write fails: the run stops there, nothing of
    that batch or later is committed, the helper is ended (not waited for) and the next run plans the rest
    exactly as a run that never failed."""
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "1")
    runs = seeded_runs(900, 21)[:1]
    clean = planned(tmp_path / "clean.duckdb", runs, batch=220, workers=1, columnar=True, monkeypatch=monkeypatch)
    store = Store(tmp_path / "failed.duckdb")
    stage(store, runs[0], 1)
    add = Outbox.add
    writes_seen: list[int] = []

    def failing_second(self: Any, destination: str, writes: Any, run_id: Any) -> Any:
        writes_seen.append(len(writes))
        if len(writes_seen) == 2:
            raise RuntimeError("disk full")
        return add(self, destination, writes, run_id)

    monkeypatch.setattr(Outbox, "add", failing_second)
    with pytest.raises(RuntimeError, match="disk full"):
        plan(store, 1, batch=220, workers=2)
    assert calls["speculated"] >= 2  # the part of the batch after the failing one was already with the helper
    assert not multiprocessing.active_children()
    first_batch = store.db.fetchall("SELECT seq FROM raw_orders_2026 ORDER BY seq LIMIT 220")[-1][0]
    assert store.normalise_cursor(STREAM) == first_batch
    committed = store.db.fetchall("SELECT key FROM outbox ORDER BY seq")
    assert committed == [(row[0],) for row in clean[0][:len(committed)]] and 0 < len(committed) < len(clean[0])
    monkeypatch.setattr(Outbox, "add", add)
    plan(store, 1, batch=220, workers=2)
    assert state(store) == clean[:3]
    store.close()


def test_a_run_stopped_with_a_part_ahead_resumes_where_it_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "1")
    runs = seeded_runs(900, 22)[:1]
    clean = planned(tmp_path / "clean.duckdb", runs, batch=220, workers=1, columnar=True, monkeypatch=monkeypatch)
    store = Store(tmp_path / "stopped.duckdb")
    stage(store, runs[0], 1)
    counts = plan(store, 1, batch=220, workers=2, should_stop=lambda: True)
    assert counts["stopped"] and not multiprocessing.active_children()
    plan(store, 1, batch=220, workers=2)
    assert state(store) == clean[:3]
    store.close()


def test_an_encoded_write_stores_what_the_planned_write_stores(tmp_path):
    """What the helper hands back (JSON text, hash, audit rows) lands in the outbox as the write itself would."""
    from decimal import Decimal

    from ledgerlink import PlannedWrite
    from ledgerlink.commerce import SourceRef

    data = {"Line": [{"Amount": Decimal("10.10"), "Qty": 1}], "CustomerRef": {"value": "Ann"}, "Note": "é"}
    write = PlannedWrite(stream="SalesReceipt", key="SalesReceipt:1", data=data, depends_on=["Customer:1"],
                         source_refs=[SourceRef(stream="orders", key="1")],
                         line_refs=[(0, SourceRef(stream="orders", key="1/a"))], natural_key="amazon_sp/order/1")
    encoded = EncodedWrite.of(write, encode_payload(data))
    assert encoded.payload_hash == write.payload_hash and encoded.data == data
    stored = []
    for name, w in (("planned", write), ("encoded", encoded)):
        store = Store(tmp_path / f"{name}.duckdb")
        store.outbox.add("qbo", [w], run_id=1)
        stored.append((store.db.fetchall("SELECT key, stream, data, payload_hash, depends_on, natural_key FROM outbox"),
                       store.db.fetchall("SELECT * FROM audit ORDER BY ALL")))
        store.close()
    assert stored[0] == stored[1] and stored[0][1]


@pytest.mark.parametrize("waited", [False, True])
def test_the_split_moves_towards_the_process_that_waited_and_any_split_plans_alike(tmp_path, monkeypatch, calls,
                                                                                   waited):
    """Each batch the parent plans a part more when it waited for the helper, a part less when it did not, within
    bounds; the part already sent ahead keeps the split it was sent with, and whatever the splits, the outbox
    is the one-process outbox."""
    shared = runtime_normalise._Ahead(None, 0)  # type: ignore[arg-type]
    monkeypatch.setattr(runtime_normalise, "FIXED_SHARE", False)
    start = shared.share
    shared.balance(True)
    assert shared.share == pytest.approx(start + runtime_normalise._SHARE_STEP)
    for _ in range(40):
        shared.balance(False)
    assert shared.share == runtime_normalise._MIN_SHARE
    for _ in range(40):
        shared.balance(True)
    assert shared.share == runtime_normalise._MAX_SHARE

    runs = seeded_runs(1200, 31)[:1]
    reference = planned(tmp_path / "reference.duckdb", runs, batch=300, workers=1, columnar=False,
                        monkeypatch=monkeypatch)
    receive = plan_workers.PlanHelper._receive
    splits: list[int] = []
    take = runtime_normalise._Ahead.take

    def timed(self: Any) -> Any:
        answer = receive(self)
        self.waited = waited  # as if the timing said so, every time
        return answer

    def recording(self: Any, rows: Any) -> Any:
        out = take(self, rows)
        splits.append(out[2])
        return out

    monkeypatch.setattr(plan_workers.PlanHelper, "_receive", timed)
    monkeypatch.setattr(runtime_normalise._Ahead, "take", recording)
    assert planned(tmp_path / "moving.duckdb", runs, batch=300, workers=2, columnar=True,
                   monkeypatch=monkeypatch) == reference
    assert len(set(splits)) >= 3  # the split moved from batch to batch…
    assert calls["adopted"] >= 3  # …while the helper's parts, sent ahead, were kept
