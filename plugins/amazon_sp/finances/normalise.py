"""Finances refunds → canonical `Refund`s: a 2024-06-19 `Transaction` or a v0 `RefundEvent`, to the cent."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterator

from ledgerlink import Money, RecordError, Refund, RefundLine, SourceRef, to_decimal

from ..timestamps import format_time, parse_time
from .streams import STATUSES, FinancesStream, FinancialEventsStream

__all__ = ["normalise_transaction", "normalise_financial_event"]


_WORD = re.compile(r"[^a-z]")
#: breakdown / charge types (lower case, letters only) that make up what the buyer got back
_AMOUNT = frozenset({"principal", "productcharges", "promotiondiscount", "promotion", "discount", "giftwrap",
                     "giftwrapcharge"})
_TAX = frozenset({"tax", "producttax", "itemtax", "principaltax", "shippingtax", "giftwraptax", "taxdiscount"})
_SHIPPING = frozenset({"shipping", "shippingcharge", "shippingcharges", "shippingdiscount"})
#: breakdown groups that are the seller's costs or Amazon's withholdings, not the buyer's refund
_NOT_BUYER = ("expense", "fee", "withheld", "withholding", "reimbursement")


def _word(text: Any) -> str:
    return _WORD.sub("", str(text or "").lower())


class _Sums:
    """A refund line's amount, tax and shipping as Amazon books them (negative: money leaving the seller)."""

    def __init__(self) -> None:
        self.amount = self.tax = self.shipping = Decimal(0)

    def add(self, kind: str, value: Decimal) -> None:
        if kind in _AMOUNT:
            self.amount += value
        elif kind in _TAX:
            self.tax += value
        elif kind in _SHIPPING:
            self.shipping += value


def _amount(node: Any, currency: str, stream: str, key: str, field: str, *, names: tuple[str, str]) -> Decimal:
    """One Currency object: `currencyAmount`/`currencyCode` (2024-06-19) or `CurrencyAmount`/`CurrencyCode` (v0)."""
    amount_name, code_name = names
    if not isinstance(node, dict) or node.get(amount_name) is None:
        raise RecordError("missing amount", stream=stream, key=key, field=f"{field}.{amount_name}")
    code = node.get(code_name)
    if code and str(code).upper() != currency:
        raise RecordError(f"{code} amount in a {currency} refund", stream=stream, key=key, field=f"{field}.{code_name}")
    try:
        return to_decimal(node[amount_name], field=field)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {node[amount_name]!r} ({exc})", stream=stream, key=key,
                          field=f"{field}.{amount_name}") from None


def _leaves(breakdowns: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str]]:
    """(types from the top, the breakdown, its index path) for every breakdown without children."""
    for n, b in enumerate(breakdowns or []):
        if not isinstance(b, dict):
            continue
        here = (*path, _word(b.get("breakdownType")))
        if b.get("breakdowns"):
            for inner, leaf, where in _leaves(b["breakdowns"], here):
                yield inner, leaf, f"[{n}].breakdowns{where}"
        else:
            yield here, b, f"[{n}]"


def _refund_id(order_id: str, adjustment_ids: list[str], posted: datetime) -> str:
    """The same for one refund read through either API: the order and its first order-adjustment item."""
    return f"{order_id}/{sorted(adjustment_ids)[0] if adjustment_ids else format_time(posted)}"


def _posted(value: Any, stream: str, key: str, field: str) -> datetime:
    try:
        return parse_time(str(value))
    except ValueError:
        raise RecordError(f"{value!r} is not an ISO 8601 time", stream=stream, key=key, field=field,
                          hint="Amazon always sends the posted date of a financial event") from None


