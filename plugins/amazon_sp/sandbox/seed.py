"""The sandbox's seller: a deterministic, compact book of orders that builds each order on demand.

Only what queries need is held per order (update/purchase time, marketplace); the rest of an order and
its items is rebuilt from `(seed, index)` when asked for, so 100,000 orders cost a few megabytes and
well under a second. Order ids encode their index, so getOrderItems finds an order without a lookup table.

Amazon.co.uk orders (`uk_orders`) come after the US/CA ones, from a random stream of their own, so asking
for them changes none of the US/CA orders (nor what the finances, stock, report and settlement seeds build
from those). Their prices are quoted as Amazon's VAT marketplaces quote them: tax included (20 % UK VAT),
`ItemTax`/`ShippingTax`/`PromotionDiscountTax`/`ShippingDiscountTax` being the VAT inside the price or
discount, and `OrderTotal` the prices less the discounts, no tax added (see `marketplaces.py`).
"""

from __future__ import annotations

import bisect
import random
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Iterator

from ..marketplaces import prices_include_tax

__all__ = ["Catalogue", "SKUS", "MARKETPLACES", "ORDER_MARKETPLACES", "UK", "SellerBook", "iso", "render_2026",
           "STATUS_2026"]


@dataclass(frozen=True)
class Catalogue:
    sku: str
    asin: str
    title: str
    usd: str


SKUS: tuple[Catalogue, ...] = (
    Catalogue("LL-MUG-11OZ", "B07QXZ1M4K", "Stoneware Coffee Mug, 11 oz, Matte Black", "14.99"),
    Catalogue("LL-MUG-15OZ", "B07QXZ9T2P", "Stoneware Coffee Mug, 15 oz, Sage Green", "17.99"),
    Catalogue("LL-TEA-EARL-100", "B08L5M2WQ1", "Organic Earl Grey Tea, 100 Bags", "12.49"),
    Catalogue("LL-TEA-GRN-50", "B08L5N7XK3", "Japanese Sencha Green Tea, 50 Bags", "9.95"),
    Catalogue("LL-KTL-GOOSE", "B09C3R8VYF", "Gooseneck Pour-Over Kettle, 1.0 L, Stainless Steel", "39.00"),
    Catalogue("LL-GRD-BURR", "B09C3TQ1LM", "Conical Burr Coffee Grinder, 18 Settings", "59.99"),
    Catalogue("LL-FLT-V60-100", "B06XKR2S7D", "Cone Paper Coffee Filters, Size 02, 100 Count", "6.49"),
    Catalogue("LL-SCL-DIGI", "B0B1F7W9QH", "Digital Coffee Scale with Timer, 0.1 g", "24.95"),
    Catalogue("LL-TIN-500", "B0B1F8K2ZC", "Airtight Coffee Canister, 500 g, Brushed Steel", "21.50"),
    Catalogue("LL-PRS-FR-1L", "B07D9N4J8R", "French Press Coffee Maker, 34 oz, Borosilicate Glass", "29.99"),
    Catalogue("LL-CUP-ESP-4", "B0C4Z2M1RT", "Double-Wall Espresso Cups, Set of 4", "19.99"),
    Catalogue("LL-BRW-COLD-2L", "B0C4Z5P8XW", "Cold Brew Pitcher, 2 L, with Mesh Filter", "27.00"),
)

