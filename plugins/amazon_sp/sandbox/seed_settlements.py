"""The sandbox seller's settlement reports: Flat File V2 documents built from the seeded orders.

Fortnightly settlements per marketplace (so per currency), the last closing a day before the book's anchor.
Each holds what a real payout holds: for every shipped order, its principal, shipping, tax (and, where
Amazon is the marketplace facilitator, the withheld tax that cancels it), promotions, commission and FBA
fees; refunds with the commission Amazon returns and the refund commission it keeps; an FBA
reimbursement, storage, subscription, advertising and inbound-transport fees (with an FBA shipment id in
`order-id` and no marketplace); a reserve held and released by the next settlement; a negative settlement
whose balance is charged to the seller's card in the next one. `total-amount` is the exact sum of the rows.

Documents are built when first asked for (`SeededSettlement.text`): listing reports stays cheap however
many orders the book holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, Callable

from .seed import MARKETPLACES, SKUS, SellerBook
from ..settlements.parser import V2_COLUMNS

__all__ = ["SeededSettlement", "settlement_documents", "PERIOD", "render_v2"]

PERIOD = timedelta(days=14)
_PERIODS = 4
_CENT = Decimal("0.01")
_DAY = 86400
_COMMISSION = Decimal("0.15")
_FBA_FEE = {"USD": Decimal("3.22"), "CAD": Decimal("4.50")}
_SUBSCRIPTION = {"USD": Decimal("-39.99"), "CAD": Decimal("-29.99")}


@dataclass(frozen=True)
class SeededSettlement:
    """One settlement report of the sandbox seller; `text` is its Flat File V2 document."""

    report_id: str
    settlement_id: str
    created_at: datetime
    marketplace_id: str
    currency: str
    starts_at: datetime
    ends_at: datetime
    _build: Callable[[], str] = field(repr=False, compare=False)

    @cached_property
    def text(self) -> str:
        return self._build()


def _c(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def render_v2(summary: dict[str, str], rows: list[dict[str, str]], columns: tuple[str, ...] = V2_COLUMNS) -> str:
    """A Flat File V2 document: header, summary row, detail rows (tab-separated, newline-terminated)."""
    lines = ["\t".join(columns), "\t".join(summary.get(c, "") for c in columns)]
    lines.extend("\t".join(row.get(c, "") for c in columns) for row in rows)
    return "\n".join(lines) + "\n"


def settlement_documents(book: SellerBook, finances: Any = None) -> list[SeededSettlement]:
    """Every settlement report of the book's seller, oldest first (per marketplace, `_PERIODS` fortnights).
    With the seller's `FinanceBook` (`finances`), a sale Amazon deferred is settled as Amazon does: in no report
    while it is DEFERRED, then in the one covering its release, its rows posted on the release date."""
    anchor = datetime.fromtimestamp(book.anchor, timezone.utc)
    last_end = anchor.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out: list[SeededSettlement] = []
    for m, (market, (currency, _channel, *_rest)) in enumerate(MARKETPLACES.items()):
        for k in range(_PERIODS):
            end = last_end - PERIOD * (_PERIODS - 1 - k)
            start = end - PERIOD
            settlement_id = f"{(book.seed * 7919 + m * 1009 + k * 37) % 10**6 + 21_000_000:08d}{m}{k:02d}"
            created = end + timedelta(hours=3 + m)
            out.append(SeededSettlement(
                report_id=f"5{book.seed % 1000:03d}{m}{k:02d}019{m * 7 + k:04d}", settlement_id=settlement_id,
                created_at=created, marketplace_id=market, currency=currency, starts_at=start, ends_at=end,
                _build=_builder(book, market, k, start, end, settlement_id, finances)))
    out.sort(key=lambda s: (s.created_at, s.report_id))
    return out


def _builder(book: SellerBook, market: str, k: int, start: datetime, end: datetime,
             settlement_id: str, finances: Any = None) -> Callable[[], str]:
    def build() -> str:
        summary, rows = _settlement(book, market, k, start, end, settlement_id, finances)
        return render_v2(summary, rows)
    return build


# ------------------------------------------------------------------------------------------------ contents


def _paid_when(finances: Any, order_id: str, shipped: int) -> int | None:
    """When a shipped order's money is settled: when shipped, or, if Amazon deferred it, when released (None while
    it is still deferred)."""
    if finances is None:
        return shipped
    event = finances.by_id.get(finances._id("shipment", order_id))
    if event is None or event.deferral is None:
        return shipped
    return event.released_at


def _settlement(book: SellerBook, market: str, k: int, start: datetime, end: datetime,
                settlement_id: str, finances: Any = None) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(summary, rows) of the settlement `k` (0 = oldest) of one marketplace; deterministic from the book."""
    currency, channel, _country, _prefixes, factor, _rate, facilitator = MARKETPLACES[market]
    rng = random.Random(f"{book.seed}/{market}/{k}")
    lo, hi = int(start.timestamp()), int(end.timestamp())
    rows: list[dict[str, str]] = []

    def row(transaction: str, amount_type: str, description: str, amount: Decimal, when: int,
            **extra: str) -> None:
        posted = datetime.fromtimestamp(when, timezone.utc)
        rows.append({"settlement-id": settlement_id, "transaction-type": transaction, "amount-type": amount_type,
                     "amount-description": description, "amount": f"{amount:.2f}",
                     "posted-date": posted.strftime("%m/%d/%y"),
                     "posted-date-time": posted.strftime("%Y-%m-%d %H:%M:%S UTC"), **extra})

    # orders are settled when shipped (a day after purchase); refunds a week after that
    for i in book.select([market], lo - (40 if finances is not None else 9) * _DAY, hi, created=True):
        order, items = book.order_and_items(i)
        if order["OrderStatus"] != "Shipped":
            continue
        shipped = book.purchased[i] + _DAY
        refunded = random.Random(book.seed * 7_000_003 + i).random() < 0.06  # the same in every settlement
        paid = _paid_when(finances, order["AmazonOrderId"], shipped)
        if paid is not None and lo <= paid < hi:
            _order_rows(row, order, items, paid, channel, facilitator, currency, rng)
        if refunded and lo <= shipped + 7 * _DAY < hi:
            _refund_rows(row, order, items, shipped + 7 * _DAY, channel, facilitator, rng)

    _other_rows(row, book, market, k, lo, hi, currency, factor, rng)
    # a reserve: the previous settlement's is released, a new one (10% of this one's sales) is held
    if market == "ATVPDKIKX0DER":
        if k > 0:
            row("other-transaction", "other-transaction", "Previous Reserve Amount Balance",
                _reserve(book, market, k - 1, start - PERIOD, start), lo + 60)
        row("other-transaction", "other-transaction", "Current Reserve Amount",
            -_reserve(book, market, k, start, end), hi - 60)
    # the Canadian seller's oldest settlement is negative (a large inbound shipment, few sales); the next one
    # shows the balance charged to the seller's card
    if market != "ATVPDKIKX0DER" and k == 0:
        subtotal = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
        fee = -(max(subtotal, Decimal(0)) + Decimal("321.69"))
        row("FBAFees", "other-transaction", "FBAInboundTransportationFee", fee, lo + 5 * _DAY + 3600,
            **{"order-id": f"FBA18{rng.randrange(16**7):07X}"})
    if market != "ATVPDKIKX0DER" and k == 1:
        owed = Decimal("321.69")
        row("other-transaction", "other-transaction", "Payable to Amazon", -owed, lo + 3600)
        row("other-transaction", "other-transaction", "Successful charge", owed, lo + 3700)
    total = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
    summary = {"settlement-id": settlement_id, "settlement-start-date": _stamp(start),
               "settlement-end-date": _stamp(end), "deposit-date": _stamp(end + timedelta(days=2)),
               "total-amount": f"{total:.2f}", "currency": currency}
    return summary, rows


