"""Amazon's VAT marketplaces (Amazon.co.uk here): prices include the tax Amazon reports beside them, yet the
canonical order stays tax-exclusive and its grand total is what the buyer paid. The seeded UK orders, a
hand-worked UK order in both Orders APIs, the sandbox against Amazon's models, and a UK order posted to
QuickBooks Online end to end."""

from __future__ import annotations

import contextlib
import copy
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import httpx
import jsonschema
import pytest

from ledgerlink import Order, RecordError
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from ledgerlink_amazon_sp import normalise_order
from ledgerlink_amazon_sp.marketplaces import TAX_INCLUSIVE_MARKETPLACES, prices_include_tax
from ledgerlink_amazon_sp.orders.normalise_2026 import normalise_order_2026
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import MARKETPLACES, UK, SellerBook
from ledgerlink_amazon_sp.sandbox.seed_finances import FinanceBook
from ledgerlink_amazon_sp.sandbox.seed_settlements import settlement_documents
from ledgerlink_amazon_sp.timestamps import format_time
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, shipped
from amazon_models import strict  # noqa: E402

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)
ALL_DATA = frozenset(INCLUDED_DATA)
D = Decimal


def _v0(book: SellerBook, i: int) -> tuple[dict[str, Any], list[dict[str, Any]], Order]:
    order, items = book.order_and_items(i)
    related = {"order_items": [{**it, "AmazonOrderId": order["AmazonOrderId"]} for it in items]}
    return order, items, normalise_order(order, related)[0]


def _amount(item: dict[str, Any], name: str) -> Decimal:
    return D(item[name]["Amount"]) if name in item else D(0)


# ---------------------------------------------------------------------------------------------- the rule


def test_vat_marketplaces_include_tax_us_and_ca_add_it_on_top():
    for uk_eu_jp in ("A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1RKKUPIHCS9HS",
                     "A1805IZSGTT6HS", "A2NODRKZP88ZB9", "A1C3SOZRARQ6R3", "A1VC38T7YXB528"):
        assert prices_include_tax(uk_eu_jp)
    assert not prices_include_tax(US) and not prices_include_tax(CA) and not prices_include_tax(None)
    assert prices_include_tax("A39IBJ37TRP1C6", TAX_INCLUSIVE_MARKETPLACES | {"A39IBJ37TRP1C6"})


# ---------------------------------------------------------------------------------------------- seeded orders


def test_every_seeded_uk_order_is_tax_exclusive_and_totals_its_order_total():
    book = SellerBook(100, 7, ANCHOR, uk_orders=160)
    seen: Counter[str] = Counter()
    for i in range(book.count, book.total):
        order, items, canonical = _v0(book, i)
        assert order["MarketplaceId"] == UK and order["SalesChannel"] == "Amazon.co.uk"
        assert canonical.currency == "GBP" and canonical.tax_collected_by == "seller"
        seen[order["FulfillmentChannel"]] += 1
        if "OrderTotal" not in order:
            assert order["OrderStatus"] in ("Pending", "Canceled")
            continue
        assert order["OrderTotal"]["CurrencyCode"] == "GBP"
        assert canonical.grand_total.amount == D(order["OrderTotal"]["Amount"])
        for item, line in zip(sorted(items, key=lambda it: it["OrderItemId"]), canonical.lines):
            price, tax = _amount(item, "ItemPrice"), _amount(item, "ItemTax")
            promo, promo_tax = _amount(item, "PromotionDiscount"), _amount(item, "PromotionDiscountTax")
            assert line.amount.amount == price - tax and line.unit_price.amount == (price - tax) / line.quantity
            assert line.tax.amount == tax - promo_tax and line.discount.amount == promo - promo_tax
            assert line.shipping.amount == _amount(item, "ShippingPrice") - _amount(item, "ShippingTax")
            free, free_tax = _amount(item, "ShippingDiscount"), _amount(item, "ShippingDiscountTax")
            assert line.shipping_discount.amount == free - free_tax
            # 20 % VAT: the tax is a sixth of the VAT-inclusive price, to the cent
            assert abs(tax - price / 6) <= D("0.005") and abs(line.tax.amount - line.amount.amount * D("0.2")
                                                               + line.discount.amount * D("0.2")) <= D("0.02")
            assert all(isinstance(getattr(line, f).amount, Decimal) for f in ("amount", "tax", "discount", "shipping"))
            seen["promotion"] += bool(promo)
            seen["free shipping"] += bool(_amount(item, "ShippingDiscount"))
            seen["shipping"] += bool(_amount(item, "ShippingPrice"))
        seen["priced"] += 1
        assert order["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.co.uk")
        assert order["ShippingAddress"]["CountryCode"] == "GB"
    assert seen["AFN"] and seen["MFN"] and seen["priced"] > 130
    assert seen["promotion"] and seen["free shipping"] and seen["shipping"]


