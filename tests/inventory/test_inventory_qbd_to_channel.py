"""QuickBooks Desktop → channel stock: each Web Connector session served by `ledgerlink serve` ends with an
ItemInventoryQuery (checked against Intuit's XSD by the simulator) whose answers land in a stock snapshot file;
the shipped qbd-inventory-to-bigcommerce pipeline reads it and sets BigCommerce's stock, once."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal

import pytest

from ledgerlink import ConfigError, RecordError, inventory
from ledgerlink.runtime import sync
from ledgerlink_qb_desktop.source import QuickBooksDesktopSource
from ledgerlink_qb_desktop.stock import normalise_stock, write_snapshot
from sandbox_helpers import bigcommerce_env, load_shipped, sandbox_running, web_connector

LOCATION = 1
SKUS = {"ABS": 11, "CC3C": 0, "OTL": 7}  # BigCommerce sandbox SKUs, as QuickBooks inventory items with these counts


def _channel(bc_box, sku: str) -> int:
    book = bc_box.store.book
    vid = next(v for v, row in book.variants.items() if row["sku"] == sku)
    return book.stock.get((LOCATION, vid), 0)


def _to_store(tmp_path, env: dict[str, str]):
    return load_shipped(tmp_path, "qbd-inventory-to-bigcommerce.yaml", env)


@pytest.fixture
def world(tmp_path, qbxml_xsd):
    snapshot = tmp_path / "qbd-stock.json"

    def seed(company) -> None:
        for sku, qty in SKUS.items():
            company.items[sku.lower()] = {**company._list_obj(Name=sku), "Ret": "ItemInventoryRet",
                                          "Account": "Sales", "QuantityOnHand": str(qty)}

    @contextlib.contextmanager
    def make():
        with sandbox_running("bigcommerce", orders=4) as (bc, bc_box):
            # the served QuickBooks Desktop pipeline (orders to the company file) also keeps the stock snapshot
            served = load_shipped(tmp_path, "bigcommerce-to-qbd.yaml", {
                "LEDGERLINK_STATE": str(tmp_path / "served.duckdb"), **bigcommerce_env(bc),
                "QBD_STOCK_SNAPSHOT": str(snapshot)})
            to_store = _to_store(tmp_path, {"LEDGERLINK_STATE": str(tmp_path / "to-store.duckdb"),
                                            **bigcommerce_env(bc), "QBD_STOCK_SNAPSHOT": str(snapshot),
                                            "INVENTORY_BASELINE": str(tmp_path / "baseline.sqlite")})
            with web_connector(served, qbxml_xsd, prepare=seed) as bridge:
                yield bc_box, bridge.company, to_store, bridge.poll, snapshot
    return make


def test_quickbooks_desktop_quantities_reach_bigcommerce_once_and_follow_a_change(world):
    with world() as (bc_box, company, to_store, poll, snapshot):
        assert not snapshot.exists()
        outcome = poll()
        assert outcome["result"] != "none", outcome  # a stock query is work, even with nothing to post
        data = json.loads(snapshot.read_text())
        counts = {row["Name"]: Decimal(row["QuantityOnHand"]) for row in data["items"]}
        assert counts == {sku: Decimal(qty) for sku, qty in SKUS.items()}
        assert data["taken_at"].endswith("Z")

        writes = bc_box.store.book.next_ids["transaction"]
        first = sync(to_store)
        assert first.status == "succeeded" and first.counts["dead_letters_open"] == 0, (first.errors, first.counts)
        assert {sku: _channel(bc_box, sku) for sku in SKUS} == SKUS
        assert bc_box.store.book.next_ids["transaction"] > writes

        # nothing new: no snapshot since, and a new snapshot with the same counts, both write nothing
        writes = bc_box.store.book.next_ids["transaction"]
        again = sync(to_store)
        assert again.status == "succeeded" and bc_box.store.book.next_ids["transaction"] == writes
        poll()
        same = sync(to_store)
        assert same.status == "succeeded" and same.counts["dead_letters_open"] == 0
        assert bc_box.store.book.next_ids["transaction"] == writes

        # counted by hand in QuickBooks: the next poll and sync move the channel, that SKU only
        company.items["otl"]["QuantityOnHand"] = "3"
        poll()
        moved = sync(to_store)
        assert moved.status == "succeeded" and moved.counts["dead_letters_open"] == 0, moved.counts
        assert {sku: _channel(bc_box, sku) for sku in SKUS} == {**SKUS, "OTL": 3}
        assert bc_box.store.book.next_ids["transaction"] == writes + 1


def test_source_reads_a_snapshot_once_and_refuses_bad_rows(tmp_path):
    path = tmp_path / "stock.json"
    source = QuickBooksDesktopSource()
    config = {"stock_snapshot": str(path)}
    with pytest.raises(ConfigError, match="no QuickBooks Desktop stock snapshot"):
        list(source.read(config))
    rows = [{"ListID": "80000001-1", "Name": "ABS", "FullName": "ABS", "QuantityOnHand": "12.5", "IsActive": True},
            {"ListID": "80000002-1", "Name": "OLD", "FullName": "OLD", "QuantityOnHand": "4", "IsActive": False},
            {"ListID": "80000003-1", "Name": "OTL", "FullName": "OTL", "QuantityOnHand": "lots", "IsActive": True},
            {"ListID": "80000004-1", "FullName": "", "QuantityOnHand": "1", "IsActive": True}]
    taken = write_snapshot(path, rows, taken_at="2026-11-22T21:40:00.000000Z")
    messages = list(source.read(config))
    records = [m.record.data for m in messages if m.record is not None]
    assert [r["ListID"] for r in records] == [r["ListID"] for r in rows]
    assert all(r["snapshot_at"] == taken for r in records)
    state = [m.state for m in messages if m.state is not None][-1]

    level, = normalise_stock(records[0], {})
    assert (level.source, level.sku, level.location, level.on_hand) == ("qb_desktop", "ABS",
                                                                        inventory.QUICKBOOKS_LOCATION, Decimal("12.5"))
    assert level.as_of.isoformat().startswith("2026-11-22T21:40:00")
    assert normalise_stock(records[1], {}) == []  # inactive in QuickBooks: not a count to push
    with pytest.raises(RecordError) as bad:
        normalise_stock(records[2], {})
    assert bad.value.field == "QuantityOnHand" and "lots" in str(bad.value)
    with pytest.raises(RecordError, match="no Name"):
        normalise_stock(records[3], {})

    # the same snapshot again yields nothing; a newer one is read in full
    assert not [m for m in source.read(config, state=[state.model_dump()]) if m.record is not None]
    write_snapshot(path, rows[:1], taken_at="2026-11-22T21:40:00.000001Z")
    assert len([m for m in source.read(config, state=[state.model_dump()]) if m.record is not None]) == 1

    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot be read"):
        list(source.read(config))
    assert not list(tmp_path.glob(".stock.json.*.tmp"))  # atomic writes leave no temp files behind


def test_a_bad_snapshot_row_becomes_a_dead_letter_not_a_silent_skip(tmp_path):
    snapshot = tmp_path / "qbd-stock.json"
    write_snapshot(snapshot, [{"ListID": "1", "Name": "ABS", "FullName": "ABS", "QuantityOnHand": "9"},
                              {"ListID": "2", "Name": "OTL", "FullName": "OTL", "QuantityOnHand": "n/a"}])
    with sandbox_running("bigcommerce", orders=2) as (bc, bc_box):
        to_store = _to_store(tmp_path, {"LEDGERLINK_STATE": str(tmp_path / "s.duckdb"), **bigcommerce_env(bc),
                                        "QBD_STOCK_SNAPSHOT": str(snapshot),
                                        "INVENTORY_BASELINE": str(tmp_path / "b.sqlite")})
        result = sync(to_store)
        assert result.status == "succeeded", result.errors
        assert result.counts["dead_letters_open"] == 1, result.counts
        assert _channel(bc_box, "ABS") == 9


def test_the_stock_query_pages_through_every_inventory_item(world):
    with world() as (bc_box, company, to_store, poll, snapshot):
        for n in range(230):  # more than one ItemInventoryQuery page (MaxReturned 100): Start, Continue, Continue
            name = f"BULK-{n:03d}"
            company.items[name.lower()] = {**company._list_obj(Name=name), "Ret": "ItemInventoryRet",
                                           "Account": "Sales", "QuantityOnHand": str(n)}
        company.items["svc"] = {**company._list_obj(Name="SVC"), "Ret": "ItemServiceRet", "Account": "Sales"}
        outcome = poll()
        assert outcome.get("messages", 0) >= 3, outcome
        rows = json.loads(snapshot.read_text())["items"]
        assert len(rows) == 230 + len(SKUS) and len({r["ListID"] for r in rows}) == len(rows)
        assert {r["Name"]: r["QuantityOnHand"] for r in rows}["BULK-229"] == "229"
        assert "SVC" not in {r["Name"] for r in rows}
