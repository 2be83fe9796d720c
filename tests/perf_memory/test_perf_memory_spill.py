"""What a run remembers for its whole length stays flat in N (issue 18): one Customer payload per buyer under
`customer_strategy: per_buyer` (`PlanContext.cache`) and the load's records blocked on a dependency are held a
few at a time in memory, the rest spilled to a scratch file and read back exactly, so the outbox is the one an
unbounded memo plans. Counted per batch in entries, for runs of different lengths."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink import json_dumps
from ledgerlink.runtime import load as load_module
from ledgerlink.runtime import spill
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers
from ledgerlink.runtime.spill import RunMemo, SpilledKeys
from ledgerlink.store import Store

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_qbo.destination import QuickBooksOnlineDestination

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)
STREAM = "orders_2026"
BATCH = 25
HELD = 4
BUYERS = 30  # repeat buyers: every e-mail comes back in later batches, after its payload was spilled
PER_BUYER = {"customer_strategy": "per_buyer", "default_document": "invoice"}


def _records(orders: int, *, repeat: bool) -> list[dict[str, Any]]:
    """Seeded US and UK orders. `repeat`: their buyers' e-mails cycle through BUYERS, so one buyer has orders
    in both currencies and channels (its Customer payload depends on which order planned it first)."""
    book = SellerBook(orders, 5, ANCHOR, uk_orders=orders // 3)
    out = []
    for n in range(book.total):
        rec = book.order_2026(n, frozenset(INCLUDED_DATA))
        if repeat and isinstance(rec.get("buyer"), dict) and rec["buyer"].get("buyerEmail"):
            rec = {**rec, "buyer": {**rec["buyer"], "buyerEmail": f"repeat{(n * 7) % BUYERS}@example.com"}}
        out.append(rec)
    return out


def _plan(path: Any, records: list[dict[str, Any]], *, workers: int, options: dict[str, Any]
          ) -> dict[str, Any]:
    store = Store(path)
    store.raw.stage(STREAM, [r["orderId"] for r in records], [r.get("lastUpdatedTime") for r in records],
                    [json_dumps(r) for r in records], [None] * len(records), run_id=1)
    destination = QuickBooksOnlineDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), options, store=store, destination=destination.name)
    normalisers = [n for n in resolve_normalisers(AmazonSellingPartnerSource(), {}) if n.stream == STREAM]
    held: list[int] = []

    def progress(stage: str, advance: int = 1, total: int | None = None) -> None:  # after each committed batch
        held.append(len(ctx.cache))

    try:
        counts = normalise_and_plan(normalisers, destination, ctx, store, run_id=1, batch=BATCH, workers=workers,
                                    progress=progress)
        outbox = store.db.fetchall("SELECT key, stream, data, payload_hash, depends_on, status, natural_key "
                                   "FROM outbox ORDER BY seq")
        dead = store.db.fetchall("SELECT * EXCLUDE (id, created_at, updated_at) FROM dead_letters ORDER BY ALL")
    finally:
        store.close()
    memo = ctx.cache
    return {"counts": counts, "outbox": outbox, "dead": dead, "held": held,
            "spilled": memo.spilled if isinstance(memo, RunMemo) else 0}


@pytest.fixture
def few_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "HELD", HELD)


@pytest.mark.parametrize("workers", [1, 2])
def test_per_buyer_customers_spilled_plan_the_outbox_an_unbounded_memo_plans(tmp_path, monkeypatch, workers):
    records = _records(6 * BATCH, repeat=True)
    unbounded = _plan(tmp_path / "a.duckdb", records, workers=workers, options=PER_BUYER)
    monkeypatch.setattr(spill, "HELD", HELD)
    bounded = _plan(tmp_path / "b.duckdb", records, workers=workers, options=PER_BUYER)
    assert unbounded["spilled"] == 0 and bounded["spilled"] > BUYERS  # the small run did spill, again and again
    customers = [r for r in bounded["outbox"] if r[1] == "Customer"]
    assert len(customers) == BUYERS
    # buyers whose orders disagree on what their Customer says (the currency): which order came first counts
    currencies: dict[str, set[str]] = {}
    for key, stream, data, _, depends_on, _, _ in bounded["outbox"]:
        if stream == "Invoice":
            customer = next(d for d in depends_on if d.startswith("Customer:"))
            currencies.setdefault(customer, set()).add(json.loads(data)["CurrencyRef"]["value"])
    assert sum(1 for c in currencies.values() if len(c) > 1) >= BUYERS // 2
    assert bounded["outbox"] == unbounded["outbox"]
    assert bounded["dead"] == unbounded["dead"]
    assert bounded["counts"] == unbounded["counts"]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_per_buyer_memo_holds_no_more_for_a_run_four_times_as_long(tmp_path, few_held, workers):
    short = _plan(tmp_path / "short.duckdb", _records(2 * BATCH, repeat=False), workers=workers, options=PER_BUYER)
    long = _plan(tmp_path / "long.duckdb", _records(8 * BATCH, repeat=False), workers=workers, options=PER_BUYER)
    assert len(long["held"]) >= 3 * len(short["held"]) >= 6
    long_customers = sum(1 for r in long["outbox"] if r[1] == "Customer")
    assert long_customers > 3 * BATCH  # a buyer per order (those with a buyer): an unbounded memo holds them all
    # in memory: at most twice HELD Customer and Item payloads, plus the run's parsed options
    for run in (short, long):
        assert max(run["held"]) <= 2 * HELD + 2
    assert long["spilled"] >= long_customers - 2 * HELD


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["set", "get", "in", "setdefault", "item"]),
                              st.sampled_from([f"Customer:{i}" for i in range(12)] + ["qbo:options", "Item:x"]),
                              st.integers(0, 5)), max_size=80),
       held=st.integers(1, 4))
def test_run_memo_answers_as_a_dict_whatever_it_spilled(ops, held):
    memo, model = RunMemo(["Customer"], held=held), {}
    for op, key, value in ops:
        if op == "set":
            memo[key] = model[key] = {"v": value}
        elif op == "get":
            assert memo.get(key) == model.get(key)
        elif op == "in":
            assert (key in memo) == (key in model)
        elif op == "setdefault":
            assert memo.setdefault(key, {"v": value}) == model.setdefault(key, {"v": value})
        else:
            if key in model:
                assert memo[key] == model[key]
            else:
                with pytest.raises(KeyError):
                    memo[key]
        # the bounded entries in memory: at most twice `held`; everything else is in memory as in a dict
        assert len(memo) <= 2 * held + sum(1 for k in model if not k.startswith("Customer:"))


def test_blocked_keys_are_all_remembered_a_few_at_a_time():
    keys = SpilledKeys(held=3)
    keys.add_many(f"k{i}" for i in range(10))
    keys.add_many(["k2", "k11"])
    assert len(keys) == 11 and keys.in_memory <= 3
    assert all(f"k{i}" in keys for i in range(12) if i != 10) and "k10" not in keys and 5 not in keys
    assert not SpilledKeys() and SpilledKeys.__len__(SpilledKeys()) == 0


def test_load_remembers_blocked_records_a_few_at_a_time(monkeypatch, few_held):
    """The write's second pass sends only what waited in the first; the set of those is held HELD at a time."""
    made: list[SpilledKeys] = []
    real = spill.SpilledKeys

    def tracked(**kwargs: Any) -> SpilledKeys:
        made.append(real(**kwargs))
        return made[-1]

    monkeypatch.setattr(load_module.spill, "SpilledKeys", tracked)
    store = Store(":memory:")
    from ledgerlink.connectors import PlannedWrite

    # a customer the destination refuses, and twenty receipts waiting on it: blocked in every pass
    writes = [PlannedWrite(stream="Customer", key="Customer:c", data={"DisplayName": "c"})]
    writes += [PlannedWrite(stream="SalesReceipt", key=f"SalesReceipt:{i}", data={"n": i}, depends_on=["Customer:c"])
               for i in range(20)]
    store.outbox.add("qbo", writes, run_id=1)
    store.outbox.mark("Customer:c", "dead")
    destination = QuickBooksOnlineDestination()
    sent: list[str] = []
    monkeypatch.setattr(destination, "open", lambda config, context: None)
    monkeypatch.setattr(destination, "close", lambda: None)
    monkeypatch.setattr(destination, "write_batch", lambda stream, batch: sent.extend(r.key for r in batch) or [])
    counts = load_module.load(destination, None, store, run_id=1)
    assert sent == [] and counts["blocked"] == 20
    assert made and all(k.in_memory <= HELD for k in made) and len(made[0]) == 20
    assert all(f"SalesReceipt:{i}" in made[0] for i in range(20))