#: marketplace id → (currency, SalesChannel, country, order-id prefixes, price factor vs USD, tax rate, facilitator)
#: for the marketplaces whose whole book is seeded (orders, finances, stock, reports, settlements)
MARKETPLACES: dict[str, tuple[str, str, str, tuple[str, ...], Decimal, Decimal, bool]] = {
    "ATVPDKIKX0DER": ("USD", "Amazon.com", "US", ("111", "112", "113", "114"), Decimal("1"), Decimal("0.0725"), True),
    "A2EUQ1WTGCTBG2": ("CAD", "Amazon.ca", "CA", ("701", "702"), Decimal("1.36"), Decimal("0.13"), False),
}
#: Amazon.co.uk: orders only, GBP, 20 % VAT included in every price; the seller (UK VAT-registered) accounts
#: for the VAT, so there is no TaxCollection
UK = "A1F83G8C2ARO7P"
#: every marketplace the sandbox serves orders for (the Orders APIs accept these)
ORDER_MARKETPLACES: dict[str, tuple[str, str, str, tuple[str, ...], Decimal, Decimal, bool]] = {
    **MARKETPLACES,
    UK: ("GBP", "Amazon.co.uk", "GB", ("202", "203", "204", "205", "026"), Decimal("0.95"), Decimal("0.20"), False),
}
_MARKET_IDS = tuple(ORDER_MARKETPLACES)
_PLACES = {
    "US": [("SEATTLE", "WA", "98109"), ("AUSTIN", "TX", "78701"), ("BROOKLYN", "NY", "11201"),
           ("DENVER", "CO", "80202"), ("PORTLAND", "OR", "97205"), ("CHICAGO", "IL", "60614")],
    "CA": [("TORONTO", "ON", "M5V 2T6"), ("VANCOUVER", "BC", "V6B 1A1"), ("MONTREAL", "QC", "H2X 1Y4"),
           ("CALGARY", "AB", "T2P 1J9")],
    "GB": [("LONDON", "GREATER LONDON", "SW1A 1AA"), ("MANCHESTER", "GREATER MANCHESTER", "M1 2AB"),
           ("BRISTOL", "CITY OF BRISTOL", "BS1 4DJ"), ("LEEDS", "WEST YORKSHIRE", "LS1 4AP"),
           ("EDINBURGH", "MIDLOTHIAN", "EH1 1YZ"), ("CARDIFF", "SOUTH GLAMORGAN", "CF10 1EP")],
}
#: the buyer's anonymised e-mail domain per country
_MAIL = {"US": "marketplace.amazon.com", "CA": "marketplace.amazon.com", "GB": "marketplace.amazon.co.uk"}
_CENT = Decimal("0.01")
_SPAN = 60 * 86400          # orders spread over the last 60 days
_QUIET = 600                # nothing changes in the last 10 minutes before the anchor
_ID_MOD = 10_000_000
_ID_MUL = 7919              # invertible mod 10^7, so an order id's last group gives back its index
_ID_INV = pow(_ID_MUL, -1, _ID_MOD)


def iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(amount.quantize(_CENT, rounding=ROUND_HALF_UP))}


def _shelf_price(usd: str, factor: Decimal) -> Decimal:
    """A VAT marketplace's shelf price (tax included), ending in .99 as such prices do: £12.99, not £13.47."""
    return max((Decimal(usd) * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP), Decimal(1)) - _CENT


