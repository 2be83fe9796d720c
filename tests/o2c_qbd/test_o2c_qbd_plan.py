"""The QuickBooks Desktop posting rules on `ledgerlink.posting`, plan by plan: which documents an order becomes,
what they refer to, and what QuickBooks Desktop's own limits make of names and numbers."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink import Customer, Money, Order, OrderLine, PostedDocument, RecordError, SourceRef
from ledgerlink.runtime.normalise import PlanContextImpl, mapping_engine
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.qbxml import TXN_PLACEHOLDER, add_request, check_limits


def _line(line_id: str, sku: str, qty: str, amount: str, currency: str = "USD", **extra: str) -> OrderLine:
    money = {n: Money.of(extra.get(n, "0"), currency) for n in
             ("discount", "tax", "shipping", "shipping_tax", "shipping_discount", "gift_wrap", "gift_wrap_tax")}
    return OrderLine(line_id=line_id, sku=sku, title=f"Product {sku}", quantity=Decimal(qty),
                     unit_price=Money.of(str(Decimal(amount) / Decimal(qty)), currency),
                     amount=Money.of(amount, currency), source_ref=SourceRef(stream="order_products", key=line_id),
                     **money)


def _order(order_id: str = "100", *, paid: bool = True, status: str = "Awaiting Fulfillment", currency: str = "USD",
           lines: list[OrderLine] | None = None, **kw: Any) -> Order:
    when = datetime(2025, 5, 1, 12, tzinfo=timezone.utc)
    return Order(source="bigcommerce", order_id=order_id, channel="bigcommerce", fulfilment="merchant", status=status,
                 paid=paid, placed_at=when, updated_at=when, currency=currency,
                 customer=kw.pop("customer", None) or Customer(source="bigcommerce", customer_id="c1",
                                                               display_name="Jane  Doe", email="Jane@Example.com"),
                 lines=lines or [_line("1", "MUG", "2", "20.00", currency, tax="1.60", shipping="5.00",
                                       discount="2.00")], **kw)


class _Ctx(PlanContextImpl):
    """A plan context that says what the outbox already holds for the order."""

    def __init__(self, engine: Any, options: dict[str, Any], posted: list[PostedDocument]):
        super().__init__(engine, options)
        self._docs = posted

    def posted(self, natural_key: str) -> list[PostedDocument]:
        return [d for d in self._docs if d.natural_key == natural_key]


def plan(order: Order, posted: list[PostedDocument] = (), **options: Any):
    destination = QuickBooksDesktopDestination()
    ctx = _Ctx(mapping_engine(destination, {}, "."), options, list(posted))
    writes = destination.plan(order, ctx)
    for w in writes:  # every payload is a valid, limit-respecting qbXML request
        kind = next(k for k in w.data if not k.startswith("_"))
        add_request(kind, w.data[kind], "1")
        assert not check_limits(kind, w.data[kind])
    return {w.stream: w for w in writes}


def _amounts(payload: dict, lines: str) -> list[Decimal]:
    return [Decimal(str(line["Amount"])) for line in payload[lines]]


def test_paid_is_a_receipt_and_unpaid_an_invoice_adding_up_to_the_order():
    receipt = plan(_order())["SalesReceipt"].data["SalesReceiptAdd"]
    assert sum(_amounts(receipt, "SalesReceiptLineAdd")) == Decimal("24.60")  # 20 + 5 − 2 + 1.60
    writes = plan(_order(paid=False, status="Awaiting Payment"))
    assert "SalesReceipt" not in writes and "ReceivePayment" not in writes
    invoice = writes["Invoice"].data["InvoiceAdd"]
    assert sum(_amounts(invoice, "InvoiceLineAdd")) == Decimal("24.60")
    assert invoice["Memo"].startswith("ledgerlink Invoice:bigcommerce/order/100")
    assert "_earlier" not in writes["Invoice"].data


def _doc(stream: str, order: Order, status: str = "done", **options: Any) -> PostedDocument:
    """The document an earlier state of `order` planned."""
    write = plan(order, **options)[stream]
    return PostedDocument(key=write.key, stream=stream, data=write.data, destination_id="1A-1",
                          natural_key=order.natural_key, status=status)


def test_an_order_invoiced_while_unpaid_gets_its_payment_not_a_receipt_when_paid():
    invoice = _doc("Invoice", _order(paid=False, status="Awaiting Payment"))
    # the order changed since (a line was added): the payment pays what the posted invoice asks for
    paid = _order(lines=[_line("1", "MUG", "2", "20.00", tax="1.60", shipping="5.00", discount="2.00"),
                         _line("2", "PEN", "1", "3.00")])
    writes = plan(paid, posted=[invoice])
    assert "SalesReceipt" not in writes and "Invoice" not in writes, "the invoice stays as it was posted"
    payment = writes["ReceivePayment"]
    assert payment.depends_on == ["Invoice:bigcommerce/order/100"]
    # the TxnID is filled in by the bridge, so the plan is the same before and after the invoice reached QuickBooks
    assert payment.data["ReceivePaymentAdd"]["AppliedToTxnAdd"] == [
        {"TxnID": TXN_PLACEHOLDER + "Invoice:bigcommerce/order/100", "PaymentAmount": Decimal("24.60")}]
    invoice.destination_id, invoice.status = None, "awaiting"
    assert plan(paid, posted=[invoice])["ReceivePayment"].payload_hash == payment.payload_hash
    assert payment.data["ReceivePaymentAdd"]["Memo"].startswith("ledgerlink ReceivePayment:bigcommerce/order/100")
    # a refused invoice does not count: the paid order is a sale
    assert "SalesReceipt" in plan(paid, posted=[_doc("Invoice", _order(paid=False, status="Awaiting Payment"),
                                                     status="dead")])


def test_a_rule_that_invoices_paid_orders_plans_the_payment_after_the_invoice():
    rules = [{"when": {"channel": "bigcommerce", "paid": True}, "post_as": "invoice"}]
    writes = plan(_order(), documents=rules)
    assert writes["ReceivePayment"].depends_on == ["Invoice:bigcommerce/order/100"]
    applied = writes["ReceivePayment"].data["ReceivePaymentAdd"]["AppliedToTxnAdd"][0]
    assert applied["TxnID"] == TXN_PLACEHOLDER + "Invoice:bigcommerce/order/100"


def test_cancelled_voids_or_reverses_whatever_was_posted():
    cancelled = _order(status="Cancelled", paid=False)
    assert plan(cancelled) == {}, "nothing was posted: nothing to undo"
    receipt = _doc("SalesReceipt", _order())
    void = plan(cancelled, posted=[receipt])["Void"]
    assert void.depends_on == ["SalesReceipt:bigcommerce/order/100"]
    assert void.data == {"TxnVoid": {"TxnVoidType": "SalesReceipt",
                                     "TxnID": TXN_PLACEHOLDER + "SalesReceipt:bigcommerce/order/100"}}
    invoice = _doc("Invoice", _order(paid=False, status="Awaiting Payment"))
    assert plan(cancelled, posted=[invoice])["Void"].data["TxnVoid"]["TxnVoidType"] == "Invoice"
    reverse = plan(cancelled, posted=[receipt], on_cancel="reverse")["CreditMemo"]
    assert reverse.depends_on == ["SalesReceipt:bigcommerce/order/100"]
    assert sum(_amounts(reverse.data["CreditMemoAdd"], "CreditMemoLineAdd")) == Decimal("24.60")
    payment = PostedDocument(key="ReceivePayment:bigcommerce/order/100", stream="ReceivePayment", data={},
                             natural_key=cancelled.natural_key, status="done")
    with pytest.raises(RecordError) as err:
        plan(cancelled, posted=[invoice, payment])
    assert "refund" in err.value.hint
    assert plan(_order(status="Pending", paid=False)) == {}


def test_marketplace_tax_is_left_out_and_a_cent_of_rounding_gets_its_own_line():
    marketplace = plan(_order(tax_collected_by="marketplace"))["SalesReceipt"].data["SalesReceiptAdd"]
    assert sum(_amounts(marketplace, "SalesReceiptLineAdd")) == Decimal("23.00")
    assert "marketplace-collected tax 1.60 USD not posted" in marketplace["Memo"]
    assert not [ln for ln in marketplace["SalesReceiptLineAdd"] if ln["ItemRef"]["FullName"] == "Sales Tax Collected"]
    # half cents of shipping and tax: each line rounds up, the channel's total (10.01) once; the receipt equals
    # the channel's total exactly, the cent going to the rounding line
    odd = _order(lines=[_line("1", "PEN", "3", "10.00", tax="0.005", shipping="0.005")])
    receipt = plan(odd)["SalesReceipt"].data["SalesReceiptAdd"]
    items = {ln["ItemRef"]["FullName"]: Decimal(str(ln["Amount"])) for ln in receipt["SalesReceiptLineAdd"]}
    assert items == {"PEN": Decimal("10.00"), "Shipping": Decimal("0.01"), "Sales Tax Collected": Decimal("0.01"),
                     "Rounding": Decimal("-0.01")}


def test_items_by_sku_map_and_creation_rules():
    lines = [_line("1", "KIT-RED", "1", "10.00"), _line("2", "OLD-1", "1", "5.00"), _line("3", "MUG", "1", "1.00")]
    writes = plan(_order(lines=lines), items={"sku_map": {"OLD-1": "Widget"}, "create": [{"sku": "KIT-*",
                                                                                          "as": "inventory"}]})
    destination = QuickBooksDesktopDestination()
    ctx = PlanContextImpl(mapping_engine(destination, {}, "."), {"items": {"sku_map": {"OLD-1": "Widget"},
                                                                           "create": [{"sku": "KIT-*", "as": "inventory"}]}})
    items = {next(iter(w.data)): w.data for w in destination.plan(_order(lines=lines), ctx) if w.stream == "Item"}
    assert items["ItemInventoryAdd"]["ItemInventoryAdd"]["COGSAccountRef"] == {"FullName": "Cost of Goods Sold"}
    names = [ln["ItemRef"]["FullName"] for ln in writes["SalesReceipt"].data["SalesReceiptAdd"]["SalesReceiptLineAdd"]]
    assert names[:3] == ["KIT-RED", "Widget", "MUG"]
    with pytest.raises(RecordError) as err:
        plan(_order(lines=lines), items={"match": "sku_map", "unmatched": "dead_letter"})
    assert "items.sku_map" in err.value.hint


def test_negative_quantity_and_foreign_currency_are_refused_with_hints():
    with pytest.raises(RecordError) as err:
        plan(_order(lines=[_line("1", "MUG", "-1", "5.00")]))
    assert "negative quantity" in err.value.message
    cad = _order(currency="CAD", lines=[_line("1", "MUG", "1", "5.00", "CAD")])
    with pytest.raises(RecordError) as err:
        plan(cad)
    assert err.value.field == "currency" and "Multiple Currencies" in err.value.hint
    writes = plan(cad, multicurrency=True, exchange_rates={"CAD": "0.73"})
    assert writes["Customer"].data["CustomerAdd"]["CurrencyRef"] == {"FullName": "Canadian Dollar"}
    assert writes["SalesReceipt"].data["SalesReceiptAdd"]["ExchangeRate"] == Decimal("0.73")


def test_per_buyer_customers_and_long_names_fit_quickbooks_limits():
    long_name = Customer(source="bigcommerce", customer_id="c9", display_name="A" * 60, email="long@example.com")
    writes = plan(_order(order_id="123-4567890-1234567", customer=long_name), customer_strategy="per_buyer")
    customer = writes["Customer"].data["CustomerAdd"]
    assert len(customer["Name"]) == 41 and customer["Email"] == "long@example.com"
    assert writes["Customer"].key == "Customer:bigcommerce/buyer/email/long@example.com"
    assert len(writes["SalesReceipt"].data["SalesReceiptAdd"]["RefNumber"]) == 11
