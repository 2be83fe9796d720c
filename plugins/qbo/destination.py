"""The QuickBooks Online destination: plans orders into documents and writes them exactly once.

Exactly once, in three layers: look the object up before creating it (Customer by DisplayName, Item by
Name, SalesReceipt by DocNumber + the key in PrivateNote); send `requestid` so a create repeated after a lost
response returns the first object; and link to an existing customer or item when QBO says the name is taken.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

import httpx

from ledgerlink import (
    CanonicalObject, Destination, ObjectType, Order, OutboundRecord, PermanentError, PlanContext, PlannedWrite,
    RecordError, RemoteError, RetryPolicy, WriteContext, WriteResult, request_id,
)

from .client import CompanySettings, QboApi, escape
from .config import QboConfig
from .faults import DUPLICATE_NAME_CODE
from .plan import NOTE_PREFIX, plan_order
from .references import NameResolver

__all__ = ["QuickBooksOnlineDestination", "credential_name"]


def credential_name(realm_id: str) -> str:
    """Where the runtime's encrypted store keeps a company's latest refresh token."""
    return f"qbo:{realm_id}:refresh_token"


class QuickBooksOnlineDestination(Destination):
    """Posts paid orders to QuickBooks Online as SalesReceipts (with their Customer and Items)."""

    name: ClassVar[str] = "qbo"
    config_model = QboConfig
    documentation_url = "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/salesreceipt"
    objects: ClassVar[list[ObjectType]] = [
        ObjectType("Customer", matching_keys=[["DisplayName"]]),
        ObjectType("Item", matching_keys=[["Name"]]),
        ObjectType("SalesReceipt", matching_keys=[["DocNumber"]]),
    ]
    write_order: ClassVar[list[str]] = ["Customer", "Item", "SalesReceipt"]
    batch_size: ClassVar[int] = 30
    mappings: ClassVar[dict[str, tuple[str, str]]] = {
        name: ("ledgerlink_qbo", f"mappings/{name}")
        for name in ("customer.json.j2", "item.json.j2", "sales_receipt.json.j2")
    }

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None):
        """`transport`, `retry` and `sleep` exist for tests; the runtime passes nothing."""
        self._http_options: dict[str, Any] = {"transport": transport, "retry": retry, "sleep": sleep}
        self.api: QboApi | None = None
        self._receipts_ahead: dict[str, list[dict[str, Any]]] | None = None

    # ----------------------------------------------------------------------------------------- contract

    def check_connection(self, config: QboConfig) -> None:
        api = QboApi(config, config.refresh_token, **self._http_options)
        try:
            api.company_info()
        finally:
            api.close()

    def plan(self, obj: CanonicalObject, ctx: PlanContext) -> list[PlannedWrite]:
        return plan_order(obj, ctx) if isinstance(obj, Order) else []

    def open(self, config: Any, context: WriteContext) -> None:
        """Connect with the newest refresh token we hold, and read the company's currency and tax settings."""
        self.context = context
        self.config = config if isinstance(config, QboConfig) else self.parse_config(config)
        credential = credential_name(self.config.realm_id)
        token = context.load_credential(credential) or self.config.refresh_token
        self.api = QboApi(self.config, token, on_rotate=lambda new: context.save_credential(credential, new),
                          **self._http_options)
        self.company: CompanySettings = self.api.company_settings()
        self.resolver = NameResolver(self.api, context.references)

    def close(self) -> None:
        if self.api is not None:
            self.api.close()
            self.api = None

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        writer = {"Customer": self._write_customer, "Item": self._write_item,
                  "SalesReceipt": self._write_sales_receipt}.get(stream)
        self._look_ahead(stream, records)
        results = []
        for record in records:
            if writer is None:
                results.append(WriteResult(record.key, error=RecordError(
                    f"the qbo destination cannot write {stream!r}", stream=stream, key=record.key,
                    hint=f"it writes {', '.join(self.write_order)}")))
                continue
            try:
                results.append(writer(record))
            except RecordError as exc:
                results.append(WriteResult(record.key, error=exc))
            except RemoteError as exc:
                results.append(WriteResult(record.key, error=_naming(exc, record),
                                           retry=exc.kind in ("transient", "throttled")))
        return results

    def _look_ahead(self, stream: str, records: list[OutboundRecord]) -> None:
        """One query per batch for what each record would otherwise look up alone (QBO allows 500 calls a
        minute). If it fails, each record looks itself up and reports its own error."""
        self._receipts_ahead = None
        try:
            if stream == "Item":
                self.resolver.prefetch("Item", [str(r.data.get("Name") or "") for r in records])
            elif stream == "SalesReceipt":
                docs = sorted({str(r.data.get("DocNumber") or "") for r in records} - {""})
                ahead: dict[str, list[dict[str, Any]]] = {d: [] for d in docs}
                for row in self._api.find_many("SalesReceipt", "DocNumber", docs) if docs else []:
                    ahead.setdefault(str(row.get("DocNumber") or ""), []).append(row)
                self._receipts_ahead = ahead
        except RemoteError:
            self._receipts_ahead = None

    # ------------------------------------------------------------------------------------------ writers

    @property
    def _api(self) -> QboApi:
        if self.api is None:
            raise RuntimeError("open() the destination before writing")
        return self.api

    def _write_customer(self, record: OutboundRecord) -> WriteResult:
        data = self._in_home_currency(record)
        name = str(data.get("DisplayName") or "")
        cached = self.context.references.get("Customer", name)
        if cached:
            return WriteResult(record.key, destination_id=cached, created=False)
        existing = self._find_customer(data)
        if existing is not None:
            return self._link("Customer", name, existing, record)
        try:
            created = self._api.create("Customer", data, request_id(record.key))
        except PermanentError as exc:
            if exc.code != DUPLICATE_NAME_CODE:
                raise
            return self._name_taken(record, name)
        self.resolver.remember("Customer", name, created)
        return WriteResult(record.key, destination_id=str(created["Id"]), version=created.get("SyncToken"))

    def _find_customer(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """per_buyer customers match by e-mail first (names repeat, addresses rarely), then by DisplayName."""
        email = (data.get("PrimaryEmailAddr") or {}).get("Address")
        if email:
            rows = self._api.find("Customer", "PrimaryEmailAddr", str(email))
            active = [r for r in rows if r.get("Active", True)]
            if active:
                return active[0]
        return self.resolver.find("Customer", str(data.get("DisplayName") or ""))

    def _name_taken(self, record: OutboundRecord, name: str) -> WriteResult:
        """QBO 6240: DisplayName is unique across customers, vendors and employees, active or not."""
        customer = self.resolver.find("Customer", name)
        if customer is not None:
            return self._link("Customer", name, customer, record)
        for other in ("Vendor", "Employee"):
            if self.resolver.find(other, name) is not None:
                raise RecordError(f"the name {name!r} belongs to a {other} in QuickBooks; a customer cannot share it",
                                  stream=record.stream, key=record.key, field="DisplayName",
                                  hint=f"rename the {other.lower()} in QuickBooks, or override the customer "
                                       "mapping's display_name for this channel")
        raise RecordError(f"QuickBooks says the name {name!r} is taken (6240) but no customer, vendor or employee "
                          "has it", stream=record.stream, key=record.key, field="DisplayName",
                          hint="look for the name among inactive or merged names in QuickBooks")

    def _link(self, kind: str, name: str, obj: dict[str, Any], record: OutboundRecord) -> WriteResult:
        """Adopt an object that already exists, unless it is inactive (documents could not use it)."""
        if obj.get("Active") is False:
            raise RecordError(f"the {kind} named {name!r} exists but is inactive in QuickBooks", stream=record.stream,
                              key=record.key, field=_NAME_FIELD[kind],
                              hint=f"make the {kind.lower()} active again in QuickBooks, then retry this record")
        self.resolver.remember(kind, name, obj)
        return WriteResult(record.key, destination_id=str(obj["Id"]), version=obj.get("SyncToken"), created=False)

    def _write_item(self, record: OutboundRecord) -> WriteResult:
        name = str(record.data.get("Name") or "")
        cached = self.context.references.get("Item", name)
        if cached:
            return WriteResult(record.key, destination_id=cached, created=False)
        existing = self.resolver.find("Item", name)
        if existing is not None:
            return self._link("Item", name, existing, record)
        payload = self.resolver.resolve(record.data, stream=record.stream, key=record.key)
        try:
            created = self._api.create("Item", payload, request_id(record.key))
        except PermanentError as exc:
            existing = self.resolver.find("Item", name) if exc.code == DUPLICATE_NAME_CODE else None
            if existing is None:
                raise
            return self._link("Item", name, existing, record)
        self.resolver.remember("Item", name, created)
        return WriteResult(record.key, destination_id=str(created["Id"]), version=created.get("SyncToken"))

    def _write_sales_receipt(self, record: OutboundRecord) -> WriteResult:
        data = self._in_home_currency(record)
        existing = self._find_receipt(str(data.get("DocNumber") or ""), record.key)
        if existing is not None:
            return WriteResult(record.key, destination_id=str(existing["Id"]), version=existing.get("SyncToken"),
                               created=False)
        payload = self.resolver.resolve(data, stream=record.stream, key=record.key)
        created = self._api.create("SalesReceipt", payload, request_id(record.key))
        return WriteResult(record.key, destination_id=str(created["Id"]), version=created.get("SyncToken"))

    def _find_receipt(self, doc_number: str, key: str) -> dict[str, Any] | None:
        """Ours if its PrivateNote starts with our key: a DocNumber alone may be a hand-made receipt."""
        if not doc_number:
            return None
        mark = NOTE_PREFIX + key
        ahead = self._receipts_ahead or {}
        rows = ahead.pop(doc_number) if doc_number in ahead else self._api.query(
            f"select * from SalesReceipt where DocNumber = {escape(doc_number)}")
        for row in rows:
            if str(row.get("PrivateNote") or "").split("\n", 1)[0] == mark:
                return row
        return None

    def _in_home_currency(self, record: OutboundRecord) -> dict[str, Any]:
        """Refuse a foreign currency when Multicurrency is off (QBO would post it as home currency at the
        wrong amount, or refuse it); otherwise drop the redundant CurrencyRef."""
        data = dict(record.data)
        currency = str((data.get("CurrencyRef") or {}).get("value") or self.company.home_currency).upper()
        if self.company.multicurrency:
            return data
        if currency != self.company.home_currency.upper():
            raise RecordError(
                f"{record.stream} in {currency}, but the QuickBooks company's home currency is "
                f"{self.company.home_currency} and Multicurrency is off", stream=record.stream, key=record.key,
                field="CurrencyRef",
                hint="turn on Multicurrency in QuickBooks (Settings > Account and settings > Advanced > Currency), "
                     f"or post {currency} sales to a company whose home currency is {currency}")
        data.pop("CurrencyRef", None)
        return data


_NAME_FIELD = {"Customer": "DisplayName", "Item": "Name"}


def _naming(exc: RemoteError, record: OutboundRecord) -> RemoteError:
    """The same error, its message naming the record (a dead letter must say which document failed)."""
    return type(exc)(f"{record.stream} {record.key}: {exc.message}", status=exc.status, code=exc.code,
                      remote_message=exc.remote_message, operation=exc.operation, retry_after=exc.retry_after,
                      hint=exc.hint)
