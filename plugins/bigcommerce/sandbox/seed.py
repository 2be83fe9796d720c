"""The sandbox's store: a deterministic BigCommerce catalog, customers, locations and orders.

One store currency (USD) that every order transacts in, shown to shoppers in several display currencies
(EUR, GBP, CAD: `currency_code`, while `default_currency_code` is the transactional one); products with variants;
coupons; partial refunds; stock at three locations; one order whose product was later deleted from the
catalog. Amounts are computed once, in Decimal, and written as BigCommerce writes them ("12.5000").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from email.utils import format_datetime
from typing import Any

__all__ = ["StoreBook", "STATUSES", "CURRENCIES", "LOCATIONS", "rfc", "amount"]

#: BigCommerce's order statuses (GET /v2/order_statuses)
STATUSES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
            6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
            11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded"}
#: transactional currencies: code → (id, rate from USD, tax rate)
CURRENCIES = {"USD": (1, Decimal("1"), Decimal("0.0825")), "EUR": (2, Decimal("0.92"), Decimal("0.19")),
              "GBP": (3, Decimal("0.79"), Decimal("0.20")), "CAD": (4, Decimal("1.36"), Decimal("0.13"))}
LOCATIONS = [(1, "AUS-WH", "Austin warehouse", "America/Chicago", "US"),
             (2, "TOR-WH", "Toronto warehouse", "America/Toronto", "CA"),
             (3, "AUS-POS", "Austin store", "America/Chicago", "US")]
_CATALOG = [  # name, base sku, USD price, cost, variant option values
    ("Fog Linen Chambray Towel", "FLCT", "24.00", "9.50", ["Beige", "Grey", "Navy"]),
    ("Able Brewing System", "ABS", "225.00", "120.00", []),
    ("Chemex Coffeemaker 3 Cup", "CC3C", "49.50", "21.00", []),
    ("Orbit Terrarium - Large", "OTL", "109.00", "55.00", []),
    ("Canvas Laundry Cart", "CLC", "200.00", "80.00", []),
    ("Utility Caddy", "OFSUC", "45.95", "18.25", ["Small", "Large"]),
    ("Tiered Wire Basket", "TWB", "119.95", "60.00", []),
    ("Dustpan & Brush", "DPB", "34.95", "12.00", ["Black", "White"]),
]
_STREETS = [("455 Main Street", "Austin", "Texas", "78751", "United States", "US"),
            ("12 Baker Street", "London", "Greater London", "NW1 6XE", "United Kingdom", "GB"),
            ("8 Rue de Rivoli", "Paris", "Ile-de-France", "75004", "France", "FR"),
            ("300 Queen St W", "Toronto", "Ontario", "M5V 2A2", "Canada", "CA"),
            ("1600 Amphitheatre Pkwy", "Mountain View", "California", "94043", "United States", "US")]
_NAMES = ["Jane Doe", "John Smith", "Ana Lima", "Kenji Sato", "Emma Brown", "Luca Rossi", "Mia Müller",
          "Noah Wilson", "Olivia Martin", "Liam Dubois"]
_GATEWAYS = [("credit_card", "braintree", "Credit Card"), ("credit_card", "stripe", "Credit Card"),
             ("paypal", "paypalexpress", "PayPal"), ("offline", "custom", "Cash on Delivery")]
_CENT = Decimal("0.01")
_STATUS_WEIGHTS = [(11, 30), (2, 25), (10, 15), (3, 4), (9, 4), (8, 2), (7, 6), (1, 4), (5, 4), (0, 2), (6, 2),
                   (14, 2)]


def rfc(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(ts), timezone.utc))


def amount(value: Decimal) -> str:
    """BigCommerce's four-place money strings."""
    return str(value.quantize(Decimal("0.0001")))


