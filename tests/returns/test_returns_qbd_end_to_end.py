"""Refunds and returns into QuickBooks Desktop, end to end: the shipped amazon-returns-to-qbd pipeline served by
`ledgerlink serve`, the Amazon sandbox, and the simulated Web Connector + company file (every request checked
against Intuit's qbXML 16.0 XSD)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from ledgerlink_amazon_sp.sandbox.seed_finances import FinanceBook
from ledgerlink_amazon_sp.sandbox.seed_reports import FbaEvents
from returns_helpers import AMAZON_START

US = "ATVPDKIKX0DER"


def test_amazon_refunds_become_credit_memos_and_only_sellable_returns_restock(qbd_world):
    # the sales themselves are amazon-to-qbd's business: skipped here, so the Web Connector carries the refunds and
    # returns only (the refunds' customer is created from the credit memo's references when QuickBooks lacks it)
    with qbd_world(orders=200, edit=lambda text: text.replace(
            "  options:\n", "  options:\n    default_document: skip\n", 1)) as w:
        book = w["amazon"].api.book
        refunds: dict[str, Decimal] = {}
        for e in FinanceBook(book).events:
            if e.kind == "Refund" and e.marketplace == US:  # what the buyer got back, Amazon's tax left out
                refunds[e.order_id] = (sum((-v for i in e.items for k, v in i.charges.items()
                                            if k not in ("Tax", "ShippingTax")), Decimal(0))
                                       - sum((v for i in e.items for v in i.promotions.values()), Decimal(0)))
        start = int(datetime.fromisoformat(AMAZON_START).timestamp())
        returns = FbaEvents(book).select("returns", [US], start, int(datetime.now(timezone.utc).timestamp()))
        assert {r["detailed-disposition"] for r in returns if r["order-id"] in refunds} >= {"SELLABLE"}
        assert any(r["detailed-disposition"] != "SELLABLE" for r in returns)

        w["settle"]()
        company = w["company"]
        assert w["service"].last_report["status"] == "succeeded"
        memos = company.txns.get("CreditMemo", [])
        assert len(memos) == len(refunds) > 0
        for memo in memos:
            key = memo["Memo"].split("\n", 1)[0]
            assert key.startswith("ledgerlink CreditMemo:amazon_sp/refund/")
            order_id = key.removeprefix("ledgerlink CreditMemo:amazon_sp/refund/").split("/", 1)[0]
            assert Decimal(memo["TotalAmount"]) == refunds[order_id]
            assert memo["CustomerRef"] == "Amazon.com USD"
            assert {line["ItemRef"] for line in memo["Lines"]} <= {"Refunds", "Shipping"}

        sellable: dict[str, Decimal] = {}
        for r in returns:
            if r["detailed-disposition"] == "SELLABLE":
                sellable[r["sku"]] = sellable.get(r["sku"], Decimal(0)) + Decimal(r["quantity"])
        adjustments = company.txns.get("InventoryAdjustment", [])
        assert len(adjustments) == sum(1 for r in returns if r["detailed-disposition"] == "SELLABLE")
        assert {a["AccountRef"] for a in adjustments} == {"Cost of Goods Sold"}
        # the simulator moves QuantityOnHand only by adjustments: a sellable SKU is up by what came back (its
        # inventory item created from the adjustment's references), a SKU that only came back damaged has not
        # moved (nor been created: the sales are skipped here)
        for sku in {r["sku"] for r in returns}:
            held = Decimal(str(company.items.get(sku.lower(), {}).get("QuantityOnHand") or 0))
            assert held == sellable.get(sku, 0), sku
        assert all(company.items[sku.lower()]["Ret"] == "ItemInventoryRet" for sku in sellable)

        before = company.counts()
        w["settle"]()
        assert company.counts() == before