def _reserve(book: SellerBook, market: str, k: int, start: datetime, end: datetime) -> Decimal:
    """10% of the principal sold in a settlement period, held back as Amazon's reserve."""
    lo, hi = int(start.timestamp()), int(end.timestamp())
    sold = Decimal(0)
    for i in book.select([market], lo - _DAY, hi, created=True):
        if lo <= book.purchased[i] + _DAY < hi:
            order, items = book.order_and_items(i)
            if order["OrderStatus"] == "Shipped":
                sold += sum((Decimal(it["ItemPrice"]["Amount"]) for it in items if "ItemPrice" in it), Decimal(0))
    return _c(sold * Decimal("0.10"))


def _amount(item: dict[str, Any], name: str) -> Decimal:
    return Decimal(item[name]["Amount"]) if name in item else Decimal(0)


def _ids(order: dict[str, Any], item: dict[str, Any], rng: random.Random, channel: str) -> dict[str, str]:
    return {"order-id": order["AmazonOrderId"], "merchant-order-id": "", "shipment-id": f"D{rng.randrange(16**8):08X}",
            "marketplace-name": channel, "fulfillment-id": "AFN" if order["FulfillmentChannel"] == "AFN" else "MFN",
            "order-item-code": item["OrderItemId"], "sku": item.get("SellerSKU", ""),
            "quantity-purchased": str(item["QuantityOrdered"])}