def _included_tax(gross: Decimal, rate: Decimal) -> Decimal:
    """The tax inside a tax-inclusive amount: gross × rate / (1 + rate), to the cent."""
    return (gross * rate / (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)


class SellerBook:
    """All orders of one sandbox seller, indexed by LastUpdateDate (and PurchaseDate when asked)."""

    def __init__(self, orders: int, seed: int, anchor: datetime, *, defects: int = 0,
                 lines_per_order: int | None = None, uk_orders: int = 0):
        if orders + uk_orders >= _ID_MOD:
            raise ValueError(f"at most {_ID_MOD - 1} orders")
        #: `count`: the US/CA orders (indexes 0..count-1), the ones the other seeds build from; `total`
        #: adds the Amazon.co.uk orders after them
        self.count, self.seed, self.lines_per_order = orders, seed, lines_per_order
        self.total = orders + uk_orders
        self.anchor = int(anchor.timestamp())
        rng = random.Random(seed)
        newest = self.anchor - _QUIET
        self.purchased: list[int] = []
        self.updated: list[int] = []
        self.market = bytearray(self.total)
        for i in range(orders):
            placed = newest - int(_SPAN * rng.random() ** 1.2)  # denser towards now, as sales grow
            self.purchased.append(placed)
            self.updated.append(min(newest, placed + int(rng.random() * 3 * 86400)))
            self.market[i] = 0 if rng.random() < 0.75 else 1
        self.defects = frozenset(rng.sample(range(orders), min(defects, orders)))
        uk_rng = random.Random(seed * 7_919 + 44)  # a stream of their own: the US/CA orders stay as they were
        uk = _MARKET_IDS.index(UK)
        for i in range(orders, self.total):
            placed = newest - int(_SPAN * uk_rng.random() ** 1.2)
            self.purchased.append(placed)
            self.updated.append(min(newest, placed + int(uk_rng.random() * 3 * 86400)))
            self.market[i] = uk
        self._markets = _MARKET_IDS if uk_orders else tuple(MARKETPLACES)
        self.changes: dict[int, dict[str, Any]] = {}
        #: searchOrders JSON of each order already served, per includedData set: encoded once (an update
        #: forgets the order's), so a page is a join of cached texts and a reader's own speed shows
        self._encoded_2026: dict[int, dict[frozenset[str], str]] = {}
        self._by_update = self._index(self.updated)
        self._by_purchase: dict[str, tuple[list[int], list[int]]] | None = None

    # ------------------------------------------------------------------ indexes

    def _index(self, times: list[int]) -> dict[str, tuple[list[int], list[int]]]:
        """Per marketplace (and all together): order indexes sorted by time, with the times for bisect."""
        members: dict[str, list[int]] = {key: [] for key in _MARKET_IDS}
        for i in range(self.total):
            members[_MARKET_IDS[self.market[i]]].append(i)
        members["*"] = list(range(self.total))
        out: dict[str, tuple[list[int], list[int]]] = {}
        for key, ids in members.items():
            ids.sort(key=lambda i: (times[i], i))
            out[key] = ([times[i] for i in ids], ids)
        return out

    def select(self, marketplaces: list[str], after: int, before: int, *, created: bool = False) -> list[int]:
        """Indexes of orders in these marketplaces with the time in [after, before], oldest first."""
        if created and self._by_purchase is None:
            self._by_purchase = self._index(self.purchased)
        index = self._by_purchase if created else self._by_update
        assert index is not None
        keys = [m for m in _MARKET_IDS if m in marketplaces]
        if set(keys) >= set(self._markets):
            keys = ["*"]
        key = ",".join(keys)
        if key and key not in index:  # some marketplaces of several: the all-orders index, less the others
            wanted = {_MARKET_IDS.index(m) for m in keys}
            all_times, all_ids = index["*"]
            members = [n for n, i in enumerate(all_ids) if self.market[i] in wanted]
            index[key] = ([all_times[n] for n in members], [all_ids[n] for n in members])
        times, ids = index[key] if key else ([], [])
        return ids[bisect.bisect_left(times, after):bisect.bisect_right(times, before)]

    def update(self, index: int, when: int, **fields: Any) -> None:
        """A seller or Amazon change to an order (status, …): it moves to `when` in the update index."""
        for combined in [k for k in self._by_update if "," in k]:
            del self._by_update[combined]  # rebuilt from the all-orders index when next asked for
        for key in (_MARKET_IDS[self.market[index]], "*"):
            times, ids = self._by_update[key]
            pos = ids.index(index)
            del times[pos], ids[pos]
            at = bisect.bisect_right(times, when)
            times.insert(at, when)
            ids.insert(at, index)
        self.updated[index] = when
        self.changes.setdefault(index, {}).update(fields)
        self._encoded_2026.pop(index, None)

    # ------------------------------------------------------------------ ids

    def order_id(self, i: int) -> str:
        prefixes = ORDER_MARKETPLACES[_MARKET_IDS[self.market[i]]][3]
        middle = (i * 2654435761 + self.seed * 97) % _ID_MOD
        return f"{prefixes[i % len(prefixes)]}-{middle:07d}-{(i * _ID_MUL + self.seed) % _ID_MOD:07d}"

    def index_of(self, order_id: str) -> int | None:
        """The index an order id encodes, if it is one of ours."""
        try:
            last = int(order_id.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return None
        i = ((last - self.seed) * _ID_INV) % _ID_MOD
        return i if i < self.total and self.order_id(i) == order_id else None

    # ------------------------------------------------------------------ orders

    def _rng(self, i: int) -> random.Random:
        return random.Random(self.seed * 10_000_019 + i)

    def _shape(self, i: int) -> dict[str, Any]:
        """Everything about order `i` that its order and items both need, from its own random stream."""
        rng = self._rng(i)
        market = _MARKET_IDS[self.market[i]]
        afn = rng.random() < 0.55
        roll = rng.random()
        if roll < 0.03:
            status = "Pending"
        elif roll < 0.06:
            status = "Canceled"
        elif roll < 0.16:
            status = "Unshipped"
        elif roll < 0.18 and not afn:
            status = "PartiallyShipped"
        else:
            status = "Shipped"
        status = self.changes.get(i, {}).get("OrderStatus", status)
        lines = self.lines_per_order or rng.choice((1, 1, 1, 2, 2, 3))
        skus = rng.sample(range(len(SKUS)), lines)
        return {"rng": rng, "market": market, "afn": afn, "status": status, "skus": skus,
                "business": rng.random() < 0.08, "place": rng.choice(_PLACES[ORDER_MARKETPLACES[market][2]])}

    def items(self, i: int) -> list[dict[str, Any]]:
        """Order `i`'s OrderItems, as getOrderItems returns them."""
        return self._items(i, self._shape(i))

    def _item_base(self, i: int, n: int, entry: Any, qty: int, status: str) -> dict[str, Any]:
        """An OrderItem's identity and quantities, the same in every marketplace (prices are added after)."""
        return {
            "ASIN": entry.asin, "SellerSKU": entry.sku,
            "OrderItemId": f"{(i * 131 + self.seed) % 10**11:011d}{n:03d}",
            "Title": entry.title, "QuantityOrdered": 0 if status == "Canceled" else qty,
            "QuantityShipped": qty if status == "Shipped" else 0,
            "ProductInfo": {"NumberOfItems": "1"}, "IsGift": "false", "ConditionId": "New",
            "ConditionSubtypeId": "New", "IsTransparency": False, "SerialNumberRequired": False,
        }

    def _items(self, i: int, shape: dict[str, Any]) -> list[dict[str, Any]]:
        rng = shape["rng"]
        currency, _, _, _, factor, tax_rate, facilitator = ORDER_MARKETPLACES[shape["market"]]
        if prices_include_tax(shape["market"]):
            return self._items_tax_included(i, shape)
        priced = shape["status"] not in ("Pending", "Canceled")  # Amazon withholds prices until authorised
        out = []
        for n, sku_index in enumerate(shape["skus"]):
            entry = SKUS[sku_index]
            qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
            item = self._item_base(i, n, entry, qty, shape["status"])
            if n == 0 and i in self.defects:
                del item["SellerSKU"]  # a listing whose SKU was deleted: the normaliser must dead-letter it
            if priced:
                price = (Decimal(entry.usd) * factor).quantize(_CENT) * qty
                tax = (price * tax_rate).quantize(_CENT, rounding=ROUND_HALF_UP)
                item["ItemPrice"] = _money(currency, price)
                item["ItemTax"] = _money(currency, tax)
                discount = Decimal(0)
                if rng.random() < 0.15:
                    discount = (price * Decimal("0.10")).quantize(_CENT, rounding=ROUND_HALF_UP)
                    item["PromotionIds"] = [f"PLM-{rng.randrange(10**8):08d}"]
                item["PromotionDiscount"] = _money(currency, discount)
                item["PromotionDiscountTax"] = _money(currency, Decimal(0))
                if not shape["afn"]:
                    ship = Decimal("4.99") if rng.random() < 0.7 else Decimal("0")
                    item["ShippingPrice"] = _money(currency, ship)
                    item["ShippingTax"] = _money(currency, (ship * tax_rate).quantize(_CENT, rounding=ROUND_HALF_UP))
                    free = bool(ship) and rng.random() < 0.3
                    item["ShippingDiscount"] = _money(currency, ship if free else Decimal(0))
                    item["ShippingDiscountTax"] = _money(currency, Decimal(0))
                if facilitator:
                    item["TaxCollection"] = {"Model": "MarketplaceFacilitator",
                                             "ResponsibleParty": "Amazon Services, Inc."}
            out.append(item)
        return out

    def _items_tax_included(self, i: int, shape: dict[str, Any]) -> list[dict[str, Any]]:
        """A VAT marketplace's OrderItems: shelf prices with the VAT inside, each tax field the VAT of the price
        or discount beside it (a promotion's tax in PromotionDiscountTax, free shipping's in
        ShippingDiscountTax)."""
        rng = shape["rng"]
        currency, _, _, _, factor, rate, _ = ORDER_MARKETPLACES[shape["market"]]
        priced = shape["status"] not in ("Pending", "Canceled")
        out = []
        for n, sku_index in enumerate(shape["skus"]):
            entry = SKUS[sku_index]
            qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
            item = self._item_base(i, n, entry, qty, shape["status"])
            if priced:
                price = _shelf_price(entry.usd, factor) * qty
                item["ItemPrice"] = _money(currency, price)
                item["ItemTax"] = _money(currency, _included_tax(price, rate))
                discount = Decimal(0)
                if rng.random() < 0.2:  # a 10 % (or £2 off) promotion, VAT included like the price
                    discount = Decimal("2.00") if rng.random() < 0.3 else (price * Decimal("0.10")).quantize(
                        _CENT, rounding=ROUND_HALF_UP)
                    item["PromotionIds"] = [f"UK-PROMO-{rng.randrange(10**6):06d}"]
                item["PromotionDiscount"] = _money(currency, discount)
                item["PromotionDiscountTax"] = _money(currency, _included_tax(discount, rate))
                if not shape["afn"]:  # Royal Mail 2nd class, sometimes free over the threshold
                    ship = Decimal("2.99") if rng.random() < 0.75 else Decimal("0")
                    free = bool(ship) and rng.random() < 0.3
                    item["ShippingPrice"] = _money(currency, ship)
                    item["ShippingTax"] = _money(currency, _included_tax(ship, rate))
                    item["ShippingDiscount"] = _money(currency, ship if free else Decimal(0))
                    item["ShippingDiscountTax"] = _money(currency, _included_tax(ship, rate) if free else Decimal(0))
            out.append(item)
        return out

    def order(self, i: int) -> dict[str, Any]:
        """Order `i` as getOrders returns it."""
        return self.order_and_items(i)[0]

    def order_and_items(self, i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Order `i` and its OrderItems in the Orders v0 shape, from one pass over its random stream."""
        shape = self._shape(i)
        items = self._items(i, shape)
        rng, market, status = shape["rng"], shape["market"], shape["status"]
        currency, channel, country = ORDER_MARKETPLACES[market][:3]
        placed = self.purchased[i]
        order: dict[str, Any] = {
            "AmazonOrderId": self.order_id(i), "PurchaseDate": iso(placed), "LastUpdateDate": iso(self.updated[i]),
            "OrderStatus": status, "FulfillmentChannel": "AFN" if shape["afn"] else "MFN", "SalesChannel": channel,
            "ShipServiceLevel": "Expedited" if rng.random() < 0.2 else "Standard",
        }
        if status not in ("Pending", "Canceled"):
            total = Decimal(0)
            # the buyer pays the prices less the discounts, plus the tax where it is not already inside them
            parts = (("ItemPrice", 1), ("ShippingPrice", 1), ("PromotionDiscount", -1), ("ShippingDiscount", -1))
            if not prices_include_tax(market):
                parts += (("ItemTax", 1), ("ShippingTax", 1))
            for item in items:
                for name, sign in parts:
                    if name in item:
                        total += sign * Decimal(item[name]["Amount"])
            order["OrderTotal"] = _money(currency, total)
        units = sum(item["QuantityOrdered"] for item in items)
        shipped = units if status == "Shipped" else (units // 2 if status == "PartiallyShipped" else 0)
        order.update({
            "NumberOfItemsShipped": shipped, "NumberOfItemsUnshipped": units - shipped,
            "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "MarketplaceId": market,
            "ShipmentServiceLevelCategory": order["ShipServiceLevel"], "OrderType": "StandardOrder",
            "EarliestShipDate": iso(placed + 86400), "LatestShipDate": iso(placed + 2 * 86400),
            "IsBusinessOrder": shape["business"], "IsPrime": shape["afn"] and rng.random() < 0.6,
            "IsPremiumOrder": False, "IsGlobalExpressEnabled": False, "IsReplacementOrder": False,
            "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False,
        })
        if status != "Pending":  # Amazon releases buyer and address details once payment is authorised
            city, region, postal = shape["place"]
            order["ShippingAddress"] = {"City": city, "StateOrRegion": region, "PostalCode": postal,
                                        "CountryCode": country}
            alias = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=15))
            buyer: dict[str, Any] = {"BuyerEmail": f"{alias}@{_MAIL[country]}"}  # anonymised, as Amazon does
            if shape["business"]:
                buyer["PurchaseOrderNumber"] = f"PO-{rng.randrange(10**6):06d}"
            order["BuyerInfo"] = buyer
        return order, items

    def order_2026(self, i: int, included: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Order `i` as the Orders API 2026-01-01 `searchOrders` returns it, with the `includedData` sets asked
        for. The same order as `order(i)`/`items(i)`, in the 2026 shape (see `render_2026`)."""
        return render_2026(*self.order_and_items(i), included)

    def order_2026_json(self, i: int, included: frozenset[str], dumps: Callable[[Any], str]) -> str:
        """`order_2026(i, included)` as JSON text written by `dumps`, encoded once."""
        by_set = self._encoded_2026.setdefault(i, {})
        text = by_set.get(included)
        if text is None:
            text = by_set[included] = dumps(self.order_2026(i, included))
        return text

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in self._by_update["*"][1]:
            yield self.order(i)


#: Orders v0 OrderStatus → Orders 2026-01-01 FulfillmentStatus
STATUS_2026 = {"PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
               "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
               "Unfulfillable": "UNFULFILLABLE", "InvoiceUnconfirmed": "UNSHIPPED"}


def _m26(money: dict[str, str]) -> dict[str, str]:
    return {"amount": money["Amount"], "currencyCode": money["CurrencyCode"]}


def _neg(money: dict[str, str]) -> dict[str, str]:
    return {"amount": str(-Decimal(money["Amount"])), "currencyCode": money["CurrencyCode"]}


def _sum(currency: str, *amounts: Decimal) -> dict[str, str]:
    return {"amount": str(sum(amounts, Decimal(0)).quantize(_CENT)), "currencyCode": currency}


def render_2026(order: dict[str, Any], items: list[dict[str, Any]], included: frozenset[str]) -> dict[str, Any]:
    """An Orders v0 order and its items → the 2026-01-01 `Order` (orderItems inline), so both APIs serve the
    same seller. Item proceeds are broken down as Amazon does: ITEM (price × quantity), SHIPPING, GIFT_WRAP,
    TAX (detailed ITEM/SHIPPING/GIFT_WRAP, and DISCOUNT: the discounts' tax, negative) and DISCOUNT (negative,
    detailed ITEM/SHIPPING); their subtotals add up to `proceedsTotal` (without TAX where the prices include
    it, as in Amazon.co.uk), and the items' totals to the order's `proceeds.grandTotal`."""
    status = STATUS_2026.get(order["OrderStatus"], "UNSHIPPED")
    programs = [p for p, on in (("AMAZON_BUSINESS", order["IsBusinessOrder"]), ("PRIME", order["IsPrime"])) if on]
    out: dict[str, Any] = {
        "orderId": order["AmazonOrderId"], "createdTime": order["PurchaseDate"],
        "lastUpdatedTime": order["LastUpdateDate"],
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": order["MarketplaceId"],
                         "marketplaceName": order["SalesChannel"]},
    }
    if programs:
        out["programs"] = programs
    afn = order["FulfillmentChannel"] == "AFN"
    buyer = order.get("BuyerInfo")
    if "BUYER" in included and buyer:
        b: dict[str, Any] = {}
        if not afn:  # Amazon gives the (anonymised) e-mail for merchant-fulfilled orders only
            b["buyerEmail"] = buyer["BuyerEmail"]
        if buyer.get("PurchaseOrderNumber"):
            b["buyerPurchaseOrderNumber"] = buyer["PurchaseOrderNumber"]
        if b:
            out["buyer"] = b
    address = order.get("ShippingAddress")
    if "RECIPIENT" in included and address:
        out["recipient"] = {"deliveryAddress": {
            "city": address["City"], "stateOrRegion": address["StateOrRegion"], "postalCode": address["PostalCode"],
            "countryCode": address["CountryCode"], "addressType": "RESIDENTIAL"}}
    total = order.get("OrderTotal")
    if "PROCEEDS" in included and total:
        out["proceeds"] = {"grandTotal": _m26(total)}
    if "PAYMENT" in included and total:
        out["payment"] = {"paymentExecutions": [{"paymentMethod": order["PaymentMethod"],
                                                 "paymentAmount": _m26(total)}]}
    if "FULFILLMENT" in included:
        out["fulfillment"] = {
            "fulfillmentStatus": status, "fulfilledBy": "AMAZON" if afn else "MERCHANT",
            "fulfillmentServiceLevel": order["ShipmentServiceLevelCategory"].upper(),
            "shipByWindow": {"earliestDateTime": order["EarliestShipDate"], "latestDateTime": order["LatestShipDate"]}}
    inclusive = prices_include_tax(order["MarketplaceId"])
    out["orderItems"] = [_item_2026(item, included, status, inclusive) for item in items]
    return out


def _item_2026(item: dict[str, Any], included: frozenset[str], status: str, inclusive: bool) -> dict[str, Any]:
    qty = item["QuantityOrdered"]
    product: dict[str, Any] = {"asin": item["ASIN"], "title": item["Title"],
                               "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"}}
    if "SellerSKU" in item:
        product["sellerSku"] = item["SellerSKU"]
    price = item.get("ItemPrice")
    if price and qty:
        unit = (Decimal(price["Amount"]) / qty).quantize(_CENT)
        product["price"] = {"unitPrice": {"amount": str(unit), "currencyCode": price["CurrencyCode"]}}
    out: dict[str, Any] = {"orderItemId": item["OrderItemId"], "quantityOrdered": qty, "product": product}
    if "PROCEEDS" in included and price:
        out["proceeds"] = _proceeds_2026(item, inclusive)
    if "PROMOTION" in included and item.get("PromotionIds"):
        out["promotion"] = {"breakdowns": [{"promotionId": p} for p in item["PromotionIds"]]}
    if "CANCELLATION" in included and status == "CANCELLED":
        out["cancellation"] = {"cancellationExecution": {"cancelledBy": "BUYER", "cancelReason": "Buyer canceled"}}
    if "FULFILLMENT" in included:
        out["fulfillment"] = {"quantityFulfilled": item["QuantityShipped"],
                              "quantityUnfulfilled": qty - item["QuantityShipped"]}
    if "TAX" in included and item.get("TaxCollection"):
        collection = item["TaxCollection"]
        out["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR",
                                          "responsibleParty": collection["ResponsibleParty"]}]}
    return out


