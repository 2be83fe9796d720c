"""Refunds and returns into QuickBooks Online, end to end: `ledgerlink sync` of the shipped returns pipelines
against the Amazon / BigCommerce sandboxes and the QBO sandbox over loopback.

Oracles are the sandboxes' own seeded books (Amazon's finance events and FBA returns report rows, BigCommerce's
refunds) and the QBO company's objects: credit memo totals, item QtyOnHand, the adjustment's account."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_amazon_sp.sandbox.seed_finances import FinanceBook
from ledgerlink_amazon_sp.sandbox.seed_reports import FbaEvents
from returns_helpers import AMAZON_START

US = "ATVPDKIKX0DER"


def without_returns_report(text: str) -> str:
    out = text.replace("streams: [orders, order_items, finances, fba_customer_returns]",
                       "streams: [orders, order_items, finances]")
    assert out != text
    return out


def entities(company: Any, kind: str) -> list[dict[str, Any]]:
    return list(company.entities.get(kind, {}).values())


def first_line(doc: dict[str, Any]) -> str:
    return str(doc.get("PrivateNote") or "").split("\n", 1)[0]


def quantities(company: Any) -> dict[str, Decimal]:
    return {i["Name"]: Decimal(str(i.get("QtyOnHand", 0))) for i in entities(company, "Item") if i.get("TrackQtyOnHand")}


def amazon_refunds(amazon: Any) -> dict[str, Decimal]:
    """Order id → what the buyer got back, tax left out (US marketplace-facilitator tax is Amazon's)."""
    out: dict[str, Decimal] = {}
    for e in FinanceBook(amazon.api.book).events:
        if e.kind == "Refund" and e.marketplace == US:
            back = sum((-v for i in e.items for k, v in i.charges.items() if k not in ("Tax", "ShippingTax")),
                       Decimal(0)) - sum((v for i in e.items for v in i.promotions.values()), Decimal(0))
            out[e.order_id] = out.get(e.order_id, Decimal(0)) + back
    return out


def amazon_returns(amazon: Any) -> list[dict[str, str]]:
    start = int(datetime.fromisoformat(AMAZON_START).timestamp())
    return FbaEvents(amazon.api.book).select("returns", [US], start, int(datetime.now(timezone.utc).timestamp()))


def test_amazon_refunds_post_as_credit_memos_once_and_only_sellable_returns_restock(qbo_world):
    with qbo_world("amazon_sp", orders=200) as w:
        company, amazon = w["company"], w["store"]
        refunds = amazon_refunds(amazon)
        returns = amazon_returns(amazon)
        refunded = {r["order-id"]: r["detailed-disposition"] for r in returns if r["order-id"] in refunds}
        # the seed has a refunded order whose unit came back sellable, and one whose unit came back damaged
        assert "SELLABLE" in refunded.values() and set(refunded.values()) - {"SELLABLE"}, refunded

        # 1. orders and refunds only: each refund a credit memo for what the buyer got back; no stock moves
        first = sync(w["pipeline"](without_returns_report))
        assert first.status == "succeeded", first.errors
        memos = {first_line(m): m for m in entities(company, "CreditMemo")}
        assert len(memos) == len(refunds) == first.counts["created"]["CreditMemo"] > 0
        for order_id, back in refunds.items():
            [memo] = [m for k, m in memos.items() if k.startswith(f"ledgerlink CreditMemo:amazon_sp/refund/{order_id}/")]
            assert Decimal(str(memo["TotalAmt"])) == back and memo["TxnTaxDetail"]["TotalTax"] == 0
            assert "marketplace-collected tax" in memo["PrivateNote"] and "not restocked" in memo["PrivateNote"]
            refunds_item = company.id_named("Item", "Refunds")
            assert {ln["SalesItemLineDetail"]["ItemRef"]["value"] for ln in memo["Line"]
                    if ln["DetailType"] == "SalesItemLineDetail"} <= {refunds_item, company.id_named("Item", "Shipping")}
            # the refund goes to the customer the sale went to
            assert memo["CustomerRef"]["value"] == company.id_named("Customer", "Amazon.com USD")
        assert not entities(company, "InventoryAdjustment")
        before = quantities(company)

        # 2. with the returns report: a sellable unit goes back on the shelf, cost of goods reverses; a damaged
        # one does not move
        second = sync(w["pipeline"]())
        assert second.status == "succeeded" and second.counts["dead_letters_open"] == 0, second.errors
        after = quantities(company)
        sellable: dict[str, Decimal] = {}
        for r in returns:
            if r["detailed-disposition"] == "SELLABLE":
                sellable[r["sku"]] = sellable.get(r["sku"], Decimal(0)) + Decimal(r["quantity"])
        assert {sku: after[sku] - before[sku] for sku in after if after[sku] != before[sku]} == sellable
        damaged = {r["sku"] for r in returns if r["detailed-disposition"] != "SELLABLE"} - set(sellable)
        assert damaged and all(after[sku] == before[sku] for sku in damaged)
        adjustments = entities(company, "InventoryAdjustment")
        assert len(adjustments) == sum(1 for r in returns if r["detailed-disposition"] == "SELLABLE")
        cogs = company.id_named("Account", "Cost of Goods Sold")
        assert {a["AdjustAccountRef"]["value"] for a in adjustments} == {cogs}
        assert all(ln["ItemAdjustmentLineDetail"]["QtyDiff"] > 0 for a in adjustments for ln in a["Line"])
        assert all("came back SELLABLE" in a["PrivateNote"] for a in adjustments)
        # nothing restocks a damaged unit: it is counted as not posted
        assert second.counts["objects"]["return"] == len(returns)

        # 3. again: nothing is posted twice
        counts = {k: len(v) for k, v in company.entities.items()}
        third = sync(w["pipeline"]())
        assert third.status == "succeeded" and third.counts.get("created", {}) == {}
        assert {k: len(v) for k, v in company.entities.items()} == counts


def test_refund_receipts_by_option_pay_back_from_the_refund_account(qbo_world):
    with qbo_world("amazon_sp", orders=200) as w:
        company = w["company"]
        refunds = amazon_refunds(w["store"])
        report = sync(w["pipeline"](lambda t: without_returns_report(t).replace(
            "refund_document: credit_memo", "refund_document: refund_receipt")))
        assert report.status == "succeeded", report.errors
        receipts = entities(company, "RefundReceipt")
        assert not entities(company, "CreditMemo") and len(receipts) == len(refunds)
        assert sorted(Decimal(str(r["TotalAmt"])) for r in receipts) == sorted(refunds.values())
        funds = company.id_named("Account", "Undeposited Funds")
        assert {r["DepositToAccountRef"]["value"] for r in receipts} == {funds}
        assert all(first_line(r).startswith("ledgerlink RefundReceipt:amazon_sp/refund/") for r in receipts)


def _refunded_orders(w: Any, count: int) -> list[int]:
    """`count` orders placed now, Partially Refunded: the sandbox refunds one unit of the first product of each,
    every other one with the return flag on its order product."""
    import httpx

    return [httpx.post(f"{w['store_url']}/_sandbox/orders", json={"status_id": 14}).json()["id"] for _ in range(count)]


def test_bigcommerce_return_flag_restocks_and_a_refund_without_it_does_not(qbo_world):
    with qbo_world("bigcommerce", orders=15) as w:
        company, book = w["company"], w["store"].store.book
        ids = _refunded_orders(w, 2)
        refunds = {r["order_id"]: r for r in book.refunds if r["order_id"] in ids}
        flagged = [oid for oid in ids if book.order_products[oid][0]["return_id"]]
        unflagged = [oid for oid in ids if not book.order_products[oid][0]["return_id"]]
        assert len(flagged) == len(unflagged) == 1
        report = sync(w["pipeline"]())
        assert report.status == "succeeded" and report.counts["dead_letters_open"] == 0, report.errors
        memos = {first_line(m): m for m in entities(company, "CreditMemo")}
        for oid in ids:
            memo = memos[f"ledgerlink CreditMemo:bigcommerce@abc123/refund/{refunds[oid]['id']}"]
            assert Decimal(str(memo["TotalAmt"])) == Decimal(refunds[oid]["total_amount"])
            assert memo["CustomerRef"]["value"] == company.id_named("Customer", "BigCommerce USD")
        sku = book.order_products[flagged[0]][0]["sku"]
        [adjustment] = entities(company, "InventoryAdjustment")
        [line] = adjustment["Line"]
        assert line["ItemAdjustmentLineDetail"]["ItemRef"]["value"] == company.id_named("Item", sku)
        assert line["ItemAdjustmentLineDetail"]["QtyDiff"] == 1
        assert adjustment["AdjustAccountRef"]["value"] == company.id_named("Account", "Cost of Goods Sold")
        unflagged_memo = memos[f"ledgerlink CreditMemo:bigcommerce@abc123/refund/{refunds[unflagged[0]]['id']}"]
        assert "not restocked" in unflagged_memo["PrivateNote"]


def test_a_refund_larger_than_its_order_is_a_dead_letter_and_nothing_else_is_lost(qbo_world):
    with qbo_world("bigcommerce", orders=15) as w:
        company, store = w["company"], w["store"].store
        [oid] = _refunded_orders(w, 1)
        order = store.book.orders[oid]
        line = store.book.order_products[oid][0]
        too_much = Decimal(order["total_inc_tax"]) + Decimal("10.00")
        with store.lock:  # a second refund booked against the order: more than the buyer ever paid
            store.book.refunds.append({
                "id": 9999, "order_id": oid, "user_id": 0, "created": "2026-11-01T10:00:00+00:00",
                "reason": "Wrong order", "total_amount": too_much, "total_tax": Decimal(0),
                "uses_merchant_override_values": True,
                "items": [{"item_type": "PRODUCT", "item_id": line["id"], "quantity": 1, "requested_amount": too_much}],
                "payments": []})
        report = sync(w["pipeline"]())
        assert report.status == "succeeded" and report.counts["dead_letters_open"] == 1
        state = Store(w["state"])
        try:
            row = state.db.fetchone("SELECT stage, stream, record_key, message, hint FROM dead_letters")
        finally:
            state.close()
        stage, stream, key, message, hint = row
        assert (stage, stream, key) == ("normalise", "refunds", "9999")
        assert f"is larger than order {oid}'s total of {Decimal(order['total_inc_tax'])} USD" in message
        assert "dlq retry" in hint
        # the order and its own refund posted; the bad refund posted nothing
        keys = {first_line(m) for m in entities(company, "CreditMemo")}
        assert "ledgerlink CreditMemo:bigcommerce@abc123/refund/9999" not in keys and len(keys) == 1
        assert any(first_line(r) == f"ledgerlink SalesReceipt:bigcommerce@abc123/order/{oid}"
                   for r in entities(company, "SalesReceipt"))


def test_an_amazon_refund_larger_than_the_posted_sale_is_a_dead_letter_naming_the_fix(qbo_world):
    with qbo_world("amazon_sp", orders=60) as w:
        company, amazon = w["company"], w["store"]
        refunds = [e for e in amazon.api.finances.book.events if e.kind == "Refund" and e.marketplace == US]
        assert len(refunds) >= 2
        bad = refunds[0]
        item = bad.items[0]
        item.charges["Principal"] = item.charges["Principal"] * 10  # Amazon books ten times what was paid
        report = sync(w["pipeline"](without_returns_report))
        assert report.status == "succeeded" and report.counts["dead_letters_open"] == 1
        state = Store(w["state"])
        try:
            stage, key, message, hint = state.db.fetchone(
                "SELECT stage, record_key, message, hint FROM dead_letters WHERE status = 'open'")
        finally:
            state.close()
        assert stage == "plan" and key.startswith(f"amazon_sp/refund/{bad.order_id}/")
        assert f"is larger than order {bad.order_id}'s total" in message and "dlq retry" in hint
        # its sale and the other refunds posted; the bad one posted nothing
        memos = [first_line(m) for m in entities(company, "CreditMemo")]
        assert len(memos) == len(refunds) - 1 and not any(bad.order_id in m for m in memos)
        assert any(first_line(r) == f"ledgerlink SalesReceipt:amazon_sp/order/{bad.order_id}"
                   for r in entities(company, "SalesReceipt"))
