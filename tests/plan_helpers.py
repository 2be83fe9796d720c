"""Seeded Amazon orders planned into QuickBooks Online's outbox, for the tests that compare two ways of planning
(the columnar fast path in tests/perf_fastpath, a helper process in tests/perf_plan): the same records, planned
the same way, leave what `plan_runs` returns, compared whole."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from ledgerlink import json_dumps
from ledgerlink.runtime.normalise import (
    PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers, stamp_normalisers,
)
from ledgerlink.store import Store
from ledgerlink.store.key_scope import KeyScope

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_qbo.destination import QuickBooksOnlineDestination

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)
STREAM = "orders_2026"


def seeded_runs(orders: int, seed: int) -> list[list[dict[str, Any]]]:
    """Two runs: the book's orders (a quarter UK) with broken ones, then some of them cancelled or shipped."""
    book = SellerBook(orders, seed, ANCHOR, uk_orders=orders // 4)
    first = [book.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(book.total)]
    for n in range(3, len(first), 97):  # no items: a normalise dead letter
        first[n] = {k: v for k, v in first[n].items() if k != "orderItems"}
    for n in range(5, len(first), 89):  # no SKU on a line: a normalise dead letter
        if first[n].get("orderItems"):
            first[n] = copy.deepcopy(first[n])
            first[n]["orderItems"][0]["product"].pop("sellerSku", None)
    for n in range(7, len(first), 83):  # an amount written as a number: the fast path declines, the reference reads it
        if first[n].get("orderItems"):
            first[n] = copy.deepcopy(first[n])
            price = first[n]["orderItems"][0]["product"].get("price") or {}
            if price.get("unitPrice"):
                price["unitPrice"]["amount"] = 12
    later = [{**r, "lastUpdatedTime": "2026-03-02T00:00:00Z",
              "fulfillment": {**r["fulfillment"], "fulfillmentStatus": "CANCELLED" if n % 2 else "SHIPPED"}}
             for n, r in enumerate(first[:60]) if "fulfillment" in r]
    return [first, later]


def plan_runs(path: Any, runs: list[list[dict[str, Any]]], *, batch: int, workers: int = 1,
              options: dict[str, Any] | None = None, store_id: str | None = None, destination: Any = None,
              normaliser: Any = None, overrides: dict[str, str] | None = None) -> tuple[Any, Any, Any, Any]:
    """Stage and plan each run in turn into a state file at `path`; returns its outbox, audit rows, dead letters
    and each run's counts. `store_id` puts a store in the keys; `normaliser`, `destination` and `overrides`
    (mapping templates) replace the Amazon source's and QuickBooks Online's own."""
    store = Store(path)
    destination = destination or QuickBooksOnlineDestination()
    normalisers = [n for n in resolve_normalisers(AmazonSellingPartnerSource(), {}) if n.stream == STREAM]
    if normaliser is not None:
        normalisers = [type(normalisers[0])(stream=STREAM, function=normaliser)]
    if store_id is not None:
        normalisers = stamp_normalisers(normalisers, KeyScope(store=store_id, scope="store"))
    counts = []
    for run_id, records in enumerate(runs, 1):
        store.raw.stage(STREAM, [r["orderId"] for r in records], [r.get("lastUpdatedTime") for r in records],
                        [json_dumps(r) for r in records], [None] * len(records), run_id=run_id)
        ctx = PlanContextImpl(mapping_engine(destination, overrides or {}, "."), options or {}, store=store,
                              destination=destination.name)
        counts.append(normalise_and_plan(normalisers, destination, ctx, store, run_id=run_id, batch=batch,
                                         workers=workers))
    outbox = store.db.fetchall("SELECT key, stream, data, payload_hash, depends_on, status, natural_key, planned_run "
                               "FROM outbox ORDER BY seq")
    audit = store.db.fetchall("SELECT * FROM audit ORDER BY ALL")
    dead = store.db.fetchall("SELECT * EXCLUDE (id, created_at, updated_at) FROM dead_letters ORDER BY ALL")
    store.close()
    return outbox, audit, dead, counts
