"""Helpers for the order-to-cash tests: BigCommerce-like orders, and writing a plan as the runtime would."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ledgerlink import Customer, OutboundRecord, SourceRef, WriteResult, json_loads
from ledgerlink_qbo import QuickBooksOnlineDestination
from qbo_helpers import Credentials, Live, PlanCtx, as_outbox, fast_destination, make_line


def bc_order(order_id: str = "5001", *, status: str = "Awaiting Payment", paid: bool = False, currency: str = "USD",
             lines: list[Any] | None = None, **kw: Any):
    from ledgerlink import Order

    when = datetime(2025, 6, 2, 15, tzinfo=timezone.utc)
    return Order(source="bigcommerce", order_id=order_id, channel="bigcommerce", marketplace=None,
                 sales_channel="BigCommerce", fulfilment="merchant", status=status, paid=paid, placed_at=when,
                 updated_at=kw.pop("updated_at", when), currency=currency,
                 customer=Customer(source="bigcommerce", customer_id="7", display_name="Ada Lovelace",
                                   email="ada@example.com"),
                 lines=lines if lines is not None else [
                     make_line("L1", "MUG-1", "2", "30.00", currency, tax="2.40", shipping="5.00", shipping_tax="0.40"),
                     make_line("L2", "CUP-1", "1", "9.99", currency, tax="0.80")],
                 source_refs=[SourceRef(stream="orders", key=order_id)], **kw)


def open_dest(live: Live, **config: Any) -> QuickBooksOnlineDestination:
    dest = fast_destination()
    dest.open(dest.parse_config(live.config(**config)), Credentials().context())
    return dest


def post(dest: QuickBooksOnlineDestination, order: Any, options: dict[str, Any] | None = None
         ) -> tuple[list[OutboundRecord], dict[str, WriteResult]]:
    """Plan one order and write its records in the destination's order (a Void last), as the runtime does: a
    record whose dependency failed waits (it gets no result)."""
    planned = dest.plan(order, PlanCtx(options or {}))
    depends = {w.key: w.depends_on for w in planned}
    records = as_outbox(planned)
    results: dict[str, WriteResult] = {}
    streams = list(dest.write_order) + sorted({r.stream for r in records} - set(dest.write_order))
    for stream in streams:
        batch = [r for r in records if r.stream == stream
                 and all(d in results and results[d].ok for d in depends[r.key])]
        if batch:
            for result in dest.write_batch(stream, batch):
                results[result.key] = result
    return records, results


def doc(live: Live, entity: str, doc_id: str) -> dict[str, Any]:
    return json_loads(live.api("GET", f"{entity.lower()}/{doc_id}").content)[entity]


def query(live: Live, statement: str) -> list[dict[str, Any]]:
    body = json_loads(live.api("GET", "query", params={"query": statement}).content)["QueryResponse"]
    entity = statement.split()[3]
    return body.get(entity, [])
