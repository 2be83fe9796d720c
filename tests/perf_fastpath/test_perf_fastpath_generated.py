"""Hypothesis-generated Amazon 2026 orders plan alike on the columnar fast path and the reference path (issue 18).

Orders are the sandbox's own, mutated the ways a real or broken record can differ: amounts with other places,
as numbers, negative or unreadable; other currencies (lower case, empty, another one); breakdown types and
subtypes the normaliser refuses (COD_FEE, OTHER) or splits (a discount's tax with free shipping); proceeds
totals that add up with the tax on top or inside; UK, Japanese and unknown marketplaces; quantities of 0, -1,
"2", 2.0 and true; missing or mistyped objects, SKUs and ids; programs, tax collections, statuses. Whatever the
fast path declines, the reference path plans; the outbox, audit rows, dead letters and counts must be equal.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook

from .test_perf_fastpath_equivalence import ANCHOR, both

_BOOK = SellerBook(60, 21, ANCHOR, uk_orders=20)
BASE = [_BOOK.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(_BOOK.total)]

amounts = st.one_of(st.sampled_from(["0.00", "1.5", "12.345", "-3.00", "1e2", " 4.00", "abc", "", "100"]),
                    st.integers(-5, 50), st.decimals(min_value=-100, max_value=1000, places=2).map(str),
                    st.none())
currencies = st.sampled_from([None, "", "USD", "usd", "GBP", "JPY", "EUR", 5])
odd_values = st.sampled_from([None, "", "x", 0, 1, True, [], {}, [1], {"a": 1}])


def _items(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = order.get("orderItems")
    return items if isinstance(items, list) and items and all(isinstance(i, dict) for i in items) else []


def _mutate(order: dict[str, Any], data: Any) -> dict[str, Any]:
    order = copy.deepcopy(order)
    kind = data.draw(st.sampled_from([
        "amount", "currency", "breakdown_type", "detail", "total", "marketplace", "quantity", "odd_top",
        "odd_item", "programs", "collections", "status", "sku", "discount_tax", "items", "none"]))
    items = _items(order)
    item = data.draw(st.sampled_from(items)) if items else None
    if item is not None and not isinstance(item.get("product"), dict):
        item = None
    proceeds = (item or {}).get("proceeds")
    raw = proceeds.get("breakdowns") if isinstance(proceeds, dict) else None
    raw = raw if isinstance(raw, list) else []
    bds = [b for b in raw if isinstance(b, dict) and isinstance(b.get("subtotal"), dict)]
    for name in ("salesChannel", "fulfillment", "proceeds"):
        if kind in ("currency", "marketplace", "status") and not isinstance(order.get(name), dict):
            order[name] = {}
    if kind == "amount" and bds:
        data.draw(st.sampled_from(bds))["subtotal"]["amount"] = data.draw(amounts)
    elif kind == "amount" and item:
        item["product"].setdefault("price", {})["unitPrice"] = {"amount": data.draw(amounts), "currencyCode": "USD"}
    elif kind == "currency" and bds:
        data.draw(st.sampled_from(bds))["subtotal"]["currencyCode"] = data.draw(currencies)
    elif kind == "currency":
        order.setdefault("proceeds", {})["grandTotal"] = {"amount": "1.00", "currencyCode": data.draw(currencies)}
    elif kind == "breakdown_type" and bds:
        data.draw(st.sampled_from(bds))["type"] = data.draw(st.sampled_from(
            ["COD_FEE", "OTHER", "GIFT_WRAP", "TAX", "DISCOUNT", "ITEM", "SHIPPING", "", None, 3]))
    elif kind == "detail" and bds:
        b = data.draw(st.sampled_from(bds))
        b["detailedBreakdowns"] = [{"subtype": data.draw(st.sampled_from(
            ["ITEM", "SHIPPING", "GIFT_WRAP", "DISCOUNT", "OTHER", None])),
            "value": {"amount": b["subtotal"].get("amount"), "currencyCode": b["subtotal"].get("currencyCode")}}]
    elif kind == "total" and item and isinstance(item.get("proceeds"), dict):
        total = item["proceeds"].get("proceedsTotal")
        if data.draw(st.booleans()) or not isinstance(total, dict):
            item["proceeds"]["proceedsTotal"] = data.draw(st.one_of(odd_values, st.just({"amount": "9.99"})))
        else:
            try:
                tax = sum((float(b["subtotal"]["amount"]) for b in bds if b.get("type") == "TAX"), 0.0)
                total["amount"] = f"{float(total['amount']) - tax:.2f}"  # the tax inside, not on top
            except (TypeError, ValueError):
                total["amount"] = "1.00"
    elif kind == "marketplace":
        order.setdefault("salesChannel", {})["marketplaceId"] = data.draw(st.sampled_from(
            ["A1F83G8C2ARO7P", "A1VC38T7YXB528", "ATVPDKIKX0DER", "UNKNOWN", None, 7]))
    elif kind == "quantity" and item:
        item["quantityOrdered"] = data.draw(st.sampled_from([0, -1, "2", 2.0, True, None, 3, 2**40]))
    elif kind == "odd_top":
        order[data.draw(st.sampled_from(["salesChannel", "buyer", "recipient", "payment", "fulfillment",
                                         "proceeds", "orderId", "createdTime", "programs"]))] = data.draw(odd_values)
    elif kind == "odd_item" and item:
        target = data.draw(st.sampled_from([item, item.get("product"), item.get("proceeds"), item.get("tax")]))
        if isinstance(target, dict) and target:
            target[data.draw(st.sampled_from(sorted(target)))] = data.draw(odd_values)
    elif kind == "programs":
        order["programs"] = data.draw(st.sampled_from([["AMAZON_BUSINESS"], "AMAZON_BUSINESS", [], None, [1]]))
    elif kind == "collections" and item:
        item["tax"] = {"taxCollections": data.draw(st.sampled_from(
            [[{"model": "MARKETPLACE_FACILITATOR"}], [{"model": "OTHER"}], [None], ["x"], [{"model": 1}]]))}
    elif kind == "status":
        order.setdefault("fulfillment", {})["fulfillmentStatus"] = data.draw(st.sampled_from(
            ["SHIPPED", "CANCELLED", "PENDING", "UNSHIPPED", "WEIRD", None]))
    elif kind == "sku" and item:
        item["product"]["sellerSku"] = data.draw(st.sampled_from([None, "", 12, "LL-NEW-SKU", "x" * 150]))
    elif kind == "discount_tax" and bds:
        raw.append({"type": "TAX", "subtotal": {"amount": "-0.50", "currencyCode": bds[0]["subtotal"].get(
            "currencyCode")}, "detailedBreakdowns": [{"subtype": "DISCOUNT", "value": {"amount": "-0.50"}}]})
    elif kind == "items":
        order["orderItems"] = data.draw(st.sampled_from([[], None, "x", [None], items[::-1] if items else []]))
    return order


@pytest.mark.slow
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(data=st.data(), batch=st.integers(5, 80))
def test_generated_orders_plan_alike_on_both_paths(tmp_path_factory, monkeypatch, data, batch):
    records = []
    for n, base in enumerate(BASE):
        order = base
        for _ in range(data.draw(st.integers(0, 2), label=f"mutations {n}")):
            order = _mutate(order, data)
        records.append(order)
    records = [r for r in records if isinstance(r.get("orderId"), str) and r["orderId"]]  # the staging key
    tmp = tmp_path_factory.mktemp("generated")
    reference, columnar = both(tmp, monkeypatch, [records], batch=batch)
    assert columnar.result() == reference.result()