def test_the_2026_shape_of_every_uk_order_normalises_as_its_v0_twin():
    book = SellerBook(20, 11, ANCHOR, uk_orders=120)
    for i in range(book.count, book.total):
        _order, _items, v0 = _v0(book, i)
        raw = book.order_2026(i, ALL_DATA)
        new = normalise_order_2026(raw, {})[0]
        skip = {"source_refs", "status", "customer", "payment_method"}
        a, b = v0.model_dump(exclude=skip), new.model_dump(exclude=skip)
        for line in a["lines"] + b["lines"]:
            line.pop("source_ref")
        assert a == b
        if "proceeds" in raw:
            assert new.grand_total.amount == D(raw["proceeds"]["grandTotal"]["amount"])


def test_uk_orders_leave_the_us_and_ca_seller_as_it_was():
    plain, with_uk = SellerBook(300, 7, ANCHOR, defects=3), SellerBook(300, 7, ANCHOR, defects=3, uk_orders=60)
    assert [plain.order_and_items(i) for i in range(300)] == [with_uk.order_and_items(i) for i in range(300)]
    for created in (False, True):
        assert plain.select([US, CA], 0, 2**40, created=created) == with_uk.select([US, CA], 0, 2**40, created=created)
        assert plain.select([US], 0, 2**40, created=created) == with_uk.select([US], 0, 2**40, created=created)
    assert with_uk.select([UK], 0, 2**40) == sorted(range(300, 360), key=lambda i: (with_uk.updated[i], i))
    assert [o for o in with_uk if o["MarketplaceId"] != UK] == list(plain)
    assert with_uk.index_of(with_uk.order_id(359)) == 359 and with_uk.order_id(359)[:3] in ("202", "203", "204",
                                                                                            "205", "026")
    # the seeds built from the US/CA book (finances, settlements) do not change either
    assert [e.transaction_id for e in FinanceBook(plain).events] == [
        e.transaction_id for e in FinanceBook(with_uk).events]
    assert [s.settlement_id for s in settlement_documents(plain)] == [
        s.settlement_id for s in settlement_documents(with_uk)]
    assert UK not in MARKETPLACES  # UK: orders only


def test_a_us_order_keeps_its_tax_on_top():
    book = SellerBook(60, 7, ANCHOR)
    checked = 0
    for i in range(book.count):
        order, items, canonical = _v0(book, i)
        if order["MarketplaceId"] != US or "OrderTotal" not in order:
            continue
        for item, line in zip(sorted(items, key=lambda it: it["OrderItemId"]), canonical.lines):
            assert line.amount.amount == _amount(item, "ItemPrice") and line.tax.amount == _amount(item, "ItemTax")
            assert line.discount.amount == _amount(item, "PromotionDiscount")
            assert line.shipping.amount == _amount(item, "ShippingPrice")
        assert canonical.grand_total.amount == D(order["OrderTotal"]["Amount"])
        checked += 1
    assert checked > 20


# ---------------------------------------------------------------------------------------------- worked by hand

