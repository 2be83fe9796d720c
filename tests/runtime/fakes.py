"""A tiny source and destination, entirely in memory, to test the runtime without any vendor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Iterator

from pydantic import BaseModel, Field

import ledgerlink
from ledgerlink import (
    CHECKPOINT, Customer, Destination, LedgerDocument, Money, Normaliser, ObjectType, Order, OrderLine, PlannedWrite, PostedDocument, RecordError,
    Source, SourceRef, Stream, WriteResult, hookimpl, idempotency_key, PermanentError, TransientError,
)


class FakeSourceConfig(BaseModel):
    orders: int = 5
    api_key: str = Field("fake-api-key-123", json_schema_extra={"airbyte_secret": True})
    #: order numbers whose line has no SKU (normalise dead letters)
    no_sku: list[int] = Field(default_factory=list)
    #: stop with an error after this many orders (simulates a crash mid-read)
    fail_after: int | None = None
    #: bump every order's updated stamp (simulates later changes)
    revision: int = 0


def _order_record(i: int, revision: int) -> dict[str, Any]:
    return {"id": f"O-{i:04d}", "updated": f"2026-01-{1 + i % 28:02d}T00:00:{revision:02d}Z", "status": "paid",
            "currency": "USD", "buyer": f"buyer{i % 3}@example.com"}


def _line_record(i: int, no_sku: bool) -> dict[str, Any]:
    return {"order_id": f"O-{i:04d}", "line": 1, "sku": None if no_sku else f"SKU-{i % 4}", "qty": "2",
            "price": "9.99"}


class Orders(Stream):
    name = "orders"
    primary_key = "id"
    cursor_field = "updated"

    def read_records(self, state: dict[str, Any]) -> Iterator[Any]:
        self.state = dict(state)
        cfg: FakeSourceConfig = self.config
        for i in range(cfg.orders):
            if cfg.fail_after is not None and i == cfg.fail_after:
                raise TransientError("fake: connection reset", operation="listOrders")
            rec = _order_record(i, cfg.revision)
            if state.get("updated") and rec["updated"] <= state["updated"] and not cfg.revision:
                continue
            yield ledgerlink.protocol.record("order_lines", _line_record(i, i in cfg.no_sku))
            self.observe(rec)
            yield rec
            for _, stream, record in (p for p in POISON if p[0] == i):
                yield ledgerlink.protocol.record(stream, record)
            if i % 2 == 1:
                yield CHECKPOINT


class OrderLines(Stream):
    name = "order_lines"
    primary_key = ["order_id", "line"]

    def read_records(self, state: dict[str, Any]) -> Iterator[Any]:
        return iter(())


def normalise_order(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Order]:
    lines = []
    for line in related["order_lines"]:
        if not line.get("sku"):
            raise RecordError("order line has no SKU", stream="order_lines", key=f"{rec['id']}/1", field="sku",
                              hint="give the product a SKU")
        qty = Decimal(line["qty"])
        price = Money.of(line["price"], "USD")
        zero = Money.zero("USD")
        lines.append(OrderLine(line_id=str(line["line"]), sku=line["sku"], quantity=qty, unit_price=price,
                               amount=price * qty, discount=zero, tax=zero, shipping=zero, shipping_tax=zero,
                               shipping_discount=zero, gift_wrap=zero, gift_wrap_tax=zero,
                               source_ref=SourceRef(stream="order_lines", key=f"{rec['id']}/{line['line']}")))
    stamp = datetime.fromisoformat(rec["updated"].replace("Z", "+00:00"))
    return [Order(source="fake", order_id=rec["id"], channel="fake", fulfilment="merchant", status=rec["status"],
                  paid=True, placed_at=stamp, updated_at=stamp, currency="USD",
                  customer=Customer(source="fake", customer_id="fake-usd", display_name="Fake Store USD"),
                  lines=lines)]


class FakeSource(Source):
    name = "fake_source"
    config_model = FakeSourceConfig

    def stream_classes(self) -> list[type[Stream]]:
        return [Orders, OrderLines]

    def streams(self, config: Any) -> list[Stream]:
        return [Orders(config), OrderLines(config)]

    def normalisers(self) -> list[Normaliser]:
        return [Normaliser(stream="orders", function=normalise_order, join={"order_lines": ("order_id", "id")})]


class FakeDestConfig(BaseModel):
    token: str = Field("fake-dest-token-456", json_schema_extra={"airbyte_secret": True})


#: the "remote" books: object type → {name or doc number: payload}
REMOTE: dict[str, dict[str, dict[str, Any]]] = {}
#: which ledgerlink key each remote document was created for: {(stream, Id): key}
REMOTE_KEYS: dict[tuple[str, str], str] = {}
#: calls to make fail: {key: "permanent" | "transient"}
FAILURES: dict[str, str] = {}
#: records a source cannot help sending (poison): (after which order number, stream, record), emitted as they are
POISON: list[tuple[int, str, Any]] = []

RECEIPT = """{
  "DocNumber": {{ order.order_id }},
  "CustomerRef": {"name": {{ order.customer.display_name }}},
  "Line": [
  {% for line in order.lines %}
    {"ItemRef": {"name": {{ line.sku }}}, "Qty": {{ line.quantity }}, "Amount": {{ line.amount | money }}}{% if not loop.last %},{% endif %}
  {% endfor %}
  ],
  "Total": {{ order.grand_total | money }}
}
"""


class FakeDestination(Destination):
    name = "fake_dest"
    config_model = FakeDestConfig
    objects = [ObjectType("Customer", [["DisplayName"]]), ObjectType("Receipt", [["DocNumber"]])]
    write_order = ["Customer", "Receipt"]
    batch_size = 3
    mappings: ClassVar[dict[str, tuple[str, str]]] = {}

    def plan(self, obj: Any, ctx: Any) -> list[PlannedWrite]:
        customer_key = idempotency_key("Customer", obj.customer.display_name)
        receipt = ctx.render("receipt.json.j2", record_key=obj.natural_key, order=obj)
        return [PlannedWrite("Customer", customer_key, {"DisplayName": obj.customer.display_name}),
                PlannedWrite("Receipt", idempotency_key("Receipt", obj.natural_key), receipt,
                             depends_on=[customer_key], source_refs=obj.source_refs,
                             line_refs=[(i, l.source_ref) for i, l in enumerate(obj.lines) if l.source_ref])]

    def write_batch(self, stream: str, records: list[Any]) -> list[WriteResult]:
        out = []
        table = REMOTE.setdefault(stream, {})
        for rec in records:
            failure = FAILURES.get(rec.key)
            if failure == "permanent":
                out.append(WriteResult(rec.key, error=PermanentError("fake: ValidationFault [2020] Required param missing",
                                                                      code="2020")))
                continue
            if failure == "field":  # a record the remote refuses for one of its fields
                out.append(WriteResult(rec.key, error=RecordError("fake: the name is too long", field="DisplayName",
                                                                  hint="shorten DisplayName to 100 characters")))
                continue
            if failure == "awaiting":  # a remote that confirms later (QuickBooks Desktop)
                out.append(WriteResult(rec.key, awaiting=True))
                continue
            if failure == "transient":
                out.append(WriteResult(rec.key, error=TransientError("fake: 503"), retry=True))
                continue
            name = rec.data.get("DisplayName") or rec.data.get("DocNumber")
            if name in table:
                out.append(WriteResult(rec.key, destination_id=table[name]["Id"], version="0", created=False))
                continue
            table[name] = {**rec.data, "Id": str(len(table) + 1)}
            if failure == "tamper":  # a remote that stores something else than it was sent
                table[name]["Total"] = "0.01"
            REMOTE_KEYS[(stream, table[name]["Id"])] = rec.key
            out.append(WriteResult(rec.key, destination_id=table[name]["Id"], version="0"))
        return out

    read_back_streams = frozenset({"Receipt"})

    def read_back(self, config: Any, posted: list[PostedDocument]) -> list[LedgerDocument]:
        """The remote receipts as they are now, with the total each posted payload planned."""
        planned = {p.key: p.data for p in posted}
        out = []
        for doc in REMOTE.get("Receipt", {}).values():
            key = REMOTE_KEYS.get(("Receipt", doc["Id"]))
            expected = planned.get(key, {}).get("Total") if key else None
            out.append(LedgerDocument("Receipt", doc["Id"], key, Decimal(str(doc["Total"])),
                                      None if expected is None else Decimal(str(expected))))
        return out


class _Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(FakeSource)
        register(FakeDestination)


plugin = _Plugin()


def fresh_host(workdir: Any) -> Any:
    """A plugin host with only these fakes, an empty remote, and the receipt mapping written to `workdir`."""
    from ledgerlink.plugins import PluginHost

    template = workdir / "receipt.json.j2"
    template.write_text(RECEIPT)
    FakeDestination.mappings = {"receipt.json.j2": template}
    REMOTE.clear()
    REMOTE_KEYS.clear()
    FAILURES.clear()
    POISON.clear()
    host = PluginHost(load_entry_points=False)
    host.register(plugin, name="fakes")
    return host


def webhook_app(context: Any) -> Any:
    """A plugin web app: POST /event asks the service for a sync, as a webhook receiver would."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def event(request: Any) -> Any:
        context.trigger_sync(f"webhook {context.source_connector}")
        return JSONResponse({"ok": True, "pipeline": context.pipeline_name})

    return Starlette(routes=[Route("/event", event, methods=["POST"])])


class _WebPlugin:
    @hookimpl
    def register_web_routes(self, register: Any) -> None:
        register("/webhooks/fake", webhook_app)


web_plugin = _WebPlugin()
