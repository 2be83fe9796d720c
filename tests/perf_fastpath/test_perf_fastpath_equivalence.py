"""The columnar fast path (issue 18) plans exactly what the reference path plans.

Same outbox rows in the same order (keys, payloads, hashes, dependencies, natural keys, status), same audit
rows, same dead letters with the same errors, same counts: over the seeded Amazon sandbox (US and UK VAT orders,
broken records among them, a second run that cancels and ships some), over hypothesis-generated orders and
batch cuts, with a store in the keys, and where the fast path must decline (an overridden template, per-buyer
customers, invoices, a destination subclass, a normaliser bound to other arguments).
"""

from __future__ import annotations

import copy
import functools
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import json_dumps
from ledgerlink.columnar import ColumnarBatches
from ledgerlink.runtime.normalise import (
    PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers, stamp_normalisers,
)
from ledgerlink.store import Store
from ledgerlink.store.key_scope import KeyScope

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders.normalise_2026 import normalise_order_2026
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
    for n in range(7, len(first), 83):  # an amount written as a number: declined, then read by the reference
        if first[n].get("orderItems"):
            first[n] = copy.deepcopy(first[n])
            price = first[n]["orderItems"][0]["product"].get("price") or {}
            if price.get("unitPrice"):
                price["unitPrice"]["amount"] = 12
    later = [{**r, "lastUpdatedTime": "2026-03-02T00:00:00Z",
              "fulfillment": {**r["fulfillment"], "fulfillmentStatus": "CANCELLED" if n % 2 else "SHIPPED"}}
             for n, r in enumerate(first[:60]) if "fulfillment" in r]
    return [first, later]


class Planned:
    """What a run left in the state file, and how many records the fast path planned."""

    def __init__(self, outbox: Any, audit: Any, dead: Any, counts: Any, fast: int):
        self.outbox, self.audit, self.dead, self.counts, self.fast = outbox, audit, dead, counts, fast

    def result(self) -> tuple[Any, ...]:
        return self.outbox, self.audit, self.dead, self.counts


def plan_runs(path: Any, runs: list[list[dict[str, Any]]], *, batch: int, columnar: bool, monkeypatch: Any,
              options: dict[str, Any] | None = None, store_id: str | None = None,
              destination: Any = None, normaliser: Any = None, overrides: dict[str, str] | None = None,
              workers: int = 1) -> Planned:
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "1" if columnar else "0")
    fast = [0]
    plan = ColumnarBatches.plan

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = self.fast
        out = plan(self, *args, **kwargs)
        fast[0] += self.fast - before
        return out

    monkeypatch.setattr(ColumnarBatches, "plan", counting)
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
    return Planned(outbox, audit, dead, counts, fast[0])


def both(tmp_path: Any, monkeypatch: Any, runs: Any, workers: int = 1, **kwargs: Any) -> tuple[Planned, Planned]:
    """The reference path in one process, and the columnar path with `workers` processes."""
    reference = plan_runs(tmp_path / "reference.duckdb", runs, columnar=False, monkeypatch=monkeypatch, **kwargs)
    columnar = plan_runs(tmp_path / "columnar.duckdb", runs, columnar=True, monkeypatch=monkeypatch,
                         workers=workers, **kwargs)
    return reference, columnar


def test_the_seeded_sandbox_plans_alike_on_both_paths(tmp_path, monkeypatch):
    runs = seeded_runs(400, 3)
    reference, columnar = both(tmp_path, monkeypatch, runs, batch=250)
    assert reference.fast == 0
    assert columnar.fast > 300  # most orders took the fast path
    outbox, audit, dead, _ = columnar.result()
    assert {row[1] for row in outbox} >= {"Customer", "Item", "SalesReceipt", "Void"}
    assert audit and len(dead) >= 8
    assert columnar.result() == reference.result()


def test_uk_vat_orders_and_a_store_in_the_keys_plan_alike(tmp_path, monkeypatch):
    book = SellerBook(40, 11, ANCHOR, uk_orders=160)
    runs = [[book.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(book.total)]]
    reference, columnar = both(tmp_path, monkeypatch, runs, batch=64, store_id="seller-1")
    assert columnar.fast > 100
    assert any("amazon_sp@seller-1/order/" in row[6] for row in columnar.outbox)
    assert columnar.result() == reference.result()


def test_the_helper_process_plans_its_part_through_the_fast_path_alike(tmp_path, monkeypatch):
    from ledgerlink.runtime import plan_workers

    helped: list[int] = []
    adopt = plan_workers.PlanHelper.adopt

    def counting(self: Any, writes: Any, ctx: Any) -> None:
        helped.append(len(writes))
        adopt(self, writes, ctx)

    monkeypatch.setattr(plan_workers.PlanHelper, "adopt", counting)
    runs = seeded_runs(400, 4)
    reference, columnar = both(tmp_path, monkeypatch, runs, workers=2, batch=250)
    assert len(helped) >= 2 and sum(helped) > 200  # the helper planned parts of batches, in both runs
    assert columnar.result() == reference.result()


@pytest.mark.parametrize("case", ["template", "per_buyer", "invoice", "subclass", "bound_normaliser"])
def test_what_the_fast_path_does_not_cover_is_planned_by_the_reference(tmp_path, monkeypatch, case):
    runs = seeded_runs(120, 9)[:1]
    kwargs: dict[str, Any] = {"batch": 100}
    if case == "template":
        override = tmp_path / "receipt.json.j2"
        override.write_text((QuickBooksOnlineDestination.mappings["sales_receipt.json.j2"][1] and
                             _default_template("sales_receipt.json.j2")).replace('"ApplyTaxAfterDiscount"',
                                                                                 '"ApplyTaxAfterDiscount"'))
        kwargs["overrides"] = {"sales_receipt.json.j2": str(override)}
    elif case == "per_buyer":
        kwargs["options"] = {"customer_strategy": "per_buyer"}
    elif case == "invoice":
        kwargs["options"] = {"default_document": "invoice"}
    elif case == "subclass":
        class Mine(QuickBooksOnlineDestination):
            def plan(self, obj: Any, ctx: Any) -> Any:
                return super().plan(obj, ctx)
        kwargs["destination"] = Mine()
    else:
        kwargs["normaliser"] = functools.partial(normalise_order_2026, tax_inclusive=frozenset())
    reference, columnar = both(tmp_path, monkeypatch, runs, **kwargs)
    assert columnar.fast == 0 if case != "invoice" else columnar.fast < 30  # invoices: only unposted orders
    assert columnar.result() == reference.result()


def _default_template(name: str) -> str:
    from importlib.resources import files

    return (files("ledgerlink_qbo") / "mappings" / name).read_text()


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), batch=st.integers(30, 400), orders=st.integers(60, 300),
       workers=st.sampled_from([1, 2]))
def test_any_seed_and_cut_into_batches_plans_alike(tmp_path_factory, monkeypatch, seed, batch, orders, workers):
    tmp = tmp_path_factory.mktemp("cut")
    reference, columnar = both(tmp, monkeypatch, seeded_runs(orders, seed), workers=workers, batch=batch)
    assert columnar.result() == reference.result()
