"""End to end over loopback: Amazon sandbox → served pipeline → simulated Web Connector + company file."""

from __future__ import annotations

from decimal import Decimal

import httpx



def _sync_and_settle(w):
    w["service"].trigger("test")
    return w["settle"]()


def test_orders_become_sales_receipts_exactly_once(qbd_world):
    with qbd_world(orders=12) as w:
        _sync_and_settle(w)
        company = w["company"]
        receipts = company.txns.get("SalesReceipt", [])
        assert receipts, company.counts()
        report = w["service"].last_report
        assert report["status"] == "succeeded"
        store = w["service"].store
        done = store.db.fetchone("SELECT count(*) FROM outbox WHERE stream = 'SalesReceipt' AND status = 'done'")[0]
        assert done == len(receipts)
        assert store.awaiting("qb_desktop").count() == 0
        # each receipt carries its key on the first line of Memo and exactly one exists per key
        keys = [r["Memo"].split("\n", 1)[0] for r in receipts]
        assert len(keys) == len(set(keys)) and all(k.startswith("ledgerlink SalesReceipt:amazon_sp/order/") for k in keys)
        # results hold QuickBooks' TxnIDs
        ids = {r[0] for r in store.db.fetchall("SELECT destination_id FROM results WHERE stream = 'SalesReceipt'")}
        assert ids == {r["TxnID"] for r in receipts}
        before = company.counts()
        # a second round creates nothing
        _sync_and_settle(w)
        assert company.counts() == before
        assert all(k.startswith(("Customer", "Item", "SalesReceipt", "Account")) for k in company.requests)


def test_receipt_totals_tie_to_the_orders(qbd_world):
    with qbd_world(orders=8) as w:
        _sync_and_settle(w)
        store = w["service"].store
        for r in w["company"].txns["SalesReceipt"]:
            key = r["Memo"].split("\n", 1)[0].removeprefix("ledgerlink ")
            order_id = key.rsplit("/", 1)[1]
            order = store.raw.get("orders", order_id)
            items = [d for _, d in store.raw.related("order_items", [order_id]).get(order_id, [])]
            facilitator = sum(Decimal(i.get("ItemTax", {}).get("Amount", "0"))
                              + Decimal(i.get("ShippingTax", {}).get("Amount", "0"))
                              for i in items if (i.get("TaxCollection") or {}).get("Model") == "MarketplaceFacilitator")
            assert Decimal(r["TotalAmount"]) == Decimal(order["OrderTotal"]["Amount"]) - facilitator


def test_runs_and_status_show_the_web_connectors_last_contact(qbd_world):
    with qbd_world(orders=3) as w:
        _sync_and_settle(w)
        status = httpx.get(f"{w['url']}/qbwc/status").json()
        assert status[0]["last_contact"] and status[0]["waiting"] == 0
        # the same contact reaches `ledgerlink runs` as a plugin status line (register_status_lines)
        from ledgerlink.runtime import status_lines

        lines = status_lines(w["pipeline"], w["service"].store)
        assert len(lines) == 1 and lines[0].startswith("QuickBooks Desktop"), lines
        assert f"last contact {status[0]['last_contact']}; 0 write(s) waiting" in lines[0]


def test_bigcommerce_orders_reach_quickbooks_desktop_exactly_once(qbd_world):
    """specs/pipelines/bigcommerce-to-qbd.yaml as shipped: paid store orders become receipts, once."""
    with qbd_world(orders=15, source="bigcommerce") as w:
        _sync_and_settle(w)
        receipts = w["company"].txns.get("SalesReceipt", [])
        report = w["service"].last_report
        assert report["status"] == "succeeded" and receipts
        keys = [r["Memo"].split("\n", 1)[0] for r in receipts]
        # keys name the store: every BigCommerce store numbers its orders from the same start
        assert len(keys) == len(set(keys)) and all(k.startswith("ledgerlink SalesReceipt:bigcommerce@abc123/order/")
                                                   for k in keys)
        before = w["company"].counts()
        _sync_and_settle(w)
        assert w["company"].counts() == before