#: An Amazon.co.uk FBM order: 2 × £23.99 with a 10 % promotion (£4.80, VAT £0.80 inside it) and £3.99 postage,
#: 1 × £12.99 with free postage (£3.99 off, its VAT £0.67). The buyer paid 47.98 + 3.99 - 4.80 + 12.99 = £60.16.
UK_ORDER_V0 = {
    "AmazonOrderId": "202-1111111-2222222", "PurchaseDate": "2026-02-10T09:15:00Z",
    "LastUpdateDate": "2026-02-11T16:30:00Z", "OrderStatus": "Shipped", "FulfillmentChannel": "MFN",
    "SalesChannel": "Amazon.co.uk", "MarketplaceId": UK, "OrderTotal": {"CurrencyCode": "GBP", "Amount": "60.16"},
    "NumberOfItemsShipped": 3, "NumberOfItemsUnshipped": 0, "PaymentMethod": "Other",
    "BuyerInfo": {"BuyerEmail": "x4k2p9q7r1s8t3v@marketplace.amazon.co.uk"},
    "ShippingAddress": {"City": "MANCHESTER", "PostalCode": "M1 2AB", "CountryCode": "GB"},
}


def _gbp(amount: str) -> dict[str, str]:
    return {"CurrencyCode": "GBP", "Amount": amount}


UK_ITEMS_V0 = [
    {"OrderItemId": "40512345678901", "SellerSKU": "LL-KTL-GOOSE", "ASIN": "B09C3R8VYF", "Title": "Kettle",
     "QuantityOrdered": 2, "QuantityShipped": 2, "ItemPrice": _gbp("47.98"), "ItemTax": _gbp("8.00"),
     "PromotionDiscount": _gbp("4.80"), "PromotionDiscountTax": _gbp("0.80"), "PromotionIds": ["UK-SPRING-10"],
     "ShippingPrice": _gbp("3.99"), "ShippingTax": _gbp("0.67"), "ShippingDiscount": _gbp("0.00"),
     "ShippingDiscountTax": _gbp("0.00")},
    {"OrderItemId": "40512345678902", "SellerSKU": "LL-TEA-EARL-100", "ASIN": "B08L5M2WQ1", "Title": "Tea",
     "QuantityOrdered": 1, "QuantityShipped": 1, "ItemPrice": _gbp("12.99"), "ItemTax": _gbp("2.17"),
     "PromotionDiscount": _gbp("0.00"), "PromotionDiscountTax": _gbp("0.00"),
     "ShippingPrice": _gbp("3.99"), "ShippingTax": _gbp("0.67"), "ShippingDiscount": _gbp("3.99"),
     "ShippingDiscountTax": _gbp("0.67")},
]

#: (amount, unit price, tax, discount, shipping, shipping tax, shipping discount) of each line, worked by hand:
#: 47.98 - 8.00; tax 8.00 - 0.80; discount 4.80 - 0.80; postage 3.99 - 0.67 ... and for the tea 12.99 - 2.17,
#: free postage 3.99 - 0.67 off with its VAT 0.67 - 0.67 = 0.
EXPECTED = [
    (D("39.98"), D("19.99"), D("7.20"), D("4.00"), D("3.32"), D("0.67"), D("0.00")),
    (D("10.82"), D("10.82"), D("2.17"), D("0.00"), D("3.32"), D("0.00"), D("3.32")),
]


def _figures(order: Order) -> list[tuple[Decimal, ...]]:
    return [(ln.amount.amount, ln.unit_price.amount, ln.tax.amount, ln.discount.amount, ln.shipping.amount,
             ln.shipping_tax.amount, ln.shipping_discount.amount) for ln in order.lines]


def test_a_uk_order_worked_by_hand_v0():
    [order] = normalise_order(UK_ORDER_V0, {"order_items": copy.deepcopy(UK_ITEMS_V0)})
    assert _figures(order) == EXPECTED
    assert order.total("tax").amount + order.total("shipping_tax").amount == D("10.04")  # the VAT the seller owes
    assert order.grand_total.amount == D("60.16") and order.currency == "GBP"
    assert order.lines[0].promotion_ids == ["UK-SPRING-10"] and order.tax_collected_by == "seller"
    # read as if tax were on top, the same order would post overstated by the VAT inside its prices (£11.51)
    [on_top] = normalise_order(UK_ORDER_V0, {"order_items": copy.deepcopy(UK_ITEMS_V0)}, tax_inclusive=frozenset())
    assert on_top.grand_total.amount == D("71.67")