def _c(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass
class StoreBook:
    """Everything the sandbox serves, mutable through its write endpoints and `/_sandbox/*` controls."""

    orders_count: int = 150
    seed: int = 7
    anchor: datetime | None = None
    store_hash: str = "abc123"
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    variants: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    order_products: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipping_addresses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    coupons: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    transactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    #: (location_id, variant_id) → on hand
    stock: dict[tuple[int, int], int] = field(default_factory=dict)
    #: orders whose updates the sandbox has applied, in order (for webhooks)
    next_ids: dict[str, int] = field(default_factory=lambda: {"order": 100, "product_line": 1000, "address": 500,
                                                               "shipment": 1, "transaction": 9000, "refund": 1,
                                                               "coupon": 1})

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        anchor = (self.anchor or datetime.now(timezone.utc)).timestamp() - 600
        self._catalog()
        self._customers()
        start = anchor - 60 * 86400
        times = sorted(self.rng.uniform(start, anchor - 3600) for _ in range(self.orders_count))
        for n, placed in enumerate(times):
            self.create_order(placed=placed, modified=min(anchor, placed + self.rng.uniform(0, 3 * 86400)),
                              deleted_product=(n == 3))
        # a product sold in order #4 was deleted from the catalog afterwards
        gone = [p for p in self.products.values() if p["sku"] == "TWB"]
        for p in gone:
            for vid in [v for v, var in self.variants.items() if var["product_id"] == p["id"]]:
                del self.variants[vid]
                for loc in LOCATIONS:
                    self.stock.pop((loc[0], vid), None)
            del self.products[p["id"]]

    # ------------------------------------------------------------------ catalog and customers

    def _catalog(self) -> None:
        vid = 200
        for n, (name, sku, price, cost, values) in enumerate(_CATALOG):
            pid = 101 + n
            variants = []
            for value in values or [None]:
                vid += 1
                vsku = f"{sku}-{value[:3].upper()}" if value else sku
                variants.append({
                    "id": vid, "product_id": pid, "sku": vsku, "sku_id": vid + 300 if value else None,
                    "price": Decimal(price), "calculated_price": Decimal(price), "sale_price": None,
                    "retail_price": None, "cost_price": Decimal(cost), "weight": Decimal("1.5"),
                    "width": Decimal(0), "height": Decimal(0), "depth": Decimal(0), "is_free_shipping": False,
                    "fixed_cost_shipping_price": None, "purchasing_disabled": False,
                    "purchasing_disabled_message": "", "upc": "", "inventory_level": 0,
                    "inventory_warning_level": 2, "bin_picking_number": "",
                    "option_values": ([{"id": 60 + vid, "label": value, "option_id": 10 + n,
                                        "option_display_name": "Colour" if n != 5 else "Size"}] if value else [])})
            for v in variants:
                self.variants[v["id"]] = v
                for loc in LOCATIONS:
                    self.stock[(loc[0], v["id"])] = self.rng.randrange(0, 60)
            self.products[pid] = {
                "id": pid, "name": name, "type": "physical", "sku": sku, "description": f"<p>{name}</p>",
                "weight": Decimal("1.5"), "width": Decimal(0), "depth": Decimal(0), "height": Decimal(0),
                "price": Decimal(price), "cost_price": Decimal(cost), "retail_price": Decimal(0),
                "sale_price": Decimal(0), "map_price": Decimal(0), "tax_class_id": 0, "categories": [23],
                "brand_id": 0, "inventory_level": 0, "inventory_warning_level": 2,
                "inventory_tracking": "variant" if values else "product", "is_visible": True,
                "base_variant_id": variants[0]["id"] if not values else None,
                "date_created": "2024-01-05T10:00:00+00:00", "date_modified": "2024-01-05T10:00:00+00:00"}
        self._recount()

    def _recount(self) -> None:
        for v in self.variants.values():
            v["inventory_level"] = sum(self.stock.get((loc[0], v["id"]), 0) for loc in LOCATIONS)
        for p in self.products.values():
            p["inventory_level"] = sum(v["inventory_level"] for v in self.variants.values() if v["product_id"] == p["id"])

    def _customers(self) -> None:
        for n, name in enumerate(_NAMES):
            first, last = name.split(" ")
            street, city, state, zip_, country, iso2 = _STREETS[n % len(_STREETS)]
            cid = n + 1
            self.customers[cid] = {
                "id": cid, "email": f"{first.lower()}.{last.lower()}@example.com", "first_name": first,
                "last_name": last, "company": "", "phone": f"555-01{n:02d}", "notes": "", "tax_exempt_category": "",
                "customer_group_id": 0, "registration_ip_address": "", "authentication": {"force_password_reset": False},
                "accepts_product_review_abandoned_cart_emails": False, "channel_ids": [1],
                "date_created": "2024-01-02T09:00:00Z", "date_modified": "2024-01-02T09:00:00Z",
                "addresses": [{"id": cid, "customer_id": cid, "first_name": first, "last_name": last, "company": "",
                               "address1": street, "address2": "", "city": city, "state_or_province": state,
                               "postal_code": zip_, "country": country, "country_code": iso2,
                               "phone": f"555-01{n:02d}", "address_type": "residential"}]}

    def _next(self, kind: str) -> int:
        self.next_ids[kind] += 1
        return self.next_ids[kind]

    # ------------------------------------------------------------------ orders

    def create_order(self, *, placed: float, modified: float | None = None, status_id: int | None = None,
                     deleted_product: bool = False) -> dict[str, Any]:
        """A new order with its products, shipping address, coupons, transactions, shipments and refunds."""
        rng = self.rng
        oid = self._next("order")
        status_id = status_id if status_id is not None else rng.choices(
            [s for s, _ in _STATUS_WEIGHTS], [w for _, w in _STATUS_WEIGHTS])[0]
        # shoppers browse in several display currencies; every order transacts in the store's (USD)
        display = rng.choices(list(CURRENCIES), [70, 12, 10, 8])[0]
        currency = "USD"
        cur_id, rate, tax_rate = CURRENCIES[currency]
        display_id, display_rate, _ = CURRENCIES[display]
        customer_id = rng.choice([0, *self.customers])
        cust = self.customers.get(customer_id)
        name = (f"{cust['first_name']} {cust['last_name']}" if cust else rng.choice(_NAMES))
        first, last = name.split(" ")
        email = cust["email"] if cust else f"guest{oid}@example.net"
        street, city, state, zip_, country, iso2 = rng.choice(_STREETS)
        address = {"first_name": first, "last_name": last, "company": "", "street_1": street, "street_2": "",
                   "city": city, "state": state, "zip": zip_, "country": country, "country_iso2": iso2,
                   "phone": "555-123-4567", "email": email}
        address_id = self._next("address")
        variant_ids = list(self.variants)
        chosen = rng.sample(variant_ids, rng.choice((1, 1, 2, 2, 3)))
        if deleted_product:
            chosen = [next(v for v in variant_ids if self.variants[v]["sku"] == "TWB")]
        lines = []
        subtotal, item_tax = Decimal(0), Decimal(0)
        for vid in chosen:
            v = self.variants[vid]
            p = self.products[v["product_id"]]
            qty = rng.choice((1, 1, 1, 2, 3))
            price = _c(v["price"] * rate)
            total = price * qty
            tax = _c(total * tax_rate)
            subtotal += total
            item_tax += tax
            lines.append({
                "id": self._next("product_line"), "order_id": oid, "product_id": p["id"],
                "variant_id": vid, "order_address_id": address_id, "name": p["name"], "name_customer": p["name"],
                "name_merchant": p["name"], "sku": v["sku"], "upc": "", "type": "physical",
                "base_price": amount(price), "price_ex_tax": amount(price), "price_inc_tax": amount(price + _c(price * tax_rate)),
                "price_tax": amount(_c(price * tax_rate)), "base_total": amount(total), "total_ex_tax": amount(total),
                "total_inc_tax": amount(total + tax), "total_tax": amount(tax), "weight": "1.5000",
                "width": "0.0000", "height": "0.0000", "depth": "0.0000", "quantity": qty,
                "base_cost_price": amount(_c(v["cost_price"] * rate)),
                "cost_price_inc_tax": amount(_c(v["cost_price"] * rate)),
                "cost_price_ex_tax": amount(_c(v["cost_price"] * rate)), "cost_price_tax": "0.0000",
                "is_refunded": False, "quantity_refunded": 0, "refund_amount": "0.0000", "return_id": 0,
                "wrapping_id": 0, "wrapping_name": "", "base_wrapping_cost": "0.0000", "wrapping_cost_ex_tax": "0.0000",
                "wrapping_cost_inc_tax": "0.0000", "wrapping_cost_tax": "0.0000", "wrapping_message": "",
                "quantity_shipped": 0, "fixed_shipping_cost": "0.0000", "ebay_item_id": "", "ebay_transaction_id": "",
                "option_set_id": None, "parent_order_product_id": None, "is_bundled_product": False,
                "bin_picking_number": "", "external_id": None, "brand": "", "applied_discounts": [],
                "product_options": [{"id": 40 + n, "option_id": o["option_id"], "order_product_id": 0,
                                     "product_option_id": o["option_id"], "display_name": o["option_display_name"],
                                     "display_value": o["label"], "value": str(o["id"]), "type": "Swatch",
                                     "name": o["option_display_name"], "display_style": ""}
                                    for n, o in enumerate(v["option_values"])],
                "configurable_fields": [], "gift_certificate_id": None, "discounted_total_inc_tax": amount(total + tax)})
        ship = _c(Decimal(rng.choice(("0", "7.95", "7.95", "12.50"))) * rate)
        ship_tax = _c(ship * tax_rate)
        coupons: list[dict[str, Any]] = []
        discount = Decimal(0)
        if rng.random() < 0.25:
            discount = _c(subtotal * Decimal("0.10"))
            coupons.append({"id": self._next("coupon"), "coupon_id": rng.randrange(1, 9), "order_id": oid,
                            "code": rng.choice(("SPRING10", "WELCOME10", "VIP10")), "amount": Decimal(10),
                            "type": 1, "discount": discount})
            # BigCommerce spreads an order-level discount over the products it applied to
            left = discount
            for n, line in enumerate(lines):
                share = left if n == len(lines) - 1 else _c(discount * Decimal(line["total_ex_tax"]) / subtotal)
                left -= share
                line["applied_discounts"] = [{"id": str(coupons[0]["coupon_id"]), "amount": amount(share),
                                              "name": "Coupon", "code": coupons[0]["code"], "target": "order"}]
        total_tax = item_tax + ship_tax
        total_ex = subtotal + ship - discount
        total_inc = total_ex + total_tax
        paid = status_id in (2, 3, 4, 8, 9, 10, 11, 14)
        method, gateway, label = rng.choice(_GATEWAYS)
        created = rfc(placed)
        order = {
            "id": oid, "customer_id": customer_id, "date_created": created,
            "date_modified": rfc(modified if modified is not None else placed),
            "date_shipped": rfc(placed + 86400) if status_id in (2, 10) else "", "status_id": status_id,
            "status": STATUSES[status_id], "custom_status": STATUSES[status_id],
            "subtotal_ex_tax": amount(subtotal), "subtotal_inc_tax": amount(subtotal + item_tax),
            "subtotal_tax": amount(item_tax), "base_shipping_cost": amount(ship), "shipping_cost_ex_tax": amount(ship),
            "shipping_cost_inc_tax": amount(ship + ship_tax), "shipping_cost_tax": amount(ship_tax),
            "shipping_cost_tax_class_id": 2, "base_handling_cost": "0.0000", "handling_cost_ex_tax": "0.0000",
            "handling_cost_inc_tax": "0.0000", "handling_cost_tax": "0.0000", "handling_cost_tax_class_id": 2,
            "base_wrapping_cost": "0.0000", "wrapping_cost_ex_tax": "0.0000", "wrapping_cost_inc_tax": "0.0000",
            "wrapping_cost_tax": "0.0000", "wrapping_cost_tax_class_id": 3, "total_ex_tax": amount(total_ex),
            "total_inc_tax": amount(total_inc), "total_tax": amount(total_tax), "is_tax_inclusive_pricing": False,
            "items_total": sum(li["quantity"] for li in lines), "items_shipped": 0, "payment_method": label,
            "payment_provider_id": "", "payment_status": "captured" if paid else "",
            "refunded_amount": "0.0000", "order_is_digital": False, "store_credit_amount": "0.0000",
            "gift_certificate_amount": "0.0000", "ip_address": "203.0.113.7", "ip_address_v6": "",
            "geoip_country": country, "geoip_country_iso2": iso2, "currency_id": display_id, "currency_code": display,
            "currency_exchange_rate": f"{display_rate:.10f}", "default_currency_id": cur_id,
            "default_currency_code": currency, "staff_notes": "", "customer_message": "",
            "discount_amount": "0.0000", "coupon_discount": amount(discount),
            "shipping_address_count": 1, "ebay_order_id": "0", "cart_id": f"cart-{oid}",
            "billing_address": {**address, "form_fields": []}, "is_email_opt_in": False, "credit_card_type": None,
            "order_source": "www", "channel_id": 1, "external_source": None,
            "products": {"url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{oid}/products",
                         "resource": f"/orders/{oid}/products"},
            "shipping_addresses": {"url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{oid}/shipping_addresses",
                                   "resource": f"/orders/{oid}/shipping_addresses"},
            "coupons": {"url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{oid}/coupons",
                        "resource": f"/orders/{oid}/coupons"},
            "external_id": None, "external_merchant_id": None, "tax_provider_id": "BasicTaxProvider",
            "store_default_currency_code": "USD",
            "store_default_to_transactional_exchange_rate": f"{rate:.10f}", "customer_locale": "en",
            "external_order_id": ""}
        self.orders[oid] = order
        self.order_products[oid] = lines
        self.shipping_addresses[oid] = [{
            "id": address_id, "order_id": oid, **{k: v for k, v in address.items()}, "items_total": order["items_total"],
            "items_shipped": 0, "shipping_method": "Flat Rate" if ship else "Free Shipping", "base_cost": amount(ship),
            "cost_ex_tax": amount(ship), "cost_inc_tax": amount(ship + ship_tax), "cost_tax": amount(ship_tax),
            "cost_tax_class_id": 2, "base_handling_cost": "0.0000", "handling_cost_ex_tax": "0.0000",
            "handling_cost_inc_tax": "0.0000", "handling_cost_tax": "0.0000", "handling_cost_tax_class_id": 2,
            "shipping_zone_id": 1, "shipping_zone_name": country,
            "shipping_quotes": {"url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{oid}/shipping_addresses/{address_id}/shipping_quotes",
                                "resource": f"/orders/{oid}/shipping_addresses/{address_id}/shipping_quotes"},
            "form_fields": []}]
        self.coupons[oid] = coupons
        self.transactions[oid] = []
        if paid:
            self.transactions[oid].append({k: v for k, v in {
                "id": self._next("transaction"), "order_id": str(oid), "event": "purchase", "method": method,
                "amount": total_inc, "currency": currency, "gateway": gateway,
                "gateway_transaction_id": f"{gateway}-{oid}", "date_created": _iso(placed), "test": False,
                "status": "ok", "fraud_review": False, "reference_transaction_id": None, "offline": (
                    {"display_name": label} if method == "offline" else None),
                "custom": None, "payment_method_id": f"{gateway}.{method}", "avs_result": None, "cvv_result": None,
                "credit_card": None, "gift_certificate": None, "store_credit": None}.items()
                if v is not None})  # BigCommerce leaves out what does not apply
        self.shipments[oid] = []
        if status_id in (2, 3, 10, 14):
            shipped = lines if status_id != 3 else lines[:1]
            self.add_shipment(oid, tracking=f"1Z{self.rng.randrange(10**12):012d}", provider="ups",
                              items=[{"order_product_id": li["id"], "quantity": li["quantity"]} for li in shipped],
                              when=placed + 86400, touch=False)
        if status_id == 14:
            line = lines[0]
            unit = Decimal(line["price_ex_tax"])
            # every other refunded unit came back to the store: its order product carries the return's id
            # (BigCommerce's return flag); the others were refunded without a return (damaged in transit)
            returned = len(self.refunds) % 2 == 1
            reason = "Returned: not as described" if returned else "Damaged in transit"
            refund_id = self._next("refund")
            self.refunds.append({
                "id": refund_id, "order_id": oid, "user_id": 0, "created": _iso(placed + 2 * 86400),
                "reason": reason, "total_amount": unit, "total_tax": Decimal(0),
                "uses_merchant_override_values": False,
                "items": [{"item_type": "PRODUCT", "item_id": line["id"], "quantity": 1, "requested_amount": unit,
                           "reason": reason}],
                "payments": [{"id": self._next("refund") * 10, "provider_id": gateway, "amount": unit,
                              "offline": method == "offline", "is_declined": False, "declined_message": ""}]})
            order["refunded_amount"] = amount(unit)
            line["quantity_refunded"] = 1
            line["refund_amount"] = amount(unit)
            if returned:
                line["return_id"] = refund_id
        return order

    def add_shipment(self, oid: int, *, tracking: str, provider: str, items: list[dict[str, Any]],
                     when: float, comments: str = "", tracking_carrier: str = "", touch: bool = True) -> dict[str, Any]:
        order = self.orders[oid]
        address = self.shipping_addresses[oid][0]
        sid = self._next("shipment")
        shipment = {
            "id": sid, "order_id": oid, "customer_id": order["customer_id"], "order_address_id": address["id"],
            "date_created": rfc(when), "tracking_number": tracking, "merchant_shipping_cost": "0.0000",
            "shipping_method": address["shipping_method"], "comments": comments, "shipping_provider": provider,
            "tracking_carrier": tracking_carrier, "tracking_link": "",
            "billing_address": {k: v for k, v in order["billing_address"].items() if k != "form_fields"},
            "shipping_address": {k: address[k] for k in ("first_name", "last_name", "company", "street_1", "street_2",
                                                         "city", "state", "zip", "country", "country_iso2", "phone",
                                                         "email")},
            "items": [{"order_product_id": i["order_product_id"], "product_id": next(
                (li["product_id"] for li in self.order_products[oid] if li["id"] == i["order_product_id"]), 0),
                "quantity": i["quantity"]} for i in items],
            "shipping_provider_display_name": provider.upper(), "generated_tracking_link": ""}
        self.shipments[oid].append(shipment)
        shipped = {i["order_product_id"]: i["quantity"] for i in items}
        for li in self.order_products[oid]:
            li["quantity_shipped"] = min(li["quantity"], li["quantity_shipped"] + shipped.get(li["id"], 0))
        order["items_shipped"] = sum(li["quantity_shipped"] for li in self.order_products[oid])
        address["items_shipped"] = order["items_shipped"]
        if touch:
            order["date_modified"] = rfc(when)
        return shipment

    def touch(self, oid: int, when: float, **changes: Any) -> dict[str, Any]:
        order = self.orders[oid]
        if "status_id" in changes:
            order["status_id"] = int(changes["status_id"])
            order["status"] = order["custom_status"] = STATUSES[order["status_id"]]
        order["date_modified"] = rfc(when)
        return order

    def inventory_items(self, location_id: int) -> list[dict[str, Any]]:
        out = []
        for (loc, vid), on_hand in sorted(self.stock.items()):
            if loc != location_id or vid not in self.variants:
                continue
            v = self.variants[vid]
            out.append({"identity": {"sku": v["sku"], "variant_id": vid, "product_id": v["product_id"]},
                        "available_to_sell": on_hand, "total_inventory_onhand": on_hand,
                        "settings": {"safety_stock": 0, "is_in_stock": on_hand > 0, "warning_level": 2,
                                     "bin_picking_number": ""}})
        return out

    def adjust(self, location_id: int, variant_id: int, quantity: int, relative: bool) -> None:
        key = (location_id, variant_id)
        self.stock[key] = (self.stock.get(key, 0) + quantity) if relative else quantity
        self._recount()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).isoformat()


_ = timedelta
