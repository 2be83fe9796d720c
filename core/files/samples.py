"""Sample 3PL shipment exports: what a warehouse sends back once it has packed the orders a channel shows as
awaiting shipment. `ledgerlink demo` and the fulfilment tests make them from the sandboxes' seeded orders,
so the files always match whatever the sandboxes hold; a user makes one the same way to try a files →
channel pipeline (`python -m ledgerlink.files.samples --help`).

Orders are found through the channels' own APIs (Orders v0 for Amazon, v2 orders for BigCommerce), never
through a sandbox's internals, so the same code works against any endpoint that speaks the API.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import httpx

__all__ = ["OrderToShip", "HEADER", "COLUMNS", "UNKNOWN_AMAZON_ORDER", "UNKNOWN_BIGCOMMERCE_ORDER",
           "amazon_orders_to_ship", "bigcommerce_orders_to_ship", "tracking_number", "write_shipments"]

#: the export's header, as a typical 3PL writes it
HEADER = ("Order #", "Tracking", "Carrier", "Ship Date", "SKU", "Qty")
#: the `columns` mapping a `files` stream with `normalise: shipments` needs for this header
COLUMNS = {"order_id": "Order #", "tracking_number": "Tracking", "carrier": "Carrier", "shipped_at": "Ship Date",
           "sku": "SKU", "quantity": "Qty"}
#: well-formed order numbers no sandbox order has: a sample row for one shows the dead-letter path
UNKNOWN_AMAZON_ORDER = "999-0000000-0000000"
UNKNOWN_BIGCOMMERCE_ORDER = "999999"

_CARRIERS = ("UPS", "USPS", "FedEx")
_AWAITING_AMAZON = ("Unshipped", "PartiallyShipped")
_AWAITING_BIGCOMMERCE = (11, 9, 8)  # Awaiting Fulfillment, Awaiting Shipment, Awaiting Pickup


@dataclass(frozen=True)
class OrderToShip:
    """An order the channel shows as awaiting shipment, with the units left to ship per SKU."""

    order_id: str
    lines: tuple[tuple[str, int], ...] = field(default_factory=tuple)


def tracking_number(order_id: str, carrier: str) -> str:
    """A carrier-shaped tracking number derived from the order, so a sample made twice names the same packages."""
    digits = str(int(hashlib.sha256(f"{carrier}:{order_id}".encode()).hexdigest()[:15], 16))[:12].rjust(12, "0")
    return {"UPS": f"1Z999AA1{digits[:10]}", "USPS": f"94001118992{digits}"}.get(carrier, digits)


def write_shipments(path: Path, orders: Iterable[OrderToShip], *, shipped_at: datetime | None = None,
                    extra_rows: Sequence[Sequence[Any]] = ()) -> Path:
    """Write one CSV row per order line (all lines of an order in one box, one tracking number), carriers in
    turn; `extra_rows` are appended as given (HEADER order, None for the export's ship date), e.g. a row for an
    unknown order."""
    when = (shipped_at or datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(timezone.utc)
    stamp = when.strftime("%Y-%m-%d %H:%M")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for n, order in enumerate(orders):
            carrier = _CARRIERS[n % len(_CARRIERS)]
            for sku, quantity in order.lines:
                out.writerow([order.order_id, tracking_number(order.order_id, carrier), carrier, stamp, sku, quantity])
        for row in extra_rows:
            out.writerow([stamp if v is None else v for v in row])
    return path


# ------------------------------------------------------------------------------------------------ Amazon


def amazon_orders_to_ship(endpoint: str, *, lwa_endpoint: str | None = None, limit: int = 3,
                          marketplace_ids: Sequence[str] = ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"),
                          client_id: str = "amzn1.application-oa2-client.sandbox",
                          client_secret: str = "sandbox-lwa-client-secret",
                          refresh_token: str = "Atzr|sandbox-refresh-token",
                          created_after: datetime | None = None) -> list[OrderToShip]:
    """Up to `limit` merchant-fulfilled (FBM) orders Amazon lists as Unshipped or PartiallyShipped, oldest first,
    with the units left to ship (the sandbox sells on amazon.com and amazon.ca)."""
    base = endpoint.rstrip("/")
    with httpx.Client(timeout=30) as http:
        token = http.post(lwa_endpoint or f"{base}/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id,
            "client_secret": client_secret})
        token.raise_for_status()
        headers = {"x-amz-access-token": token.json()["access_token"]}
        after = created_after or datetime.now(timezone.utc) - timedelta(days=90)
        params: dict[str, Any] = {"MarketplaceIds": ",".join(marketplace_ids),
                                  "CreatedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ")}
        found: list[str] = []
        while len(found) < limit:
            reply = http.get(f"{base}/orders/v0/orders", params=params, headers=headers)
            reply.raise_for_status()
            payload = reply.json().get("payload") or {}
            found += [o["AmazonOrderId"] for o in payload.get("Orders") or []
                      if o.get("FulfillmentChannel") == "MFN" and o.get("OrderStatus") in _AWAITING_AMAZON]
            if not payload.get("NextToken"):
                break
            params = {"MarketplaceIds": params["MarketplaceIds"], "NextToken": payload["NextToken"]}
        out = []
        for order_id in found[:limit]:
            reply = http.get(f"{base}/orders/v0/orders/{order_id}/orderItems", headers=headers)
            reply.raise_for_status()
            items = (reply.json().get("payload") or {}).get("OrderItems") or []
            lines = tuple((str(i["SellerSKU"]), int(i["QuantityOrdered"]) - int(i.get("QuantityShipped") or 0))
                          for i in items if i.get("SellerSKU"))
            if lines:
                out.append(OrderToShip(order_id, tuple(line for line in lines if line[1] > 0)))
    return out


# ------------------------------------------------------------------------------------------------ BigCommerce


def bigcommerce_orders_to_ship(base_url: str, *, store_hash: str = "abc123",
                               access_token: str = "sandbox-bigcommerce-token", limit: int = 3) -> list[OrderToShip]:
    """Up to `limit` orders awaiting fulfilment, shipment or pickup with nothing shipped yet, with the units left."""
    base = f"{base_url.rstrip('/')}/stores/{store_hash}/v2"
    out: list[OrderToShip] = []
    with httpx.Client(timeout=30, headers={"X-Auth-Token": access_token, "Accept": "application/json"}) as http:
        for status in _AWAITING_BIGCOMMERCE:
            reply = http.get(f"{base}/orders", params={"status_id": status, "sort": "id:asc", "limit": 250})
            reply.raise_for_status()
            for order in (reply.json() if reply.status_code == 200 else []):
                if len(out) >= limit:
                    return out
                if int(order.get("items_shipped") or 0):
                    continue
                products = http.get(f"{base}/orders/{order['id']}/products", params={"limit": 250})
                products.raise_for_status()
                lines = tuple((str(p["sku"]), int(p["quantity"]) - int(p.get("quantity_shipped") or 0))
                              for p in (products.json() if products.status_code == 200 else []) if p.get("sku"))
                lines = tuple(line for line in lines if line[1] > 0)
                if lines:
                    out.append(OrderToShip(str(order["id"]), lines))
    return out


# ------------------------------------------------------------------------------------------------ CLI


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ledgerlink.files.samples amazon|bigcommerce OUT.csv [--url URL] [--orders N] [--unknown]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ledgerlink.files.samples", description=(
        "Write a sample 3PL shipment export for the orders a running sandbox shows as awaiting shipment."))
    parser.add_argument("channel", choices=("amazon", "bigcommerce"))
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--url", help="the sandbox's address (default: its documented one)")
    parser.add_argument("--orders", type=int, default=3, help="orders to ship (default 3)")
    parser.add_argument("--unknown", action="store_true",
                        help="add a row for an order the channel does not have (it becomes a dead letter)")
    args = parser.parse_args(argv)
    if args.channel == "amazon":
        orders = amazon_orders_to_ship(args.url or "http://127.0.0.1:8711", limit=args.orders)
        unknown = UNKNOWN_AMAZON_ORDER
    else:
        orders = bigcommerce_orders_to_ship(args.url or "http://127.0.0.1:8713", limit=args.orders)
        unknown = UNKNOWN_BIGCOMMERCE_ORDER
    sku = orders[0].lines[0][0] if orders else "SKU-1"
    extra = [[unknown, tracking_number(unknown, "UPS"), "UPS", None, sku, 1]] if args.unknown else []
    write_shipments(args.out, orders, extra_rows=extra)
    print(f"{args.out}: {len(orders)} order(s) shipped" + (f", plus unknown order {unknown}" if extra else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
