"""The columnar fast path (issue 18) plans exactly what the reference path plans.

Same outbox rows in the same order (keys, payloads, hashes, dependencies, natural keys, status), same audit
rows, same dead letters with the same errors, same counts: over the seeded Amazon sandbox (US and UK VAT orders,
broken records among them, a second run that cancels and ships some), over hypothesis-generated orders and
batch cuts, with a store in the keys, and where the fast path must decline (an overridden template, per-buyer
customers, invoices, a destination subclass, a normaliser bound to other arguments).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink.columnar import ColumnarBatches

from ledgerlink_amazon_sp.orders.normalise_2026 import normalise_order_2026
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from plan_helpers import ANCHOR, seeded_runs
from plan_helpers import plan_runs as plan_in_one_store


class Planned:
    """What a run left in the state file, and how many records the fast path planned."""

    def __init__(self, outbox: Any, audit: Any, dead: Any, counts: Any, fast: int):
        self.outbox, self.audit, self.dead, self.counts, self.fast = outbox, audit, dead, counts, fast

    def result(self) -> tuple[Any, ...]:
        return self.outbox, self.audit, self.dead, self.counts


def plan_runs(path: Any, runs: list[list[dict[str, Any]]], *, batch: int, columnar: bool, monkeypatch: Any,
              workers: int = 1, **planning: Any) -> Planned:
    """`plan_helpers.plan_runs` on the columnar path or the reference one, counting the fast path's records."""
    monkeypatch.setenv("LEDGERLINK_COLUMNAR", "1" if columnar else "0")
    fast = [0]
    plan = ColumnarBatches.plan

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = self.fast
        out = plan(self, *args, **kwargs)
        fast[0] += self.fast - before
        return out

    monkeypatch.setattr(ColumnarBatches, "plan", counting)
    outbox, audit, dead, counts = plan_in_one_store(path, runs, batch=batch, workers=workers, **planning)
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