def _proceeds_2026(item: dict[str, Any], inclusive: bool) -> dict[str, Any]:
    currency = item["ItemPrice"]["CurrencyCode"]

    def amount(name: str) -> Decimal:
        return Decimal(item[name]["Amount"]) if name in item else Decimal(0)

    breakdowns: list[dict[str, Any]] = [{"type": "ITEM", "subtotal": _m26(item["ItemPrice"])}]
    if "ShippingPrice" in item:
        breakdowns.append({"type": "SHIPPING", "subtotal": _m26(item["ShippingPrice"])})
    if "GiftWrapPrice" in item:
        breakdowns.append({"type": "GIFT_WRAP", "subtotal": _m26(item["GiftWrapPrice"])})
    taxes = [(sub, name) for sub, name in (("ITEM", "ItemTax"), ("SHIPPING", "ShippingTax"),
                                            ("GIFT_WRAP", "GiftWrapTax")) if name in item]
    details = [{"subtype": sub, "value": _m26(item[n])} for sub, n in taxes]
    tax_total = sum((amount(n) for _, n in taxes), Decimal(0))
    discount_tax = amount("PromotionDiscountTax") + amount("ShippingDiscountTax")
    if discount_tax:  # the tax of the discounts lowers the tax (only non-zero where prices include tax)
        details.append({"subtype": "DISCOUNT", "value": {"amount": str(-discount_tax), "currencyCode": currency}})
        tax_total -= discount_tax
    if taxes:
        breakdowns.append({"type": "TAX", "subtotal": _sum(currency, tax_total), "detailedBreakdowns": details})
    discounts = [(sub, name) for sub, name in (("ITEM", "PromotionDiscount"), ("SHIPPING", "ShippingDiscount"))
                 if amount(name)]
    if discounts:
        breakdowns.append({"type": "DISCOUNT", "subtotal": _sum(currency, *(-amount(n) for _, n in discounts)),
                           "detailedBreakdowns": [{"subtype": sub, "value": _neg(item[n])} for sub, n in discounts]})
    total = sum((Decimal(b["subtotal"]["amount"]) for b in breakdowns if not (inclusive and b["type"] == "TAX")),
                Decimal(0))
    return {"proceedsTotal": {"amount": str(total.quantize(_CENT)), "currencyCode": currency},
            "breakdowns": breakdowns}
