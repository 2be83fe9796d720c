"""The fast paths of normalise + plan against their references (issue 18).

- QuickBooks Online's default order mappings written as Python must give the very payloads their templates
  render and parse to: same documents (byte for byte once dumped), same keys, same references and audit refs,
  over the seeded sandboxes' orders (Amazon 2026 and v0, US/CA and UK VAT; BigCommerce) under several posting
  options, and over hypothesis-generated orders.
- The planner's per-batch look-up of what was posted must plan the same outbox and audit rows as reading the
  whole outbox once (a batch of one order and a batch of all of them give the same tables).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlink import Customer, Money, Order, OrderLine, SourceRef, json_dumps
from ledgerlink.jsonutil import dumps_bytes
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine, normalise_and_plan, resolve_normalisers

from ledgerlink_amazon_sp import AmazonSellingPartnerSource
from ledgerlink_amazon_sp.orders.normalise import normalise_order
from ledgerlink_amazon_sp.orders.normalise_2026 import normalise_order_2026
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_bigcommerce.normalise import normalise_order as normalise_bc_order
from ledgerlink_bigcommerce.sandbox.seed import StoreBook
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from ledgerlink_qbo.plans.payloads import NATIVE_MAPPINGS

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)

#: posting options that reach every branch of the order mappings: defaults; per-buyer customers, exchange
#: rates, store dimensions and payment methods; tax codes with rates, invoices (and their payments), a far zone
OPTIONS: list[dict[str, Any]] = [
    {},
    {"customer_strategy": "per_buyer", "exchange_rates": {"GBP": "1.2675", "CAD": "0.73", "EUR": "1.1"},
     "stores": {"s1": {"class": "Web <&> \"store\"", "department": "North"}},
     "payment_methods": {"Other": "Amazon Pay", "card": "Visa", "credit_card": "Card"},
     "channels": {"amazon": {"deposit_account": "Amazon Clearing", "payment_method": "Amazon"}}},
    {"default_document": "invoice", "time_zone": "Australia/Sydney",
     "tax": {"mode": "codes", "taxable_code": "GST/HST ON", "exempt_code": "Exempt", "rates": {"GST/HST ON": "13"}},
     "items": {"create": [{"sku": "*", "as": "inventory"}]}},
]


def amazon_orders() -> list[Order]:
    book = SellerBook(50, 11, ANCHOR, uk_orders=20)
    included = frozenset(INCLUDED_DATA)
    out: list[Order] = []
    for i in range(book.total):
        out.extend(normalise_order_2026(book.order_2026(i, included), {}))
        order, items = book.order_and_items(i)
        out.extend(normalise_order(order, {"order_items": items}))
    return out


def bigcommerce_orders() -> list[Order]:
    book = StoreBook(orders_count=40, seed=5, anchor=ANCHOR)
    out: list[Order] = []
    for oid, order in sorted(book.orders.items()):
        related = {"order_products": book.order_products.get(oid, []),
                   "order_shipping_addresses": book.shipping_addresses.get(oid, []),
                   "order_coupons": book.coupons.get(oid, []), "order_transactions": book.transactions.get(oid, [])}
        try:
            out.extend(normalise_bc_order(order, related))
        except Exception:  # noqa: BLE001 - the seed's deliberately bad orders are dead letters, not our subject
            continue
    return out


_DESTINATION = QuickBooksOnlineDestination()
_ENGINES = {native: mapping_engine(_DESTINATION, {}, ".", native=native) for native in (True, False)}


def _writes(order: Order, options: dict[str, Any], *, native: bool) -> tuple[list[tuple[Any, ...]], Any]:
    destination, engine = _DESTINATION, _ENGINES[native]  # templates compiled once; a fresh context per order
    engine.native_fallbacks.clear()
    ctx = PlanContextImpl(engine, options)
    try:
        writes = destination.plan(order, ctx)
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        return [("error", type(exc).__name__, str(exc))], engine
    return [(w.stream, w.key, dumps_bytes(w.data), w.depends_on, w.source_refs, w.line_refs, w.natural_key)
            for w in writes], engine


def _same(order: Order, options: dict[str, Any]) -> int:
    fast, engine = _writes(order, options, native=True)
    reference, _ = _writes(order, options, native=False)
    assert fast == reference, order.natural_key
    assert engine.native_fallbacks == {}, f"a native mapping raised on {order.natural_key}: {engine.native_fallbacks}"
    return sum(1 for w in fast if w[0] != "error")


@pytest.fixture(scope="module")
def seeded() -> list[Order]:
    orders = amazon_orders() + bigcommerce_orders()
    for n, order in enumerate(orders):
        if n % 3 == 0:
            order.stamp_store("s1")
    return orders


@pytest.mark.slow
@pytest.mark.parametrize("options", OPTIONS, ids=["defaults", "per-buyer-rates-dimensions", "invoices-tax-codes"])
def test_native_order_mappings_equal_their_templates_on_seeded_orders(seeded: list[Order], options: dict[str, Any]):
    writes = sum(_same(order, options) for order in seeded)
    assert writes > len(seeded)  # customers, items, receipts or invoices: the comparison had documents to compare


def test_every_native_mapping_stands_for_a_template_of_the_destination():
    destination = QuickBooksOnlineDestination()
    engine = mapping_engine(destination, {}, ".")
    assert set(NATIVE_MAPPINGS) <= set(destination.mappings)
    assert all(engine.is_native(name) for name in NATIVE_MAPPINGS)


def test_an_overridden_template_renders_in_the_sandbox(tmp_path):
    destination = QuickBooksOnlineDestination()
    override = tmp_path / "receipt.json.j2"
    override.write_text(destination_template("sales_receipt.json.j2").replace('"ApplyTaxAfterDiscount": false',
                                                                              '"ApplyTaxAfterDiscount": true'))
    engine = mapping_engine(destination, {"sales_receipt.json.j2": str(override)}, ".")
    assert not engine.is_native("sales_receipt.json.j2") and engine.is_native("invoice.json.j2")
    [order] = normalise_order_2026(SellerBook(3, 11, ANCHOR).order_2026(1, frozenset(INCLUDED_DATA)), {})
    writes = destination.plan(order, PlanContextImpl(engine, {}))
    receipt = next(w for w in writes if w.stream == "SalesReceipt")
    assert receipt.data["ApplyTaxAfterDiscount"] is True


def test_an_extension_replacing_a_built_in_filter_turns_native_mappings_off():
    destination = QuickBooksOnlineDestination()
    engine = mapping_engine(destination, {}, ".", extensions=[("date", lambda v, tz=None: "always", "filter")])
    assert not any(engine.is_native(name) for name in NATIVE_MAPPINGS)


def destination_template(name: str) -> str:
    from importlib import resources

    package, resource = QuickBooksOnlineDestination.mappings[name]
    return resources.files(package).joinpath(resource).read_text()


# ------------------------------------------------------------------------------------------ generated orders

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
_amount = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2, allow_nan=False)
_small = st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2, allow_nan=False)


@st.composite
def orders(draw: Any) -> Order:
    currency = draw(st.sampled_from(["USD", "GBP", "CAD", "JPY", "EUR"]))

    def money(value: Decimal) -> Money:
        return Money(amount=value, currency=currency)

    lines = []
    for n in range(draw(st.integers(1, 4))):
        qty = Decimal(draw(st.integers(0, 7)))
        amount = draw(_amount)
        lines.append(OrderLine(
            line_id=f"L{n}", sku=draw(_text), title=draw(st.none() | _text), quantity=qty,
            unit_price=money(amount / qty if qty else amount), amount=money(amount), discount=money(draw(_small)),
            tax=money(draw(_small)), shipping=money(draw(_small)), shipping_tax=money(draw(_small)),
            shipping_discount=money(draw(_small)), gift_wrap=money(draw(_small)), gift_wrap_tax=money(draw(_small)),
            promotion_ids=draw(st.lists(_text, max_size=2)), source_ref=SourceRef(stream="items", key=f"L{n}")))
    placed = ANCHOR - timedelta(seconds=draw(st.integers(0, 90 * 86400)))
    status = draw(st.sampled_from(["Shipped", "Unshipped", "AwaitingPayment", "Canceled", "Pending", "Completed"]))
    buyer = Customer(source="gen", customer_id=draw(_text), display_name=draw(_text),
                     email=draw(st.none() | st.emails()), phone=draw(st.none() | _text))
    order = Order(source="gen", source_refs=[SourceRef(stream="orders", key="o")], order_id=draw(_text),
                  channel=draw(st.sampled_from(["amazon", "bigcommerce"])), marketplace=draw(st.none() | _text),
                  sales_channel=draw(st.none() | _text), fulfilment=draw(st.sampled_from(["channel", "merchant"])),
                  status=status, paid=draw(st.booleans()), placed_at=placed, updated_at=placed, currency=currency,
                  customer=buyer, lines=lines, tax_collected_by=draw(st.sampled_from(["seller", "marketplace"])),
                  payment_method=draw(st.none() | st.sampled_from(["Other", "card", "credit_card"])),
                  is_business_order=draw(st.booleans()))
    if draw(st.booleans()):
        order.stamp_store("s1")
    return order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=orders(), options=st.sampled_from(OPTIONS))
def test_native_order_mappings_equal_their_templates_on_generated_orders(order: Order, options: dict[str, Any]):
    _same(order, options)


# ------------------------------------------------------------------------------------------ per-batch look-up


def _plan_store(tmp_path, name: str, batch: int, runs: list[list[dict[str, Any]]], *, native: bool = True):
    """Stage and plan each run's records in turn (a later run sees what the earlier ones planned)."""
    from ledgerlink.store import Store

    store = Store(tmp_path / f"{name}.duckdb")
    destination = QuickBooksOnlineDestination()
    normalisers = [n for n in resolve_normalisers(AmazonSellingPartnerSource(), {}) if n.stream == "orders_2026"]
    for run_id, records in enumerate(runs, 1):
        store.raw.stage("orders_2026", [r["orderId"] for r in records], [r.get("lastUpdatedTime") for r in records],
                        [json_dumps(r) for r in records], [None] * len(records), run_id=run_id)
        ctx = PlanContextImpl(mapping_engine(destination, {}, ".", native=native), OPTIONS[2], store=store,
                              destination=destination.name)
        normalise_and_plan(normalisers, destination, ctx, store, run_id=run_id, batch=batch)
    # which order first planned a shared customer or item depends on the batch (the outbox keeps a batch's
    # last plan of a key): that column is left out of the comparison across batch sizes
    outbox = store.db.fetchall("SELECT key, stream, data, payload_hash, depends_on, status, CASE WHEN stream IN "
                               "('Customer', 'Item') THEN NULL ELSE natural_key END FROM outbox ORDER BY key")
    audit = store.db.fetchall("SELECT * FROM audit ORDER BY ALL")
    dead = store.db.fetchall("SELECT stage, stream, record_key FROM dead_letters ORDER BY ALL")
    store.close()
    return outbox, audit, dead


@pytest.mark.slow
def test_planning_in_batches_gives_the_outbox_and_audit_rows_of_one_batch_and_of_the_templates(tmp_path):
    book = SellerBook(40, 3, ANCHOR)
    first = [book.order_2026(i, frozenset(INCLUDED_DATA)) for i in range(book.total)]
    # a later run: five orders cancelled (voided only if this pipeline planned a document for them, which the
    # planner learns from the outbox) and five paid
    later = []
    for n, r in enumerate(first[:10]):
        status = "CANCELLED" if n < 5 else "SHIPPED"
        later.append({**r, "lastUpdatedTime": "2026-03-02T00:00:00Z",
                      "fulfillment": {**r["fulfillment"], "fulfillmentStatus": status}})
    runs = [first, later]
    one = _plan_store(tmp_path, "one", 1, runs)
    whole = _plan_store(tmp_path, "whole", 5000, runs)
    templates = _plan_store(tmp_path, "templates", 7, runs, native=False)
    assert one[0] and one[1]
    assert any(row[1] == "Void" for row in one[0])
    assert one == whole == templates
