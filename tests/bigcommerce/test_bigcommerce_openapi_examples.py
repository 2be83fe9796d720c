"""Contract tests: BigCommerce's own published response examples, replayed through the source.

The replies are read at test time from ../shared/reference/bigcommerce/reference (BigCommerce's OpenAPI files;
never copied into the package) and served by `httpx.MockTransport` at the paths the real API uses, so the
source's client, paging and streams read exactly what BigCommerce documents. To check against a real store
instead, point a pipeline at it (`base_url: https://api.bigcommerce.com`, a store hash and a read-only token)
and run `ledgerlink sync --dry-run`: these tests deliberately need no network and no recorded cassettes.

Two gaps in the published files, handled openly here:

* orders.v3.yml publishes no example for GET /orders/{order_id}/transactions, so that reply is built from
  the Transaction schema itself (each property's `example`, else its first enum value) and validated
  against the schema before it is served;
* the examples describe different orders (the order is #100, its products belong to #149, the shipping
  address to #229) and the order example's own totals do not add up (`subtotal_tax` 25.63, `total_tax` 0).
  Replayed as published, the normaliser refuses the order naming `total_inc_tax`, as it must; to get a
  canonical Order, only the order's money totals are set to what its products add up to.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ledgerlink import RecordError, RetryPolicy, json_loads, protocol
from ledgerlink.runtime.extract import configured_catalog
from ledgerlink_bigcommerce import BigCommerceSource
from ledgerlink_bigcommerce.normalise import normalise_order
from ledgerlink_bigcommerce.source import ORDER_STREAMS

V2, V3 = "orders.v2.oas2.yml", "orders.v3.yml"
#: (spec file, path in the spec, the path the plugin requests, as a regex under /stores/{hash})
REPLIES = {
    "orders": (V2, "/orders", r"/v2/orders"),
    "order_products": (V2, "/orders/{order_id}/products", r"/v2/orders/\d+/products"),
    "order_shipping_addresses": (V2, "/orders/{order_id}/shipping_addresses", r"/v2/orders/\d+/shipping_addresses"),
    "order_coupons": (V2, "/orders/{order_id}/coupons", r"/v2/orders/\d+/coupons"),
    "order_transactions": (V3, "/orders/{order_id}/transactions", r"/v3/orders/\d+/transactions"),
}


def _deref(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _instance(doc: dict[str, Any], schema: Any) -> Any:
    """A value built from a schema: its `example`, else its first enum value, else one of its type."""
    if isinstance(schema, dict) and "$ref" in schema:
        return _instance(doc, _deref(doc, schema["$ref"]))
    if "allOf" in schema:
        out: dict[str, Any] = {}
        for part in schema["allOf"]:
            out.update(_instance(doc, part))
        return out
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {k: _instance(doc, v) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_instance(doc, schema.get("items") or {})]
    return {"string": "", "integer": 1, "number": 1.0, "boolean": False}[kind]


def published_example(openapi, name: str, path: str) -> Any:
    """The first published example of the 200 reply to GET `path` in spec file `name`."""
    doc = openapi.doc(name)
    response = doc["paths"][path]["get"]["responses"]["200"]
    if "$ref" in response:
        response = _deref(doc, response["$ref"])
    content = response["content"]["application/json"]
    if "example" in content:
        return copy.deepcopy(content["example"])
    examples = content.get("examples") or {}
    if not examples:
        return None
    first = next(iter(examples.values()))
    return copy.deepcopy(first["value"])


@pytest.fixture(scope="module")
def replies(openapi) -> dict[str, Any]:
    out = {stream: published_example(openapi, name, path) for stream, (name, path, _) in REPLIES.items()}
    assert out["order_transactions"] is None, "orders.v3.yml now publishes a transactions example: use it"
    doc = openapi.doc(V3)
    transaction = _instance(doc, doc["components"]["schemas"]["Transaction"])
    out["order_transactions"] = {"data": [transaction], "meta": {"pagination": {
        "total": 1, "count": 1, "per_page": 50, "current_page": 1, "total_pages": 1}}}
    for stream, (name, path, _) in REPLIES.items():
        openapi.validate(out[stream], name, path)  # the replies are what the spec says they are
    return out


def _transport(replies: dict[str, Any], calls: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        path = request.url.path.removeprefix("/stores/abc123")
        for stream, (_, _, pattern) in REPLIES.items():
            if re.fullmatch(pattern, path):
                if stream == "orders" and request.url.params.get("page") not in (None, "1"):
                    return httpx.Response(204)
                return httpx.Response(200, json=replies[stream])
        return httpx.Response(404, json=[{"status": 404, "message": f"no example for {path}"}])
    return httpx.MockTransport(handler)


def _read(replies: dict[str, Any]) -> tuple[dict[str, list[dict[str, Any]]], list[protocol.Message], list[httpx.Request]]:
    calls: list[httpx.Request] = []
    source = BigCommerceSource(transport=_transport(replies, calls), retry=RetryPolicy(max_attempts=1))
    config = {"base_url": "https://api.bigcommerce.example", "store_hash": "abc123", "access_token": "tok",
              "start_date": "2018-01-01T00:00:00Z"}
    messages = list(source.read(config, configured_catalog(source, ORDER_STREAMS)))
    records: dict[str, list[dict[str, Any]]] = {s: [] for s in REPLIES}
    for message in messages:
        if message.record is not None:
            records[message.record.stream].append(message.record.data)
    return records, messages, calls


def _wire(value: Any) -> Any:
    """What the source reads off the wire: the reply's JSON with numbers as exact Decimals."""
    return json_loads(json.dumps(value).encode())