def normalise_transaction(txn: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Refund]:
    """A 2024-06-19 Transaction → a `Refund` when it is one (transactionType Refund), with a line per item (SKU,
    quantity, amount, tax; shipping refunded on the Refund). Other types stay staged (nothing returned).

    An unknown transactionStatus is a dead letter: DEFERRED vs released decides when money arrives."""
    stream, key = FinancesStream.name, str(txn.get("transactionId") or "")
    status = txn.get("transactionStatus")
    if status not in STATUSES:
        raise RecordError(f"unknown transactionStatus {status!r}", stream=stream, key=key, field="transactionStatus",
                          hint=f"expected one of {', '.join(sorted(STATUSES))}; Amazon may have added one: "
                               "upgrade ledgerlink_amazon_sp, or override the finances normaliser")
    if _word(txn.get("transactionType")) != "refund":
        return []
    identifiers = {}
    for n, ident in enumerate(txn.get("relatedIdentifiers") or []):
        if isinstance(ident, dict):
            identifiers.setdefault(str(ident.get("relatedIdentifierName")), str(ident.get("relatedIdentifierValue")))
    order_id = identifiers.get("ORDER_ID")
    if not order_id:
        raise RecordError("refund names no order", stream=stream, key=key, field="relatedIdentifiers",
                          hint="a refund transaction carries relatedIdentifierName ORDER_ID")
    posted = _posted(txn.get("postedDate"), stream, key, "postedDate")
    currency = str((txn.get("totalAmount") or {}).get("currencyCode") or "").upper()
    if not currency:
        raise RecordError("no currency", stream=stream, key=key, field="totalAmount.currencyCode")
    lines, adjustments = [], []
    shipping = Decimal(0)
    items = txn.get("items") or []
    if not items:
        raise RecordError("refund without items", stream=stream, key=key, field="items",
                          hint="Amazon lists the refunded items; without them there is no SKU to credit")
    for n, item in enumerate(items):
        where = f"items[{n}]"
        product = next((c for c in item.get("contexts") or [] if isinstance(c, dict) and c.get("sku")), None)
        if product is None:
            raise RecordError("refunded item has no SKU", stream=stream, key=key, field=f"{where}.contexts",
                              hint="expected a ProductContext with sku and quantityShipped")
        quantity = product.get("quantityShipped")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise RecordError(f"{quantity!r} is not a quantity", stream=stream, key=key,
                              field=f"{where}.contexts.quantityShipped")
        sums = _Sums()
        for path, leaf, at in _leaves(item.get("breakdowns")):
            if any(g in part for part in path[:-1] for g in _NOT_BUYER):
                continue
            sums.add(path[-1], _amount(leaf.get("breakdownAmount"), currency, stream, key,
                                       f"{where}.breakdowns{at}.breakdownAmount",
                                       names=("currencyAmount", "currencyCode")))
        for ident in item.get("relatedIdentifiers") or []:
            if isinstance(ident, dict) and ident.get("itemRelatedIdentifierName") == "ORDER_ADJUSTMENT_ITEM_ID":
                adjustments.append(str(ident.get("itemRelatedIdentifierValue")))
        shipping += sums.shipping
        lines.append(RefundLine(sku=str(product["sku"]), quantity=Decimal(abs(quantity)),
                                amount=Money(amount=-sums.amount, currency=currency),
                                tax=Money(amount=-sums.tax, currency=currency)))
    return [Refund(source="amazon_sp", source_refs=[SourceRef(stream=stream, key=key)],
                   refund_id=_refund_id(order_id, adjustments, posted), order_id=order_id, refunded_at=posted,
                   currency=currency, lines=lines,
                   shipping=Money(amount=-shipping, currency=currency) if shipping else None,
                   reason=txn.get("description") or None)]


def normalise_financial_event(event: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Refund]:
    """A v0 RefundEventList event → the same `Refund` the 2024-06-19 transaction gives. Others stay staged."""
    stream, key = FinancialEventsStream.name, str(event.get("eventKey") or "")
    if event.get("eventType") != "RefundEventList":
        return []
    order_id = event.get("AmazonOrderId")
    if not order_id:
        raise RecordError("refund names no order", stream=stream, key=key, field="AmazonOrderId")
    posted = _posted(event.get("PostedDate"), stream, key, "PostedDate")
    rows = event.get("ShipmentItemAdjustmentList") or []
    if not rows:
        raise RecordError("refund without items", stream=stream, key=key, field="ShipmentItemAdjustmentList")
    currency = next((str(c["ChargeAmount"]["CurrencyCode"]).upper() for r in rows
                     for c in r.get("ItemChargeAdjustmentList") or []
                     if isinstance(c, dict) and isinstance(c.get("ChargeAmount"), dict)
                     and c["ChargeAmount"].get("CurrencyCode")), None)
    if currency is None:
        raise RecordError("no currency", stream=stream, key=key,
                          field="ShipmentItemAdjustmentList.ItemChargeAdjustmentList")
    lines, adjustments = [], []
    shipping = Decimal(0)
    for n, row in enumerate(rows):
        where = f"ShipmentItemAdjustmentList[{n}]"
        if not row.get("SellerSKU"):
            raise RecordError("refunded item has no SellerSKU", stream=stream, key=key, field=f"{where}.SellerSKU")
        quantity = row.get("QuantityShipped")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise RecordError(f"{quantity!r} is not a quantity", stream=stream, key=key,
                              field=f"{where}.QuantityShipped")
        sums = _Sums()
        for m, charge in enumerate(row.get("ItemChargeAdjustmentList") or []):
            sums.add(_word(charge.get("ChargeType")), _amount(
                charge.get("ChargeAmount"), currency, stream, key, f"{where}.ItemChargeAdjustmentList[{m}]",
                names=("CurrencyAmount", "CurrencyCode")))
        for m, promo in enumerate(row.get("PromotionAdjustmentList") or []):
            sums.add("promotion", _amount(promo.get("PromotionAmount"), currency, stream, key,
                                          f"{where}.PromotionAdjustmentList[{m}]",
                                          names=("CurrencyAmount", "CurrencyCode")))
        if row.get("OrderAdjustmentItemId"):
            adjustments.append(str(row["OrderAdjustmentItemId"]))
        shipping += sums.shipping
        lines.append(RefundLine(sku=str(row["SellerSKU"]), quantity=Decimal(abs(quantity)),
                                amount=Money(amount=-sums.amount, currency=currency),
                                tax=Money(amount=-sums.tax, currency=currency)))
    return [Refund(source="amazon_sp", source_refs=[SourceRef(stream=stream, key=key)],
                   refund_id=_refund_id(str(order_id), adjustments, posted), order_id=str(order_id),
                   refunded_at=posted, currency=currency, lines=lines,
                   shipping=Money(amount=-shipping, currency=currency) if shipping else None, reason="Refund Order")]
