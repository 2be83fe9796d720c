"""What the store reads back from staging keeps every amount exact: a joined stream's rows (`related`, what a
normaliser receives beside its record) and one record looked up by key (`get`, for trace, review and the
designer's preview) decode non-integer numbers as Decimal, as the normaliser's own records do."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink import json_dumps
from ledgerlink.store import Store


def test_related_and_get_read_amounts_as_decimals_with_their_own_digits(tmp_path):
    store = Store(tmp_path / "exact.duckdb")
    try:
        line = {"order_id": "100", "price_inc_tax": 19.99, "base_price": 0.1, "quantity": 3, "tax": 1.10}
        store.raw.stage("order_products", ["p1"], [None], [json_dumps(line)], ["100"], 1)
        [(pk, row)] = store.raw.related("order_products", ["100"])["100"]
        assert pk == "p1"
        assert row["price_inc_tax"] == Decimal("19.99") and type(row["price_inc_tax"]) is Decimal
        assert type(row["base_price"]) is Decimal and row["base_price"] + Decimal("0.2") == Decimal("0.3")
        assert row["quantity"] == 3 and type(row["quantity"]) is int
        got = store.raw.get("order_products", "p1")
        assert got == row and type(got["tax"]) is Decimal and str(got["tax"]) == "1.1"
    finally:
        store.close()