def _m(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "GBP"}


UK_ORDER_2026 = {
    "orderId": "202-1111111-2222222", "createdTime": "2026-02-10T09:15:00Z", "lastUpdatedTime": "2026-02-11T16:30:00Z",
    "salesChannel": {"channelName": "AMAZON", "marketplaceId": UK, "marketplaceName": "Amazon.co.uk"},
    "proceeds": {"grandTotal": _m("60.16")},
    "fulfillment": {"fulfillmentStatus": "SHIPPED", "fulfilledBy": "MERCHANT"},
    "orderItems": [
        {"orderItemId": "40512345678901", "quantityOrdered": 2,
         "product": {"sellerSku": "LL-KTL-GOOSE", "title": "Kettle", "price": {"unitPrice": _m("23.99")}},
         "proceeds": {"proceedsTotal": _m("47.17"), "breakdowns": [
             {"type": "ITEM", "subtotal": _m("47.98")},
             {"type": "SHIPPING", "subtotal": _m("3.99")},
             {"type": "TAX", "subtotal": _m("7.87"), "detailedBreakdowns": [
                 {"subtype": "ITEM", "value": _m("8.00")}, {"subtype": "SHIPPING", "value": _m("0.67")},
                 {"subtype": "DISCOUNT", "value": _m("-0.80")}]},
             {"type": "DISCOUNT", "subtotal": _m("-4.80"), "detailedBreakdowns": [
                 {"subtype": "ITEM", "value": _m("-4.80")}]}]},
         "promotion": {"breakdowns": [{"promotionId": "UK-SPRING-10"}]}},
        {"orderItemId": "40512345678902", "quantityOrdered": 1,
         "product": {"sellerSku": "LL-TEA-EARL-100", "title": "Tea", "price": {"unitPrice": _m("12.99")}},
         "proceeds": {"proceedsTotal": _m("12.99"), "breakdowns": [
             {"type": "ITEM", "subtotal": _m("12.99")},
             {"type": "SHIPPING", "subtotal": _m("3.99")},
             {"type": "TAX", "subtotal": _m("2.17"), "detailedBreakdowns": [
                 {"subtype": "ITEM", "value": _m("2.17")}, {"subtype": "SHIPPING", "value": _m("0.67")},
                 {"subtype": "DISCOUNT", "value": _m("-0.67")}]},
             {"type": "DISCOUNT", "subtotal": _m("-3.99"), "detailedBreakdowns": [
                 {"subtype": "SHIPPING", "value": _m("-3.99")}]}]}},
    ],
}


def test_the_same_uk_order_worked_by_hand_2026():
    [order] = normalise_order_2026(copy.deepcopy(UK_ORDER_2026), {})
    assert _figures(order) == EXPECTED
    assert order.grand_total.amount == D("60.16") and order.lines[0].promotion_ids == ["UK-SPRING-10"]
    # the proceeds say where the tax is: a total that adds up neither way is refused, naming the field
    broken = copy.deepcopy(UK_ORDER_2026)
    broken["orderItems"][0]["proceeds"]["proceedsTotal"] = _m("50.00")
    with pytest.raises(RecordError) as err:
        normalise_order_2026(broken, {})
    assert err.value.field == "proceeds.breakdowns" and "47.17 with TAX included" in str(err.value)


def test_a_us_item_whose_total_leaves_its_tax_out_is_refused_not_guessed():
    """In a tax-exclusive marketplace an item adding up only without TAX is not read as tax-inclusive (that would
    shrink the sale by its tax): it is a RecordError saying what to do if the marketplace's prices include tax."""
    us = copy.deepcopy(UK_ORDER_2026)
    us["salesChannel"] = {"channelName": "AMAZON", "marketplaceId": US, "marketplaceName": "Amazon.com"}
    with pytest.raises(RecordError) as err:
        normalise_order_2026(us, {})
    assert err.value.field == "proceeds.breakdowns" and US in (err.value.hint or "")
    [order] = normalise_order_2026(us, {}, tax_inclusive={US})  # the seller's own list says otherwise
    assert _figures(order) == EXPECTED


