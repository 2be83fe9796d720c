"""Helpers for the QuickBooks Online plugin tests: orders, a plan context, credentials, a tiny runtime."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ledgerlink import (
    Customer, MappingEngine, Money, Order, OrderLine, OutboundRecord, PlannedWrite, RetryPolicy, SourceRef,
    WriteContext, WriteResult, json_dumps, json_loads,
)
from ledgerlink_qbo import QuickBooksOnlineDestination, QuickBooksOnlineSandbox
from sandbox_helpers import sandbox_running

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "quickbooks-online"
if not REFERENCE.exists():  # the repo may be checked out elsewhere; the reference folder sits beside it
    REFERENCE = Path("/work/shared/reference/quickbooks-online")


def usd(amount: str, currency: str = "USD") -> Money:
    return Money.of(amount, currency)


def make_line(line_id: str, sku: str | None, qty: str, amount: str, currency: str = "USD", **extra: str) -> OrderLine:
    """An order line; `extra` sets the other Money fields (tax, shipping, discount…) by name."""
    money = {name: usd(extra.get(name, "0"), currency) for name in
             ("discount", "tax", "shipping", "shipping_tax", "shipping_discount", "gift_wrap", "gift_wrap_tax")}
    qty_d = Decimal(qty)
    return OrderLine(line_id=line_id, sku=sku, title=f"Product {sku}", quantity=qty_d,
                     unit_price=usd(str(Decimal(amount) / qty_d if qty_d else Decimal(amount)), currency),
                     amount=usd(amount, currency), source_ref=SourceRef(stream="orderItems", key=line_id), **money)


def make_order(order_id: str = "111-2223334-5556667", *, status: str = "Shipped", paid: bool = True,
               currency: str = "USD", lines: list[OrderLine] | None = None, tax_collected_by: str = "seller",
               buyer_name: str = "Jane Q. Buyer", buyer_email: str | None = None, **kw: Any) -> Order:
    lines = lines if lines is not None else [
        make_line("L1", "SKU-RED-MUG", "2", "25.98", currency, tax="2.08", shipping="4.99", shipping_tax="0.40",
                  discount="2.00"),
        make_line("L2", "SKU-BLUE-CUP", "3", "10.00", currency, tax="0.80", gift_wrap="3.49", gift_wrap_tax="0.28"),
    ]
    when = datetime(2025, 3, 31, 23, 30, tzinfo=timezone.utc)
    return Order(source="amazon_sp", order_id=order_id, channel="amazon", marketplace="ATVPDKIKX0DER",
                 sales_channel=kw.pop("sales_channel", "Amazon.com"), fulfilment="channel", status=status, paid=paid,
                 placed_at=when, updated_at=when, currency=currency,
                 customer=Customer(source="amazon_sp", customer_id=f"buyer-{order_id}", display_name=buyer_name,
                                   email=buyer_email),
                 lines=lines, tax_collected_by=tax_collected_by,  # type: ignore[arg-type]
                 source_refs=[SourceRef(stream="orders", key=order_id)], **kw)


@dataclass
class PlanCtx:
    """What the runtime gives `plan`: the destination's default mappings (or an override) and options."""

    options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engine = MappingEngine()
        for name, (package, resource) in QuickBooksOnlineDestination.mappings.items():
            self.engine.add_resource(name, package, resource)
        for name, source in self.overrides.items():
            self.engine.add(name, source)

    def render(self, template: str, record_key: str | None = None, **variables: Any) -> Any:
        # as the runtime's PlanContext does: every mapping also sees the raw options dict
        return self.engine.render(template, record_key, options=self.options, **variables)


@dataclass
class Credentials:
    stored: dict[str, str] = field(default_factory=dict)
    saves: list[tuple[str, str]] = field(default_factory=list)

    def save(self, name: str, value: str) -> None:
        self.saves.append((name, value))
        self.stored[name] = value

    def context(self) -> WriteContext:
        return WriteContext(save_credential=self.save, load_credential=self.stored.get)


@dataclass
class Live:
    """A running sandbox and what a test needs to talk to it."""

    sandbox: QuickBooksOnlineSandbox
    url: str
    http: httpx.Client

    @property
    def realm(self) -> str:
        return self.sandbox.options.realm_id

    def config(self, **over: Any) -> dict[str, Any]:
        o = self.sandbox.options
        return {"base_url": self.url, "token_url": f"{self.url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
                "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token, **over}

    def inject(self, path_contains: str, status: int, count: int = 1, **extra: Any) -> None:
        self.http.post("/_sandbox/faults", json={"path_contains": path_contains, "status": status, "count": count,
                                                 **extra}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return self.http.get("/_sandbox/stats").json()

    def access_token(self) -> str:
        o = self.sandbox.options
        r = self.http.post("/oauth2/v1/tokens/bearer", auth=(o.client_id, o.client_secret),
                           data={"grant_type": "refresh_token", "refresh_token": self.sandbox.tokens._refresh_tokens[-1]})
        r.raise_for_status()
        return r.json()["access_token"]

    def api(self, method: str, tail: str, token: str | None = None, **kw: Any) -> httpx.Response:
        params = {"minorversion": "75", **kw.pop("params", {})}
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token or self.access_token()}",
                   **kw.pop("headers", {})}
        return self.http.request(method, f"/v3/company/{self.realm}/{tail}", params=params, headers=headers, **kw)




def fast_destination() -> QuickBooksOnlineDestination:
    """Retries without real waiting, so throttling and 5xx tests stay fast and deterministic."""
    return QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002,
                                                         jitter=False), sleep=lambda s: None)


def as_outbox(writes: list[PlannedWrite]) -> list[OutboundRecord]:
    """What the outbox hands back: payloads round-tripped through JSON with Decimal amounts."""
    return [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]


def write_all(dest: QuickBooksOnlineDestination, records: list[OutboundRecord]) -> dict[str, WriteResult]:
    """Drain records stream by stream in the destination's write order, as the runtime does."""
    results: dict[str, WriteResult] = {}
    for stream in dest.write_order:
        batch = [r for r in records if r.stream == stream]
        for start in range(0, len(batch), dest.batch_size):
            for result in dest.write_batch(stream, batch[start:start + dest.batch_size]):
                results[result.key] = result
    return results


@contextlib.contextmanager
def live_sandbox(**options: Any) -> Iterator[Live]:
    """A QBO sandbox (at its own pace) on a free loopback port, with a client for its API."""
    options.setdefault("time_scale", None)
    with sandbox_running("qbo", **options) as (url, sandbox), \
            httpx.Client(base_url=url, timeout=10) as http:
        yield Live(sandbox, url, http)


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Iterator[Live]:
    """A fresh sandbox per test (options from `@pytest.mark.sandbox_options(...)`); the QBO and order-to-cash
    conftests import this fixture."""
    marker = request.node.get_closest_marker("sandbox_options")
    with live_sandbox(**(marker.kwargs if marker else {})) as world:
        yield world
