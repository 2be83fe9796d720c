"""The ledger-neutral refund and return rules (`ledgerlink.posting.returns`) and the Amazon returns normaliser."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink import ConfigError, Money, RecordError, Refund, RefundLine, Return, posting
from ledgerlink_amazon_sp.reports.returns_normalise import normalise_customer_return

WHEN = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)


def usd(text: str) -> Money:
    return Money(amount=Decimal(text), currency="USD")


def refund(*lines: tuple[str, str, str, str], shipping: str | None = None, source: str = "amazon_sp",
           store: str | None = None) -> Refund:
    return Refund(source=source, store=store, refund_id="111-1/ADJ", order_id="111-1", refunded_at=WHEN,
                  currency="USD", shipping=usd(shipping) if shipping else None,
                  lines=[RefundLine(sku=s, quantity=Decimal(q), amount=usd(a), tax=usd(t)) for s, q, a, t in lines])


def test_options_default_to_credit_memos_restocking_only_sellable_returns():
    options = posting.parse_returns_options({})
    assert options.refund_document == "credit_memo" and options.restock and not options.restock_unreturned_refunds
    assert options.sellable_dispositions == ["SELLABLE"] and options.restock_account is None
    custom = posting.parse_returns_options({"refund_document": "refund_receipt",
                                            "sellable_dispositions": ["sellable", " customer_damaged"]})
    assert custom.refund_document == "refund_receipt"
    assert custom.sellable_dispositions == ["SELLABLE", "CUSTOMER_DAMAGED"]


@pytest.mark.parametrize("raw, where", [
    ({"refund_document": "cheque"}, "destination.options.returns.refund_document"),
    ({"restock_acount": "COGS"}, "destination.options.returns.restock_acount"),
    ({"sellable_dispositions": []}, "destination.options.returns.sellable_dispositions"),
])
def test_bad_options_name_the_key(raw, where):
    with pytest.raises(ConfigError) as caught:
        posting.parse_returns_options(raw)
    assert caught.value.where == where


def test_refund_amounts_add_lines_shipping_and_tax():
    amounts = posting.refund_amounts(refund(("A", "2", "20.00", "1.60"), ("B", "1", "5.5", "0"), shipping="3.99"))
    assert amounts.goods == Decimal("25.50") and amounts.shipping == Decimal("3.99") and amounts.tax == Decimal("1.60")
    assert amounts.total == Decimal("31.09") and amounts.total_without_tax() == Decimal("29.49")


@pytest.mark.parametrize("line, field", [
    (("A", "1", "-5.00", "0"), "lines[0].amount"),
    (("A", "-1", "5.00", "0"), "lines[0].quantity"),
    (("A", "1", "5.00", "-0.40"), "lines[0].tax"),
])
def test_negative_refund_amounts_are_bad_input(line, field):
    with pytest.raises(RecordError) as caught:
        posting.refund_amounts(refund(line))
    assert caught.value.field == field and caught.value.hint and caught.value.key == "amazon_sp/refund/111-1/ADJ"


def test_a_refund_larger_than_its_order_is_refused_with_a_hint():
    r = refund(("A", "1", "30.00", "0"))
    posting.check_within_order(r, Decimal("30.00"), Decimal("30.00"))  # all of it back: fine
    with pytest.raises(RecordError) as caught:
        posting.check_within_order(r, Decimal("30.01"), Decimal("30.00"), stream="CreditMemo")
    err = caught.value
    assert "larger than order 111-1's total of 30.00 USD" in err.message
    assert err.stream == "CreditMemo" and "dlq retry" in err.hint
    with pytest.raises(RecordError, match="refunded before"):
        posting.check_within_order(r, Decimal("10"), Decimal("30"), earlier=Decimal("25"))


def test_the_refunded_order_keeps_the_store_in_its_key():
    assert posting.order_key_of(refund(("A", "1", "1", "0"))) == "amazon_sp/order/111-1"
    r = refund(("A", "1", "1", "0"), source="bigcommerce", store="abc123")
    assert posting.order_key_of(r) == "bigcommerce@abc123/order/111-1"


def test_sellable_follows_the_disposition_rules():
    options = posting.parse_returns_options({})
    ret = Return(source="amazon_sp", return_id="r", order_id="o", returned_at=WHEN, sku="A", quantity=Decimal(1),
                 disposition="CUSTOMER_DAMAGED", sellable=False)
    assert not posting.is_sellable(ret, options)
    assert posting.is_sellable(ret, posting.parse_returns_options({"sellable_dispositions": ["customer_damaged"]}))
    flagged = ret.model_copy(update={"disposition": None, "sellable": True})  # BigCommerce: the return flag
    assert posting.is_sellable(flagged, options)


def test_refund_customer_is_the_sales_or_the_channels():
    options = posting.parse_returns_options({})
    r = refund(("A", "1", "1", "0"))
    assert posting.refund_customer_name(r, options, "Amazon.com USD (sale)") == "Amazon.com USD (sale)"
    assert posting.refund_customer_name(r, options) == "Amazon.com USD"
    named = posting.parse_returns_options({"customers": {"amazon_sp": "Amazon.ca {currency}"}})
    assert posting.refund_customer_name(r, named) == "Amazon.ca USD"


def row(**changes: str) -> dict[str, str]:
    base = {"return-date": "2026-03-04T05:06:07+00:00", "order-id": "111-2", "sku": "LL-MUG", "asin": "B0", "fnsku": "X0",
            "product-name": "Mug", "quantity": "2", "fulfillment-center-id": "PHX7",
            "detailed-disposition": "SELLABLE", "reason": "UNWANTED_ITEM", "status": "Unit returned to inventory",
            "license-plate-number": "LPN1", "customer-comments": ""}
    return {**base, **changes}


def test_an_fba_return_row_becomes_a_return_with_its_disposition():
    [sellable] = normalise_customer_return(row(), {})
    assert (sellable.natural_key, sellable.quantity, sellable.sellable) == (
        "amazon_sp/return/111-2/LL-MUG/LPN1", Decimal(2), True)
    assert sellable.returned_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    [damaged] = normalise_customer_return(row(**{"detailed-disposition": "customer_damaged"}), {})
    assert damaged.disposition == "CUSTOMER_DAMAGED" and not damaged.sellable and damaged.reason == "UNWANTED_ITEM"


@pytest.mark.parametrize("changes, field", [
    ({"order-id": ""}, "order-id"), ({"sku": ""}, "sku"), ({"return-date": "yesterday"}, "return-date"),
    ({"quantity": "0"}, "quantity"), ({"quantity": "1.5"}, "quantity"), ({"quantity": "two"}, "quantity"),
])
def test_a_bad_return_row_is_a_dead_letter_naming_the_field(changes, field):
    with pytest.raises(RecordError) as caught:
        normalise_customer_return(row(**changes), {})
    assert caught.value.field == field and caught.value.stream == "fba_customer_returns"


def bc_refund(return_id: int, requested: str = "12.00", total_inc_tax: str = "30.00") -> list:
    from ledgerlink_bigcommerce.normalise import normalise_refund

    order = {"id": 101, "default_currency_code": "USD", "total_inc_tax": total_inc_tax}
    products = [{"id": 7, "order_id": 101, "sku": "MUG-RED", "return_id": return_id}]
    refund = {"id": 55, "order_id": 101, "created": "2026-03-04T05:06:07+00:00", "reason": "Returned",
              "total_tax": 0, "items": [{"item_type": "PRODUCT", "item_id": 7, "quantity": 1,
                                         "requested_amount": Decimal(requested)}]}
    return normalise_refund(refund, {"orders": [order], "order_products": products})


def test_bigcommerce_return_flag_makes_a_sellable_return_and_flags_the_refund_line():
    refund, ret = bc_refund(return_id=3)
    assert refund.lines[0].restock and ret.natural_key == "bigcommerce/return/3/7/55"
    assert (ret.sku, ret.quantity, ret.sellable, ret.disposition) == ("MUG-RED", Decimal(1), True, None)
    [unflagged] = bc_refund(return_id=0)
    assert not unflagged.lines[0].restock


def test_bigcommerce_refund_larger_than_its_order_is_refused_at_normalise():
    with pytest.raises(RecordError) as caught:
        bc_refund(return_id=0, requested="30.01")
    assert caught.value.stream == "refunds" and caught.value.key == "55" and "dlq retry" in caught.value.hint
    assert "30.01 USD is larger than order 101's total of 30.00 USD" in caught.value.message