def test_amazons_own_uk_example_with_tax_on_top_is_read_as_its_total_says(reference_dir: Path):
    """The model's getOrder example (Amazon.co.uk) adds TAX on top of ITEM and SHIPPING: its proceedsTotal says
    so, and the line follows it rather than the marketplace's rule."""
    model = json.loads((reference_dir / "amazon-sp-api" / "models" / "orders_2026-01-01.json").read_text())
    example = model["paths"]["/orders/2026-01-01/orders/{orderId}"]["get"]["responses"]["200"]["examples"][
        "application/json"]["order"]
    assert example["salesChannel"]["marketplaceId"] == UK
    [order] = normalise_order_2026(example, {})
    [line] = order.lines
    assert (line.amount.amount, line.tax.amount, line.shipping.amount, line.shipping_tax.amount) == (
        D("89.97"), D("3.00"), D("10.00"), D("1.00"))
    assert order.grand_total.amount == D(example["proceeds"]["grandTotal"]["amount"]) == D("103.97")


# ---------------------------------------------------------------------------------------------- the sandbox


def _token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


@pytest.fixture(scope="module")
def model_2026(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "orders_2026-01-01.json").read_text())


def test_the_sandboxs_uk_orders_match_both_models(sandbox, orders_model, model_2026):
    v0_defs = strict(copy.deepcopy(orders_model["definitions"]))
    defs_2026 = strict(copy.deepcopy(model_2026["definitions"]))

    def check(model: dict[str, Any], definitions: dict[str, Any], path: str, body: Any) -> None:
        ref = model["paths"][path]["get"]["responses"]["200"]["schema"]["$ref"]
        jsonschema.Draft4Validator({"$ref": ref, "definitions": definitions}).validate(body)

    after = format_time(datetime.now(timezone.utc) - timedelta(days=61))
    with sandbox(orders=30, uk_orders=40) as (url, sb):
        with httpx.Client(base_url=url, headers=_token(url)) as client:
            v0 = client.get("/orders/v0/orders", params={"MarketplaceIds": UK, "LastUpdatedAfter": after})
            assert v0.status_code == 200, v0.text
            check(orders_model, v0_defs, "/orders/v0/orders", v0.json())
            orders = v0.json()["payload"]["Orders"]
            assert len(orders) == 40 and {o["MarketplaceId"] for o in orders} == {UK}
            for order in orders[:15]:
                items = client.get(f"/orders/v0/orders/{order['AmazonOrderId']}/orderItems")
                assert items.status_code == 200, items.text
                check(orders_model, v0_defs, "/orders/v0/orders/{orderId}/orderItems", items.json())
            search = client.get("/orders/2026-01-01/orders", params={
                "marketplaceIds": UK, "lastUpdatedAfter": after, "includedData": ",".join(INCLUDED_DATA)})
            assert search.status_code == 200, search.text
            check(model_2026, defs_2026, "/orders/2026-01-01/orders", search.json())
            assert len(search.json()["orders"]) == 40
            # US/CA queries see no UK order, and the default sandbox seeds a tenth of its orders in the UK
            us_ca = client.get("/orders/v0/orders", params={"MarketplaceIds": f"{US},{CA}", "LastUpdatedAfter": after})
            assert len(us_ca.json()["payload"]["Orders"]) == 30
    with sandbox(orders=50) as (url, sb):
        assert sb.api.book.total - sb.api.book.count == 5


# ---------------------------------------------------------------------------------------------- end to end