def test_the_source_reads_the_published_examples_unchanged(replies):
    records, messages, calls = _read(replies)
    replies = {stream: _wire(reply) for stream, reply in replies.items()}
    assert records["orders"] == replies["orders"]
    order_ids = [o["id"] for o in replies["orders"]]
    for stream in ("order_products", "order_shipping_addresses", "order_coupons"):
        assert records[stream] == [row for _ in order_ids for row in replies[stream]], stream
    assert records["order_transactions"] == replies["order_transactions"]["data"] * len(order_ids)
    # the numbers BigCommerce writes as JSON numbers are read exactly (the schema's 35.42, not a float)
    assert all(isinstance(t["amount"], Decimal) for t in records["order_transactions"])
    assert records["order_transactions"][0]["store_credit"]["remaining_balance"] == Decimal("35.42")
    first = calls[0]
    assert first.url.path == "/stores/abc123/v2/orders" and first.headers["X-Auth-Token"] == "tok"
    assert first.url.params["sort"] == "date_modified:asc"
    assert first.url.params["min_date_modified"] == "2018-01-01T00:00:00+00:00"
    asked = {c.url.path for c in calls}
    assert {f"/stores/abc123/v2/orders/{order_ids[0]}/{child}" for child in ("products", "shipping_addresses",
                                                                              "coupons")} <= asked
    assert f"/stores/abc123/v3/orders/{order_ids[0]}/transactions" in asked
    # the cursor is the example's RFC 2822 date_modified ("Wed, 05 Dec 2018 20:16:55 +0000") as ISO 8601
    states = [m.state for m in messages if m.state is not None]
    blobs = [s.stream.stream_state.model_dump(mode="python") for s in states
             if s.stream is not None and s.stream.stream_state is not None]
    assert len(blobs) >= len(ORDER_STREAMS)
    assert all(b == {"date_modified": "2018-12-05T20:16:55+00:00"} for b in blobs), blobs


def _related(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {s: records[s] for s in ("order_products", "order_shipping_addresses", "order_coupons",
                                    "order_transactions")}


def test_the_published_examples_as_they_are_do_not_add_up(replies):
    records, _, _ = _read(replies)
    with pytest.raises(RecordError) as err:
        normalise_order(records["orders"][0], _related(records))
    assert err.value.field == "total_inc_tax" and "100" in str(err.value)


def test_the_examples_normalise_to_a_canonical_order(replies):
    records, _, _ = _read(replies)
    order = copy.deepcopy(records["orders"][0])
    products = records["order_products"]
    lines = sum(Decimal(p["total_ex_tax"]) for p in products)
    tax = sum(Decimal(p["total_tax"]) for p in products)
    discounts = sum(Decimal(d["amount"]) for p in products for d in p.get("applied_discounts") or [])
    coupons = sum(Decimal(str(c["discount"])) for c in records["order_coupons"])
    # only the money totals change: they must describe the products the example order is joined with
    order.update(subtotal_ex_tax=str(lines), subtotal_tax=str(tax), total_tax=str(tax),
                 discount_amount=str(discounts), coupon_discount=str(coupons),
                 total_inc_tax=str(lines + tax - discounts - coupons), total_ex_tax=str(lines - discounts - coupons))
    [o] = normalise_order(order, _related(records))

    assert o.order_id == "100" and o.source == "bigcommerce" and o.channel == "bigcommerce"
    assert o.status == "Awaiting Fulfillment" and o.paid
    assert o.placed_at.isoformat() == "2018-01-10T21:05:30+00:00"
    assert o.updated_at.isoformat() == "2018-12-05T20:16:55+00:00"
    assert o.currency == "USD" and o.tax_collected_by == "seller"
    assert o.grand_total.amount == Decimal(order["total_inc_tax"])
    assert [line.sku for line in o.lines] == [p["sku"] for p in sorted(products, key=lambda p: p["id"])]
    assert o.lines[0].amount.amount == Decimal(products[0]["total_ex_tax"])
    assert o.customer.customer_id == "20" and o.customer.email == "janedoe@example.com"
    assert o.customer.display_name == "Jane Doe"
    assert o.customer.billing_address is not None and o.customer.billing_address.city == "Austin"
    shipping = records["order_shipping_addresses"][0]
    assert o.shipping_address is not None and o.shipping_address.line1 == shipping["street_1"]
    assert o.shipping_address.country == shipping["country_iso2"]
    # the schema-built transaction is a successful credit-card purchase through its first gateway
    transaction = records["order_transactions"][0]
    assert (transaction["event"], transaction["status"], transaction["method"]) == ("purchase", "ok", "credit_card")
    assert o.payment_method == f"Credit Card ({transaction['gateway']})"
    # without transactions the order's own label ("Credit Card") is the payment method
    [without] = normalise_order(order, {**_related(records), "order_transactions": []})
    assert without.payment_method == order["payment_method"] == "Credit Card"
