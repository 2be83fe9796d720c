"""The sandbox's seller book: deterministic, realistic, and cheap at benchmark scale."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from ledgerlink_amazon_sp.sandbox.seed import SKUS, SellerBook

ANCHOR = datetime(2024, 6, 1, tzinfo=timezone.utc)


def test_same_seed_same_orders_other_seed_other_orders():
    a, b, c = SellerBook(50, 7, ANCHOR), SellerBook(50, 7, ANCHOR), SellerBook(50, 8, ANCHOR)
    assert list(a) == list(b) and [a.items(i) for i in range(50)] == [b.items(i) for i in range(50)]
    assert list(a) != list(c)


def test_a_realistic_mix():
    book = SellerBook(600, 7, ANCHOR, defects=5)
    orders = list(book)
    statuses = Counter(o["OrderStatus"] for o in orders)
    assert statuses["Shipped"] > 300 and statuses["Pending"] and statuses["Canceled"] and statuses["Unshipped"]
    assert {o["MarketplaceId"] for o in orders} == {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"}
    assert {o["FulfillmentChannel"] for o in orders} == {"AFN", "MFN"}
    assert any(o["IsBusinessOrder"] for o in orders)
    assert all(o["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.com") for o in orders if "BuyerInfo" in o)
    items = [it for i in range(book.count) for it in book.items(i)]
    assert {it.get("SellerSKU") for it in items} == {s.sku for s in SKUS} | {None}
    assert sum("SellerSKU" not in it for it in items) == 5
    assert any("PromotionIds" in it for it in items) and any("ShippingPrice" in it for it in items)
    assert {len(book.items(i)) for i in range(book.count)} == {1, 2, 3}
    newest = max(o["LastUpdateDate"] for o in orders)
    assert newest <= "2024-05-31T23:50:00Z" and min(o["PurchaseDate"] for o in orders) >= "2024-04-02"


def test_benchmark_scale_and_order_ids_round_trip():
    book = SellerBook(100_000, 7, ANCHOR, lines_per_order=2)
    ids = book.select(["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"], 0, 2**40)
    assert len(ids) == 100_000 and len(set(ids)) == 100_000
    for i in (0, 1, 99_999, ids[500]):
        assert book.index_of(book.order_id(i)) == i and len(book.items(i)) == 2
    assert book.index_of("111-1234567-7654321") is None
