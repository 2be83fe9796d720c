"""The normalisers: shipment rows grouped by order and tracking number into Shipments with a line per SKU;
cost rows into Products with a Decimal cost; every bad row a RecordError naming file, line and column."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink import RecordError
from ledgerlink.files import FilesSource

from files_helpers import SHIPMENT_COLUMNS, write

HEADER = "Order #,Tracking,Carrier,Ship Date,SKU,Qty\n"


def _normalise(tmp_path, text: str, **options):
    """Read a file through the source and normalise each row as the runtime would (self-join on the order)."""
    f = write(tmp_path / "x.csv", text)
    source = FilesSource()
    config = {"streams": [{"name": "s", "path": str(f), **options}]}
    rows = [m.record.data for m in source.read(config) if m.record is not None]
    [normaliser] = source.normalisers()
    out = []
    for row in rows:
        related = {}
        for other, (other_field, this_field) in normaliser.join.items():
            related[other] = [r for r in rows if r.get(other_field) is not None
                              and str(r.get(other_field)) == str(row.get(this_field))]
        try:
            out.append(normaliser.function(row, related))
        except RecordError as exc:
            out.append(exc)
    return f, out


def test_rows_of_one_order_and_tracking_are_one_shipment_with_a_line_per_sku(tmp_path):
    _, out = _normalise(tmp_path, HEADER + "7,1ZA,UPS,2024-05-01T10:00:00,A,1\n7,1ZA,UPS,,B,2\n7,1ZB,USPS,2024-05-02,A,1\n"
                                            "7,1ZA,,,A,3\n", normalise="shipments", columns=SHIPMENT_COLUMNS)
    first = out[0][0]
    assert all(o == [first] for o in (out[1], out[3]))  # every row of the group yields the same shipment
    assert first.natural_key == "files/shipment/7/1ZA" and first.order_id == "7" and first.carrier == "UPS"
    assert [(li.sku, li.quantity) for li in first.lines] == [("A", Decimal(4)), ("B", Decimal(2))]
    assert first.shipped_at == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    [other] = out[2]
    assert other.tracking_number == "1ZB" and other.shipped_at == datetime(2024, 5, 2, tzinfo=timezone.utc)


def test_a_bad_row_is_a_dead_letter_and_holds_its_shipment(tmp_path):
    f, out = _normalise(tmp_path, HEADER + "7,1ZA,UPS,,A,1\n7,1ZA,UPS,,B,-1\n8,1ZC,UPS,,C,0\n9,1ZD,UPS,,D,two\n",
                        normalise="shipments", columns=SHIPMENT_COLUMNS)
    assert out[0] == []  # held: the shipment would be short without line 3
    assert isinstance(out[1], RecordError) and out[1].field == "Qty" and out[1].key == f"{f}, line 3"
    assert str(out[1]).startswith(f"s/{f}, line 3: field 'Qty': quantity -1 is negative")
    assert "is zero" in str(out[2]) and "'two' is not a number" in str(out[3])
    assert all(e.hint for e in out[1:])


def test_a_missing_column_names_the_files_columns(tmp_path):
    _, out = _normalise(tmp_path, "Order,Tracking,SKU\n7,1ZA,A\n", normalise="shipments",
                        columns={"tracking_number": "Tracking", "sku": "SKU"})
    err = out[0]
    assert isinstance(err, RecordError) and err.field == "order_id"
    assert "no column 'order_id' for order_id" in str(err)
    assert "'Order', 'Tracking', 'SKU'" in err.hint and "columns: {order_id: <column>}" in err.hint


def test_no_quantity_column_ships_one_and_dates_follow_date_format(tmp_path):
    _, out = _normalise(tmp_path, "order_id,tracking_number,sku,shipped_at\n7,1ZA,A,05/01/2024\n7,1ZA,A,x\n",
                        normalise="shipments", date_format="%m/%d/%Y")
    assert isinstance(out[1], RecordError) and "cannot read 'x' as a date" in str(out[1])
    assert "%m/%d/%Y" in out[1].hint
    _, out = _normalise(tmp_path, "order_id,tracking_number,sku,shipped_at\n7,1ZA,A,05/01/2024\n",
                        normalise="shipments", date_format="%m/%d/%Y")
    [s] = out[0]
    assert s.lines[0].quantity == 1 and s.shipped_at == datetime(2024, 5, 1, tzinfo=timezone.utc)


def test_unreadable_rows_are_record_errors_with_file_and_line(tmp_path):
    f, out = _normalise(tmp_path, HEADER + "7,1ZA\n", normalise="shipments", columns=SHIPMENT_COLUMNS)
    assert isinstance(out[0], RecordError)
    assert str(out[0]).startswith(f"s/{f}, line 2: 2 values where the header has 6 columns")
    f, out = _normalise(tmp_path, "a\n1\n1,2\n")  # a stream only staged still reports it
    assert out[0] == [] and isinstance(out[1], RecordError) and f"{f}, line 3" in str(out[1])


COSTS = {"sku": "Item", "cost": "Unit Cost", "currency": "Ccy", "name": "Title"}


def test_costs_become_products_with_a_decimal_cost(tmp_path):
    _, out = _normalise(tmp_path, "Item,Unit Cost,Ccy,Title\nA-1,\"1,234.50\",usd,Widget\nB-2,0.10,,\n",
                        normalise="costs", columns=COSTS, default_currency="EUR")
    [a], [b] = out
    assert a.natural_key == "files/product/A-1" and a.name == "Widget"
    assert a.cost.amount == Decimal("1234.50") and a.cost.currency == "USD"
    assert b.name == "B-2" and b.cost.amount == Decimal("0.10") and b.cost.currency == "EUR"


@pytest.mark.parametrize("row, field, message", [
    ("A-1,$4,USD,", "Unit Cost", "cost '$4' is not a number"),
    ("A-1,-4,USD,", "Unit Cost", "cost -4 is negative"),
    ("A-1,,USD,", "Unit Cost", "cost is empty"),
    (",4,USD,", "Item", "sku is empty"),
    ("A-1,4,,", "Ccy", "no currency for the cost"),
    ("A-1,4,dollars,", "Ccy", "is not an ISO 4217 code"),
])
def test_bad_cost_rows(tmp_path, row, field, message):
    f, [err] = _normalise(tmp_path, f"Item,Unit Cost,Ccy,Title\n{row}\n", normalise="costs", columns=COSTS)
    assert isinstance(err, RecordError) and err.field == field and err.key == f"{f}, line 2"
    assert message in str(err) and err.hint
