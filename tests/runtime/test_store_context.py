"""Normalisers that ask for it get the store's context: its id, currency, marketplace and whatever else the
source reads about the store, once per run and after reading (so it may come from a staged record)."""

from __future__ import annotations

from typing import Any

import fakes
from ledgerlink import Normaliser, StoreContext, hookimpl
from ledgerlink.pipeline import Pipeline
from ledgerlink.runtime import sync

SEEN: list[StoreContext] = []


def normalise_with_context(rec: dict[str, Any], related: dict[str, Any], context: StoreContext) -> list[Any]:
    SEEN.append(context)
    return fakes.normalise_order(rec, related)


class ContextSource(fakes.FakeSource):
    name = "ctx_source"

    def store_id(self, config: Any) -> str:
        return "shop-1"

    def store_context(self, config: Any, staged: Any) -> dict[str, Any]:
        first = staged("orders", "O-0000") or {}
        return {"currency": first.get("currency"), "marketplace": "EU", "time_zone": "Europe/Berlin",
                "missing": staged("orders", "no such order")}

    def normalisers(self) -> list[Normaliser]:
        return [Normaliser(stream="orders", function=normalise_with_context, join={"order_lines": ("order_id", "id")},
                           needs_context=True)]


class _Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(ContextSource)


def test_a_normaliser_that_asks_gets_the_store_context(fake_host, tmp_path):
    fake_host.register(_Plugin(), name="ctx")
    SEEN.clear()
    pipeline = Pipeline.model_validate({
        "name": "ctx", "state": str(tmp_path / "state.duckdb"),
        "source": {"connector": "ctx_source", "config": {"orders": 3}},
        "destination": {"connector": "fake_dest", "config": {}}, "base_dir": str(tmp_path)})
    report = sync(pipeline, plugin_host=fake_host)
    assert report.status == "succeeded", report.errors
    assert len(SEEN) == 3 and len(set(map(id, SEEN))) == 1  # built once per run
    context = SEEN[0]
    assert (context.store, context.currency, context.marketplace) == ("shop-1", "USD", "EU")
    assert context.get("time_zone") == "Europe/Berlin" and context.get("missing", "none") is None
    assert context.get("currency") == "USD" and context.get("nothing", "default") == "default"


def test_a_normaliser_called_outside_a_run_gets_an_empty_context():
    normaliser = ContextSource().normalisers()[0]
    record = {"id": "O-1", "updated": "2026-01-02T00:00:00Z", "status": "paid", "currency": "USD",
              "buyer": "b@example.com"}
    SEEN.clear()
    objects = normaliser.run(record, {"order_lines": []})
    assert SEEN == [StoreContext()] and objects[0].order_id == "O-1"
    bound = normaliser.with_context(StoreContext(currency="GBP"))
    bound.run(record, {"order_lines": []})
    assert SEEN[-1].currency == "GBP" and not bound.needs_context


def test_the_usual_two_argument_normaliser_is_unchanged(fake_host, make_pipeline):
    assert sync(make_pipeline(orders=2), plugin_host=fake_host).status == "succeeded"
