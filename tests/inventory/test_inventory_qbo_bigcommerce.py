"""End to end, both directions: the shipped bigcommerce-inventory-to-qbo and qbo-inventory-to-bigcommerce
pipelines against the BigCommerce and QuickBooks Online sandboxes over loopback, sharing one baseline file."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from sandbox_helpers import bigcommerce_env, qbo_env, sandbox_running, write_shipped

LOCATION = 1
SKUS = ["ABS", "CC3C", "OTL"]  # BigCommerce sandbox SKUs given QuickBooks inventory items below


def _pipeline(tmp_path, name: str, env: dict[str, str]):
    path = write_shipped(tmp_path, f"{name}.yaml")
    return load_pipeline(path, env=env), path


@pytest.fixture
def world(tmp_path):
    @contextlib.contextmanager
    def make(**inventory_env: str):
        # two pipelines, two state files, one company: rotation would leave one pipeline with a spent token
        with sandbox_running("bigcommerce", orders=4) as (bc, bc_box), \
                sandbox_running("qbo", rotate_refresh_tokens=False) as (qbo, qbo_box):
            company = qbo_box.company
            for n, sku in enumerate(SKUS):
                company.save("Item", {
                    "Name": sku, "Type": "Inventory", "TrackQtyOnHand": True, "QtyOnHand": 5 + n,
                    "InvStartDate": "2024-01-01",
                    "IncomeAccountRef": {"value": company.id_named("Account", "Sales of Product Income")},
                    "AssetAccountRef": {"value": company.id_named("Account", "Inventory Asset")},
                    "ExpenseAccountRef": {"value": company.id_named("Account", "Cost of Goods Sold")}})
            base = {**bigcommerce_env(bc), **qbo_env(qbo), "INVENTORY_BASELINE": str(tmp_path / "baseline.sqlite"),
                    **inventory_env}
            to_books, to_books_file = _pipeline(tmp_path, "bigcommerce-inventory-to-qbo",
                                                {**base, "LEDGERLINK_STATE": str(tmp_path / "to-books.duckdb")})
            to_store, _ = _pipeline(tmp_path, "qbo-inventory-to-bigcommerce",
                                    {**base, "LEDGERLINK_STATE": str(tmp_path / "to-store.duckdb")})
            yield W(bc_box, company, to_books, to_store, to_books_file, base, tmp_path)
    return make


class W:
    def __init__(self, bc_box, company, to_books, to_store, to_books_file, env, tmp_path):
        self.bc, self.company, self.to_books, self.to_store = bc_box, company, to_books, to_store
        self.to_books_file, self.env, self.tmp_path = to_books_file, env, tmp_path

    def channel(self, sku: str) -> int:
        book = self.bc.store.book
        vid = next(v for v, row in book.variants.items() if row["sku"] == sku)
        return book.stock.get((LOCATION, vid), 0)

    def set_channel(self, sku: str, qty: int) -> None:
        book = self.bc.store.book
        vid = next(v for v, row in book.variants.items() if row["sku"] == sku)
        book.adjust(LOCATION, vid, qty, relative=False)

    def books(self, sku: str) -> Decimal:
        item = next(i for i in self.company.entities["Item"].values() if i.get("Name") == sku)
        return Decimal(str(item["QtyOnHand"]))

    def set_books(self, sku: str, qty: int) -> None:
        """A stock count entered in QuickBooks by hand (an adjustment ledgerlink did not make)."""
        company = self.company
        item_id = next(k for k, i in company.entities["Item"].items() if i.get("Name") == sku)
        company.save("InventoryAdjustment", {
            "TxnDate": "2026-11-22", "PrivateNote": "counted by hand",
            "AdjustAccountRef": {"value": company.id_named("Account", "Inventory Shrinkage")},
            "Line": [{"DetailType": "ItemAdjustmentLineDetail", "ItemAdjustmentLineDetail": {
                "ItemRef": {"value": item_id}, "QtyDiff": Decimal(qty) - self.books(sku)}}]})

    def adjustments(self) -> list[dict]:
        return [a for a in self.company.entities.get("InventoryAdjustment", {}).values()
                if str(a.get("PrivateNote", "")).startswith("ledgerlink ")]

    def channel_writes(self) -> int:
        return self.bc.store.book.next_ids["transaction"]

    def round(self, store_dead_letters: int = 0) -> tuple[dict, dict]:
        """One round: channel → QuickBooks, then QuickBooks → channel."""
        first = sync(self.to_books)
        assert first.status == "succeeded" and first.counts["dead_letters_open"] == 0, (first.errors, first.counts)
        second = sync(self.to_store)
        assert second.status == "succeeded", second.errors
        assert second.counts["dead_letters_open"] == store_dead_letters, second.counts
        return first.counts, second.counts


def _created(counts: dict, stream: str) -> int:
    return (counts.get("created") or {}).get(stream, 0)


def test_channel_change_adjusts_quickbooks_and_a_quickbooks_change_reaches_the_channel_without_echo(world):
    with world() as w:
        # first contact: QuickBooks (5, 6, 7) takes the channel's counts; nothing goes back to the channel
        writes_before = w.channel_writes()
        books, store = w.round()
        assert [w.books(s) for s in SKUS] == [w.channel(s) for s in SKUS]
        assert len(w.adjustments()) == _created(books, "InventoryAdjustment") == sum(
            1 for n, s in enumerate(SKUS) if w.channel(s) != 5 + n)
        assert w.channel_writes() == writes_before and _created(store, "inventory_adjustments") == 0
        # every adjustment says why, with its key on the first line and the configured account
        note = w.adjustments()[0]["PrivateNote"]
        assert note.split("\n")[0].startswith("ledgerlink InventoryAdjustment:bigcommerce")
        assert "Stock level from bigcommerce: 1 says" in note
        shrinkage = w.company.id_named("Account", "Inventory Shrinkage")
        assert {a["AdjustAccountRef"]["value"] for a in w.adjustments()} == {shrinkage}

        # (a) the channel moves, QuickBooks did not: QuickBooks is adjusted, by the difference
        w.set_channel("ABS", w.channel("ABS") + 4)
        count = len(w.adjustments())
        books, store = w.round()
        assert w.books("ABS") == w.channel("ABS")
        assert len(w.adjustments()) == count + 1 and _created(books, "InventoryAdjustment") == 1
        assert w.adjustments()[-1]["Line"][0]["ItemAdjustmentLineDetail"]["QtyDiff"] == 4
        assert _created(store, "inventory_adjustments") == 0

        # (b) QuickBooks moves: the channel follows, and the next channel → QuickBooks run does not echo it back
        w.set_books("CC3C", 40)
        count, writes_before = len(w.adjustments()), w.channel_writes()
        books, store = w.round()
        assert _created(books, "InventoryAdjustment") == 0  # the channel had not moved
        assert w.channel("CC3C") == 40 and _created(store, "inventory_adjustments") == 1
        assert w.channel_writes() == writes_before + 1
        books, store = w.round()
        assert w.books("CC3C") == 40 and len(w.adjustments()) == count
        assert _created(books, "InventoryAdjustment") == 0 and _created(store, "inventory_adjustments") == 0
        assert w.channel_writes() == writes_before + 1


@pytest.mark.parametrize("rule", ["channel_wins", "quickbooks_wins"])
def test_a_two_way_conflict_is_settled_by_the_rule_and_a_second_round_changes_nothing(world, rule):
    with world(INVENTORY_CONFLICT=rule) as w:
        w.round()
        agreed = w.channel("OTL")
        assert w.books("OTL") == agreed
        # both sides move before either pipeline runs
        w.set_channel("OTL", agreed + 3)
        w.set_books("OTL", agreed + 10)
        books, store = w.round()
        winner = agreed + 3 if rule == "channel_wins" else agreed + 10
        assert w.channel("OTL") == winner and w.books("OTL") == winner
        if rule == "channel_wins":
            assert _created(books, "InventoryAdjustment") == 1 and _created(store, "inventory_adjustments") == 0
        else:  # QuickBooks' count stands; the channel is overwritten
            assert _created(books, "InventoryAdjustment") == 0 and _created(store, "inventory_adjustments") == 1
        adjustments, writes = len(w.adjustments()), w.channel_writes()
        books, store = w.round()
        assert (len(w.adjustments()), w.channel_writes()) == (adjustments, writes)
        assert w.channel("OTL") == w.books("OTL") == winner


def test_quickbooks_mastered_skus_only_flow_from_quickbooks(world):
    with world(INVENTORY_MASTER="quickbooks") as w:
        w.set_channel("ABS", 2)
        # every QuickBooks inventory item goes to the store: one the store does not sell is a dead letter
        books, store = w.round(store_dead_letters=1)
        assert _created(books, "InventoryAdjustment") == 0 and w.adjustments() == []
        assert [w.channel(s) for s in SKUS] == [5, 6, 7]  # QuickBooks' counts went to the channel
        from ledgerlink.store import Store

        state = Store(w.tmp_path / "to-store.duckdb")
        try:
            [(key, message)] = state.db.fetchall("SELECT record_key, message FROM dead_letters WHERE status = 'open'")
        finally:
            state.close()
        assert "Sprinkler Heads" in key and "does not exist" in message
        before = w.channel_writes()
        w.round(store_dead_letters=1)
        assert w.channel_writes() == before


def test_drift_report_lists_skus_beyond_the_threshold(world):
    with world() as w:
        w.round()
        w.set_books("ABS", w.channel("ABS") + 2)  # counted in QuickBooks, not yet synced
        out = subprocess.run([sys.executable, "-m", "ledgerlink", "reconcile", str(w.to_books_file), "--json",
                              "--check", "inventory_drift"], capture_output=True, text=True,
                             env={**__import__("os").environ, **w.env,
                                  "LEDGERLINK_STATE": str(w.tmp_path / "to-books.duckdb")})
        assert out.returncode == 5, out.stderr
        report = json.loads(out.stdout)
        assert [(f["subject"], f["expected"], f["actual"]) for f in report["findings"]] == [
            ("SKU ABS", str(w.channel("ABS")), str(w.channel("ABS") + 2))]
        w.round()  # two-way: QuickBooks moved, so the channel follows
        assert sync(w.to_books).status == "succeeded"  # the drift report compares the channel's counts as last read
        again = subprocess.run([sys.executable, "-m", "ledgerlink", "reconcile", str(w.to_books_file), "--json",
                                "--check", "inventory_drift"], capture_output=True, text=True,
                               env={**__import__("os").environ, **w.env,
                                    "LEDGERLINK_STATE": str(w.tmp_path / "to-books.duckdb")})
        assert again.returncode == 0, again.stdout + again.stderr
        assert json.loads(again.stdout)["ok"] is True


def test_a_sku_without_a_quickbooks_inventory_item_is_a_dead_letter_naming_the_fix(world):
    with world(INVENTORY_UNKNOWN_SKUS="dead_letter") as w:
        report = sync(w.to_books)
        from ledgerlink.store import Store

        state = Store(w.tmp_path / "to-books.duckdb")
        try:
            letters = state.db.fetchall("SELECT record_key, message, hint FROM dead_letters WHERE status = 'open'")
        finally:
            state.close()
        stocked = {row["sku"] for (loc, vid), row in
                   ((k, w.bc.store.book.variants[k[1]]) for k in w.bc.store.book.stock if k[1] in w.bc.store.book.variants)
                   if loc == LOCATION}
        assert report.counts["dead_letters_open"] == len(letters) == len(stocked - set(SKUS)) > 0
        key, message, hint = letters[0]
        sku = next(s for s in stocked - set(SKUS) if f"/{s}@" in key)
        assert f"no item named {sku!r}" in message and "create an inventory item" in hint
        assert [w.books(s) for s in SKUS] == [w.channel(s) for s in SKUS]  # the others posted all the same