@contextlib.contextmanager
def _uk_world(tmp_path: Path, **qbo_options: Any) -> Iterator[dict[str, Any]]:
    """The shipped amazon-to-qbo pipeline reading Amazon.co.uk from the sandbox, posting to a QBO sandbox."""
    with sandbox_running("amazon_sp", orders=20, uk_orders=24) as (amazon, amazon_sb), \
            sandbox_running("qbo", **qbo_options) as (qbo, qbo_sb):
        text = shipped("amazon-to-qbo.yaml")
        assert "marketplace_ids: [ATVPDKIKX0DER]" in text
        pipeline_file = tmp_path / "amazon-uk-to-qbo.yaml"
        pipeline_file.write_text(text.replace("marketplace_ids: [ATVPDKIKX0DER]", f"marketplace_ids: [{UK}]"))
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000")}
        yield {"pipeline": load_pipeline(pipeline_file, env=env), "state": tmp_path / "state.duckdb",
               "amazon": amazon_sb, "qbo": qbo_sb}


def _uk_order_totals(book: SellerBook) -> dict[str, Decimal]:
    return {o["AmazonOrderId"]: D(o["OrderTotal"]["Amount"])
            for o in (book.order(i) for i in range(book.count, book.total))
            if o["OrderStatus"] not in ("Pending", "Canceled")}


def test_uk_orders_post_to_a_gbp_company_at_the_buyers_total(tmp_path):
    with _uk_world(tmp_path, home_currency="GBP") as w:
        report = sync(w["pipeline"])
        assert report.status == "succeeded", report.errors
        totals = _uk_order_totals(w["amazon"].api.book)
        receipts = {r["DocNumber"]: r for r in w["qbo"].company.entities["SalesReceipt"].values()}
        assert report.counts["created"]["SalesReceipt"] == len(receipts) == len(totals) > 15
        for order_id, total in totals.items():
            receipt = receipts[order_id[:21]]
            assert D(str(receipt["TotalAmt"])) == total, order_id
            assert receipt["CurrencyRef"]["value"] == "GBP"


def test_uk_orders_to_a_usd_company_without_multicurrency_are_refused_clearly(tmp_path):
    """Multicurrency off, home currency USD: the GBP customer is refused with what to do, and every UK receipt
    waits behind it (held, not lost, not posted in dollars)."""
    with _uk_world(tmp_path) as w:
        report = sync(w["pipeline"])
        assert report.exit_code == 3 and report.counts["created"].get("SalesReceipt", 0) == 0
        assert not w["qbo"].company.entities["SalesReceipt"]
        priced = len(_uk_order_totals(w["amazon"].api.book))
        assert report.counts["blocked"] == priced
        assert report.counts["reconcile"]["outbox"]["SalesReceipt"] == {"pending": priced}
        store = Store(w["state"])
        letters = store.dead_letters.list()
        store.close()
        [refused] = [d for d in letters if d.stage == "write" and d.stream == "Customer"]
        assert refused.stream == "Customer" and refused.record_key.endswith(f"/{UK}/GBP")
        assert "Customer in GBP, but the QuickBooks company's home currency is USD and Multicurrency is off" in (
            refused.message)
        assert "turn on Multicurrency" in refused.hint


def test_an_all_orders_report_row_of_a_vat_marketplace_is_made_tax_exclusive_too():
    """The back-fill report prints UK prices with their VAT included, as getOrders does: the line nets it out,
    and the order's total stays what the buyer paid."""
    from ledgerlink_amazon_sp.reports.normalise import normalise_all_orders

    row = {"amazon-order-id": "202-0000000-0000001", "order-status": "Shipped", "sales-channel": "Amazon.co.uk",
           "fulfillment-channel": "Amazon", "purchase-date": "2026-03-01T10:00:00+00:00",
           "last-updated-date": "2026-03-02T10:00:00+00:00", "currency": "GBP", "sku": "MUG-1", "quantity": "2",
           "item-price": "24.00", "item-tax": "4.00", "shipping-price": "3.60", "shipping-tax": "0.60",
           "item-promotion-discount": "", "ship-promotion-discount": ""}
    (order,) = normalise_all_orders({"amazon-order-id": row["amazon-order-id"], "rows": [row]}, {})
    (line,) = order.lines
    assert (line.amount.amount, line.tax.amount, line.shipping.amount) == (Decimal("20.00"), Decimal("4.00"),
                                                                            Decimal("3.00"))
    assert order.grand_total.amount == Decimal("27.60")
