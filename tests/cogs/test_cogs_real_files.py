"""Amazon's own V1 settlement files (Amazon.ca, in ../shared/reference): the units each order and refund row moves
are counted from the rows the file gives (V1 carries quantity-purchased on an item's price row), and the COGS
journal balances with a line per SKU naming its rows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.cogs import CogsOptions, CostBook, CostEntry, build_cogs_journals, settlement_movements
from ledgerlink.settlements import Role, default_account_map
from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
from ledgerlink_amazon_sp.settlements.parser import decode_settlement_bytes, parse_settlement
from ledgerlink_amazon_sp.settlements.streams import settlement_record


@pytest.mark.parametrize("name", ["v1_flatfile_CAD_settlement_24288684721.txt",
                                  "v1_flatfile_CAD_settlement_23874396421_negative_total.txt"])
def test_the_real_v1_files_give_units_per_sku_and_a_balanced_cogs_journal(reference_dir, name):
    path = reference_dir / "amazon-sp-api" / "settlement-reports" / name
    parsed = parse_settlement(decode_settlement_bytes(path.read_bytes()), str(path))
    (s,) = normalise_settlement(settlement_record(parsed), {})
    movements, problems = settlement_movements(s)
    assert not problems
    # the oracle: the file read as plain TSV. V1 gives an item's quantity on a row of its own; its Principal row
    # (price-type) says whether it was sold or refunded; a WAREHOUSE_DAMAGE/LOST row carries its own quantity
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8", errors="replace")), delimiter="\t"))
    quantity = {(r["order-id"], r["order-item-code"]): Decimal(r["quantity-purchased"]) for r in rows
                if r.get("quantity-purchased") and r.get("order-item-code")}
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.get("price-type") == "Principal" and row.get("transaction-type") in ("Order", "Refund"):
            kind = "sold" if row["transaction-type"] == "Order" else "refunded"
            expected[(kind, row["sku"])] += quantity[(row["order-id"], row["order-item-code"])]
        elif row.get("transaction-type") in ("WAREHOUSE_DAMAGE", "WAREHOUSE_LOST"):
            kind = "damaged" if row["transaction-type"] == "WAREHOUSE_DAMAGE" else "lost"
            expected[(kind, row["sku"])] += Decimal(row["quantity-purchased"])
    got: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for m in movements:
        got[(m.kind, m.sku)] += abs(m.quantity)
    assert got == expected
    book = CostBook.of(CostEntry(sku=sku, unit_cost=Decimal("3.33")) for _, sku in got)
    if not got:  # the negative settlement is an inbound shipment's fees: no unit moved, no journal
        assert "negative" in name and build_cogs_journals(
            s, options=CogsOptions(enabled=True), book=book, accounts=default_account_map(),
            final_date=s.ends_at.date(), currency="CAD") == []
        return
    assert ("damaged", "SALTT30-CRML") in got
    [journal] = build_cogs_journals(s, options=CogsOptions(enabled=True), book=book, accounts=default_account_map(),
                                    final_date=s.ends_at.date(), currency="CAD")
    assert journal.balanced and all(l.rows for l in journal.lines)
    sold = sum((n for (k, _), n in got.items() if k != "refunded"), Decimal(0))
    back = sum((n for (k, _), n in got.items() if k == "refunded"), Decimal(0))
    assert -sum((l.amount for l in journal.lines if l.role == Role.INVENTORY_ASSET), Decimal(0)) == \
        (sold - back) * Decimal("3.33")
    assert journal.txn_date == s.ends_at.date() and isinstance(journal.txn_date, date)
