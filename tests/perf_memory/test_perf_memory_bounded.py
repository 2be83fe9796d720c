"""What planning holds in memory is bounded by the batch, not by the run (issue 18: flat memory at a million
orders). Counted in entries, not bytes: after every committed batch, the live canonical orders, planned writes
and outbox rows read back, the planner's per-batch look-up of what was posted, and the run's memo of Customers
and Items; a run four times as long holds no more of any of them than a short one."""

from __future__ import annotations

import gc
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest

from ledgerlink import json_dumps
from ledgerlink.commerce import Order
from ledgerlink.connectors import PlannedWrite, PostedDocument
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers
from ledgerlink.runtime.posted import PostedLookup
from ledgerlink.store import Store

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SKUS, SellerBook
from ledgerlink_qbo.destination import QuickBooksOnlineDestination

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)
STREAM = "orders_2026"
BATCH = 25
HELD = (Order, PlannedWrite, PostedDocument)


def _stage(store: Store, orders: int) -> None:
    book = SellerBook(orders, 11, ANCHOR, lines_per_order=2)
    records = [book.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(orders)]
    store.raw.stage(STREAM, [r["orderId"] for r in records], [r.get("lastUpdatedTime") for r in records],
                    [json_dumps(r) for r in records], [None] * len(records), run_id=1)


def _live() -> Counter[str]:
    """Live objects of the kinds a run could pile up, by class name (after a full collection)."""
    gc.collect()
    return Counter(type(o).__name__ for o in gc.get_objects() if isinstance(o, HELD))


def _plan_and_count(tmp_path: Any, orders: int, workers: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Plan `orders` orders `BATCH` at a time; what is held after each batch, and the look-up's size at its
    fullest (just before each batch is forgotten)."""
    store = Store(tmp_path / f"state-{orders}-{workers}.duckdb")
    _stage(store, orders)
    destination = QuickBooksOnlineDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {}, store=store, destination=destination.name)
    normalisers = [n for n in resolve_normalisers(AmazonSellingPartnerSource(), {}) if n.stream == STREAM]
    looked_up: list[int] = []
    end_batch = PostedLookup.end_batch

    def counting_end(self: PostedLookup) -> None:
        looked_up.append(len(self))
        end_batch(self)

    monkeypatch.setattr(PostedLookup, "end_batch", counting_end)
    before = _live()
    after_batches: list[dict[str, int]] = []

    def progress(stage: str, advance: int = 1, total: int | None = None) -> None:
        live = _live() - before
        after_batches.append({**live, "posted_lookup": len(ctx._posted), "memo": len(ctx.cache)})

    try:
        counts = normalise_and_plan(normalisers, destination, ctx, store, run_id=1, batch=BATCH, workers=workers,
                                    progress=progress)
        outbox = store.db.fetchone("SELECT count(*) FROM outbox")[0]
    finally:
        store.close()
    peak = {k: max(b.get(k, 0) for b in after_batches) for k in ("Order", "PlannedWrite", "PostedDocument",
                                                                  "posted_lookup", "memo")}
    return {"batches": len(after_batches), "peak": peak, "looked_up": max(looked_up), "counts": counts,
            "outbox": outbox, "after": after_batches}


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_what_planning_holds_stays_bounded_by_the_batch_not_the_run(tmp_path, monkeypatch, workers):
    short = _plan_and_count(tmp_path, 2 * BATCH, workers, monkeypatch)
    long = _plan_and_count(tmp_path, 8 * BATCH, workers, monkeypatch)
    assert (short["batches"], long["batches"]) == (2, 8)
    assert long["counts"]["normalised"] == 8 * BATCH and long["outbox"] > 7 * BATCH  # it did plan them all
    for run in (short, long):
        for after in run["after"]:
            # a committed batch is forgotten: no order of it and nothing read from the outbox is kept; what
            # is left is the last batch's writes (the loop's local) and the run's memo, its Customer and Items
            assert after.get("Order", 0) == 0
            assert after["posted_lookup"] == 0
            assert after.get("PostedDocument", 0) == 0
            assert after.get("PlannedWrite", 0) <= 6 * BATCH
            assert after["memo"] <= len(SKUS) + 10
        # while a batch is planned, the look-up holds its own keys only (an order, its customer and items)
        assert run["looked_up"] <= 6 * BATCH
    # four times the orders, no more held: every bound above is the batch's or the catalogue's, never the run's
    assert long["peak"]["PlannedWrite"] <= 6 * BATCH and long["looked_up"] <= 6 * BATCH
    assert long["peak"]["memo"] <= len(SKUS) + 10