def _order_rows(row: Callable[..., None], order: dict[str, Any], items: list[dict[str, Any]], when: int,
                channel: str, facilitator: bool, currency: str, rng: random.Random) -> None:
    afn = order["FulfillmentChannel"] == "AFN"
    for item in items:
        ids = _ids(order, item, rng, channel)
        price, tax = _amount(item, "ItemPrice"), _amount(item, "ItemTax")
        ship, ship_tax = _amount(item, "ShippingPrice"), _amount(item, "ShippingTax")
        row("Order", "ItemPrice", "Principal", price, when, **ids)
        row("Order", "ItemPrice", "Tax", tax, when, **ids)
        if ship:
            row("Order", "ItemPrice", "Shipping", ship, when, **ids)
            row("Order", "ItemPrice", "ShippingTax", ship_tax, when, **ids)
        if facilitator:  # Amazon collects and remits the tax: the withheld line cancels it
            row("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax, when, **ids)
            if ship_tax:
                row("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", -ship_tax, when, **ids)
        promo = (item.get("PromotionIds") or [""])[0]
        if _amount(item, "PromotionDiscount"):
            row("Order", "Promotion", "Principal", -_amount(item, "PromotionDiscount"), when,
                **ids, **{"promotion-id": promo})
        if _amount(item, "ShippingDiscount"):
            row("Order", "Promotion", "Shipping", -_amount(item, "ShippingDiscount"), when,
                **ids, **{"promotion-id": promo or "Core Free Shipping"})
        row("Order", "ItemFees", "Commission", -_c((price + ship) * _COMMISSION), when, **ids)
        if afn:
            row("Order", "ItemFees", "FBAPerUnitFulfillmentFee", -_FBA_FEE[currency] * item["QuantityOrdered"],
                when, **ids)


def _refund_rows(row: Callable[..., None], order: dict[str, Any], items: list[dict[str, Any]], when: int,
                 channel: str, facilitator: bool, rng: random.Random) -> None:
    item = items[0]  # the buyer returns the first item
    ids = {**_ids(order, item, rng, channel), "adjustment-id": f"{rng.randrange(10**14):014d}",
           "merchant-adjustment-item-id": ""}
    price, tax = _amount(item, "ItemPrice"), _amount(item, "ItemTax")
    commission = _c((price + _amount(item, "ShippingPrice")) * _COMMISSION)
    row("Refund", "ItemPrice", "Principal", -price, when, **ids)
    row("Refund", "ItemPrice", "Tax", -tax, when, **ids)
    if facilitator:
        row("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", tax, when, **ids)
    row("Refund", "ItemFees", "Commission", commission, when, **ids)
    row("Refund", "ItemFees", "RefundCommission", -min(Decimal("5.00"), _c(commission * Decimal("0.20"))), when, **ids)


def _other_rows(row: Callable[..., None], book: SellerBook, market: str, k: int, lo: int, hi: int, currency: str,
                factor: Decimal, rng: random.Random) -> None:
    """Money that is not an order's: reimbursements, storage, subscription, advertising."""
    sku = SKUS[rng.randrange(len(SKUS))]
    reimbursed = _c(Decimal(sku.usd) * factor * Decimal("0.85"))
    row("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE", reimbursed, lo + 3 * _DAY,
        **{"sku": sku.sku, "quantity-purchased": "1", "marketplace-name": MARKETPLACES[market][1]})
    if k % 2 == 1:  # storage is billed monthly
        row("other-transaction", "other-transaction", "Storage Fee", -_c(Decimal(rng.randrange(800, 4000)) / 100),
            lo + 6 * _DAY)
    if k % 2 == 0:
        row("Subscription Fee", "other-transaction", "Subscription Fee", _SUBSCRIPTION[currency], lo + 2 * _DAY)
    row("ServiceFee", "Cost of Advertising", "TransactionTotalAmount",
        -_c(Decimal(rng.randrange(2000, 9000)) / 100), lo + 10 * _DAY)
