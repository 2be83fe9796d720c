"""The destinations' plans for stock levels: FBA stock never written from QuickBooks, QuickBooks Desktop's
InventoryAdjustmentAdd (valid qbXML, and the simulated company file's QuantityOnHand moves), bad input."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink import InventoryLevel, RecordError
from ledgerlink.inventory import open_baseline
from ledgerlink_amazon_sp.destination import AmazonSellingPartnerDestination
from ledgerlink_bigcommerce.destination import BigCommerceDestination
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.qbxml import add_request, build_message, parse_response
from ledgerlink_qb_desktop.sandbox import CompanyFile
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from ledgerlink_qbo.inventory_levels import normalise_item

WHEN = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)


class Ctx:
    def __init__(self, **inventory: Any):
        self.options: dict[str, Any] = {"inventory": inventory}
        self.cache: dict[Any, Any] = {}

    def render(self, *a: Any, **k: Any) -> Any:  # pragma: no cover - stock plans render no mapping
        raise AssertionError("no mapping expected")


def level(sku: str, qty: int, location: str, source: str = "amazon_sp") -> InventoryLevel:
    return InventoryLevel(source=source, sku=sku, location=location, on_hand=Decimal(qty), as_of=WHEN)


def books(sku: str, qty: int) -> InventoryLevel:
    return level(sku, qty, "quickbooks", "qbo")


def test_fba_stock_is_channel_mastered_and_never_written_from_quickbooks(tmp_path):
    ctx = Ctx(default="quickbooks", baseline=str(tmp_path / "b.sqlite"), fba_skus=["*-FBA"])
    # channel → QuickBooks: FBA stock posts although the default master is QuickBooks
    planned = QuickBooksOnlineDestination().plan(level("MUG", 9, "amazon_fba/ATVPDKIKX0DER"), ctx)
    assert [w.stream for w in planned] == ["InventoryAdjustment"]
    assert planned[0].data["_inventory"]["target"] == "9"
    # a merchant-fulfilled level of a QuickBooks-mastered SKU does not
    assert QuickBooksOnlineDestination().plan(level("TEA", 9, "1", "bigcommerce"), ctx) == []
    # QuickBooks → channel: the FBA SKU is never written, to Amazon or to a store; the other one is
    to_store = Ctx(default="quickbooks", baseline=str(tmp_path / "b.sqlite"), fba_skus=["*-FBA"], location="1")
    for destination in (AmazonSellingPartnerDestination(), BigCommerceDestination()):
        assert destination.plan(books("MUG", 3), to_store) == []
        assert destination.plan(books("CUP-FBA", 3), to_store) == []  # listed in fba_skus, never seen
    assert open_baseline(tmp_path / "b.sqlite").get("MUG").fba
    amazon = AmazonSellingPartnerDestination().plan(books("TEA", 4), Ctx(default="quickbooks",
                                                                        baseline=str(tmp_path / "c.sqlite")))
    assert [(w.stream, w.data["sku"], w.data["quantity"]) for w in amazon] == [("listing_quantities", "TEA", 4)]
    store = BigCommerceDestination().plan(books("TEA", 4), Ctx(default="quickbooks", location="2",
                                                               baseline=str(tmp_path / "d.sqlite")))
    assert store[0].data["items"] == [{"location_id": 2, "sku": "TEA", "quantity": 4}]


def test_a_store_needs_the_location_quickbooks_quantities_go_to(tmp_path):
    with pytest.raises(RecordError) as err:
        BigCommerceDestination().plan(books("TEA", 4), Ctx(default="quickbooks", baseline=str(tmp_path / "b")))
    assert err.value.field == "inventory.location"


@pytest.mark.parametrize("qty, field", [(-2, "on_hand"), (Decimal("1.5"), "on_hand")])
def test_a_negative_or_fractional_count_is_a_clear_error(tmp_path, qty, field):
    bad = InventoryLevel(source="bigcommerce", sku="TEA", location="1", on_hand=Decimal(qty), as_of=WHEN)
    with pytest.raises(RecordError) as err:
        QuickBooksOnlineDestination().plan(bad, Ctx(baseline=str(tmp_path / "b.sqlite")))
    assert err.value.field == field and "TEA" in str(err.value) and err.value.hint


def test_the_same_level_read_again_plans_the_same_key(tmp_path):
    ctx = Ctx(baseline=str(tmp_path / "b.sqlite"))
    first = QuickBooksOnlineDestination().plan(level("TEA", 5, "1", "bigcommerce"), ctx)
    again = QuickBooksOnlineDestination().plan(level("TEA", 5, "1", "bigcommerce"), ctx)
    assert first[0].key == again[0].key and first[0].payload_hash == again[0].payload_hash
    moved = QuickBooksOnlineDestination().plan(level("TEA", 6, "1", "bigcommerce"), ctx)
    assert moved[0].key != first[0].key
    assert first[0].data["PrivateNote"].split("\n")[0] == "ledgerlink " + first[0].key


def test_quickbooks_items_become_levels():
    item = {"Id": "19", "Name": "Sprinkler Heads", "Type": "Inventory", "TrackQtyOnHand": True,
            "QtyOnHand": Decimal("25"), "Active": True}
    [lv] = normalise_item(item, {})
    assert (lv.sku, lv.location, lv.on_hand, lv.source) == ("Sprinkler Heads", "quickbooks", 25, "qbo")
    assert normalise_item({**item, "Type": "NonInventory"}, {}) == []
    assert normalise_item({**item, "Active": False}, {}) == []


def test_quickbooks_desktop_sets_new_quantity_through_the_company_file(tmp_path, qbxml_xsd_path):
    ctx = Ctx(baseline=str(tmp_path / "b.sqlite"), account="Inventory Adjustments")
    [write] = QuickBooksDesktopDestination().plan(level("MUG-FBA", 12, "amazon_fba/ATVPDKIKX0DER"), ctx)
    body = write.data["InventoryAdjustmentAdd"]
    assert body["InventoryAdjustmentLineAdd"] == [{"ItemRef": {"FullName": "MUG-FBA"},
                                                   "QuantityAdjustment": {"NewQuantity": 12}}]
    assert body["Memo"].split("\n")[0] == "ledgerlink " + write.key
    assert QuickBooksDesktopDestination()._queue("InventoryAdjustment", _record(write)).awaiting
    company = CompanyFile(xsd=qbxml_xsd_path)
    company.items["mug-fba"] = {**company._list_obj(Name="MUG-FBA"), "Ret": "ItemInventoryRet",
                                "Account": "Sales", "QuantityOnHand": "3"}
    reply = company.handle(build_message([add_request("InventoryAdjustmentAdd", body, "1")], (16, 0)))
    [response] = parse_response(reply)
    assert response.status_code == 0, response
    assert Decimal(company.items["mug-fba"]["QuantityOnHand"]) == 12
    # an unknown item refuses the adjustment and moves nothing
    body["InventoryAdjustmentLineAdd"][0]["ItemRef"]["FullName"] = "NOPE"
    [refused] = parse_response(company.handle(build_message([add_request("InventoryAdjustmentAdd", body, "2")],
                                                            (16, 0))))
    assert refused.status_code == 3140 and Decimal(company.items["mug-fba"]["QuantityOnHand"]) == 12


def _record(write):
    from ledgerlink import OutboundRecord

    return OutboundRecord(key=write.key, stream=write.stream, data=write.data)


@pytest.fixture
def qbxml_xsd_path(reference_dir) -> str | None:
    path = reference_dir / "qbxml" / "xsd-16.0" / "qbxmlops160.xsd"
    if not path.exists():
        pytest.skip("qbXML XSD not found")
    pytest.importorskip("lxml")
    return str(path)


def test_without_an_inventory_section_no_stock_moves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default baseline path is relative: nothing may be written there either
    ctx = Ctx()
    ctx.options = {}
    assert QuickBooksOnlineDestination().plan(level("TEA", 5, "1", "bigcommerce"), ctx) == []
    assert QuickBooksDesktopDestination().plan(level("TEA", 5, "1", "bigcommerce"), ctx) == []
    assert BigCommerceDestination().plan(books("TEA", 5), ctx) == []
    assert AmazonSellingPartnerDestination().plan(books("TEA", 5), ctx) == []
    assert not (tmp_path / ".ledgerlink").exists()
