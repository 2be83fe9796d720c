"""The QuickBooks Online destination: plans orders into documents and writes every object type exactly once.

Exactly once, in layers: look the object up before creating it (Customer by DisplayName, Item and Account by
Name, documents by DocNumber or TxnDate plus the key on the first line of PrivateNote); send `requestid` (a
batch's requestid for documents, ≤ 36 characters, each item's `bId` derived from its key) so a call repeated
after a lost response is answered from Intuit's replay; and link to an existing customer or item when QBO says
the name is taken. Documents go 30 to a `/batch` call; each item's own Fault becomes that record's result.

Intuit answers a repeated requestid with its *first* answer, an error included, so an id QBO answered with
an error is never sent again: a lost answer (timeout, reset) is retried under the same id, an answered one
under a new id (a 429 at once; a 5xx after looking the documents up, since it may have come after the commit). Each
sync's first send has its own id too (`send_id`, from the outbox's `sends`), so `dlq retry` is never stuck.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, ClassVar, Iterator

import httpx

from ledgerlink import (
    expiry_name,
    CanonicalObject, Destination, LedgerDocument, ObjectType, Order, OutboundRecord, PermanentError, PlanContext,
    PlannedWrite, PostedDocument, RecordError, ReferenceCache, RemoteError, RetryPolicy, ThrottledError, TransientError, WriteContext,
    WriteResult, request_id,
)

from .auth import QboConnect
from .client import CompanySettings, QboApi, batch_request_id
from .config import PostingOptions, QboConfig
from .faults import DUPLICATE_NAME_CODE, STALE_OBJECT_CODE, fault_from_json, fault_kind
from .plans.orders import NOTE_PREFIX, plan_order
from .plans.revisions import revise as revise_journal
from .plans.books import plan_deferred_transaction, plan_settlement_books
from .plans.refunds import plan_refund, plan_return
from .plans.inventory import plan_inventory
from .inventory_write import quantities as inventory_quantities_of, write_inventory_adjustments
from .read_back import READ_BACK_STREAMS, read_back
from .plans.links import VOID_STREAM, DocumentLinks
from .item_match import check_item_match
from .references import NAME_FIELDS, NameResolver

__all__ = ["QuickBooksOnlineDestination", "credential_name", "send_id", "DOCUMENTS", "LOOKUPS", "WRITE_ORDER"]

log = logging.getLogger("ledgerlink.qbo")

#: transactions, written through `/batch`
DOCUMENTS = ("SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt", "Payment", "Deposit", "JournalEntry",
             "InventoryAdjustment")
#: name lists ledgerlink looks up but never creates
LOOKUPS = ("Class", "Department", "TaxCode", "PaymentMethod")
#: references first; payments after the invoices they pay; deposits after what they deposit
WRITE_ORDER = ["Account", *LOOKUPS, "Customer", "Item", "SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt",
               "Payment", "Deposit", "JournalEntry", "InventoryAdjustment"]
#: name lists whose cached Ids change data capture keeps fresh
_CACHED_KINDS = ("Customer", "Item", "Account", "Class", "Department", "PaymentMethod", "TaxCode", "Vendor",
                 "Employee")
_MONEY_FIELDS = ("Amount", "TotalAmt", "TotalTax")
_CDC_WINDOW = timedelta(days=29)  # Intuit looks back 30 days; a day's margin for clocks and time zones


#: `/batch` calls per chunk in one sync: the first, then (after a look-up) the rest under new ids
_BATCH_ROUNDS = 3
_RETRYABLE = ("transient", "throttled")


def send_id(record: OutboundRecord, round_: int = 0) -> str:
    """The requestid (or batch bId) of one send of a record: new for every sync that sends it (from the outbox's
    `sends`) and every round within a sync, so no send reuses an id QBO already answered with an error. The
    first send's id is the key's alone (`request_id(key)`), as it always was."""
    if round_:
        return request_id(f"{record.key}#{record.sends}.{round_}")
    return request_id(record.key, record.sends)


def credential_name(realm_id: str) -> str:
    """Where the runtime's encrypted store keeps a company's latest refresh token."""
    return f"qbo:{realm_id}:refresh_token"


class _Generations:
    """The runtime's reference cache, seen through a generation number: bumping it forgets every cached Id at
    once (needed when change data capture cannot vouch for the cache: first use, or more than 30 days since)."""

    def __init__(self, cache: ReferenceCache, realm_id: str):
        self.cache, self._mark = cache, f"qbo:{realm_id}"
        self.generation = int(cache.get(self._mark, "generation") or 0)

    def bump(self) -> None:
        self.generation += 1
        self.cache.put(self._mark, "generation", str(self.generation))

    def meta(self, name: str) -> str | None:
        return self.cache.get(self._mark, name) or None

    def set_meta(self, name: str, value: str) -> None:
        self.cache.put(self._mark, name, value)

    def get(self, kind: str, name: str) -> str | None:
        return self.cache.get(f"{kind}@{self.generation}", name) or None

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None:
        self.cache.put(f"{kind}@{self.generation}", name, ref_id, version)

    def put_many(self, kind: str, entries: list[tuple[str, str, str | None]]) -> None:
        """Many `put`s in one statement when the cache can (the runtime's can), else one by one."""
        many = getattr(self.cache, "put_many", None)
        if many is not None:
            many(f"{kind}@{self.generation}", entries)
            return
        for name, ref_id, version in entries:
            self.cache.put(f"{kind}@{self.generation}", name, ref_id, version)

    def forget(self, kind: str, name: str) -> None:
        self.cache.put(f"{kind}@{self.generation}", name, "")


#: canonical kind → the posting rules that plan it (a kind not listed plans nothing)
PLANNERS: dict[str, Callable[[Any, PlanContext], list[PlannedWrite]]] = {
    "order": plan_order, "settlement": plan_settlement_books, "refund": plan_refund, "return": plan_return,
    "inventory_level": plan_inventory, "deferred_transaction": plan_deferred_transaction,
}


class QuickBooksOnlineDestination(Destination):
    """Posts paid orders to QuickBooks Online as SalesReceipts (with their Customer and Items), and writes any
    QBO object given directly (`ledgerlink write qbo`): names resolved, exactly once."""

    name: ClassVar[str] = "qbo"
    #: connected from the console through Intuit's consent page (auth.py)
    connect_flow: ClassVar[QboConnect] = QboConnect()
    config_model = QboConfig
    #: `destination.options`, checked when the pipeline is loaded
    options_model = PostingOptions
    #: orders plan in a helper process too; Customers and Items are rendered once per run and key (issue 18)
    plan_in_helper: ClassVar[frozenset[str]] = frozenset({"order"})
    run_memoised_streams: ClassVar[frozenset[str]] = frozenset({"Customer", "Item"})
    documentation_url = "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/salesreceipt"
    objects: ClassVar[list[ObjectType]] = [
        ObjectType("Account", matching_keys=[["Name"]]),
        *(ObjectType(kind, matching_keys=[["Name"]]) for kind in LOOKUPS),
        ObjectType("Customer", matching_keys=[["DisplayName"]]),
        ObjectType("Item", matching_keys=[["Name"]]),
        *(ObjectType(doc, matching_keys=[["DocNumber"]]) for doc in DOCUMENTS),
    ]
    write_order: ClassVar[list[str]] = WRITE_ORDER
    batch_size: int = 30
    #: batches of a document stream the runtime keeps in flight at once (`ledgerlink.runtime.load`), so the next
    #: batch's look-ups overlap this one's `/batch` call (issue 18): four of Intuit's ten places per realm
    batches_in_flight: int = 4
    #: the streams written concurrently: documents, whose batches share nothing but the (locked) reference
    #: cache; not inventory adjustments (each reads quantities the one before changed), nor names or voids
    in_flight_streams: ClassVar[frozenset[str]] = frozenset(DOCUMENTS) - {"InventoryAdjustment"}
    mappings: ClassVar[dict[str, tuple[str, str]]] = {
        name: ("ledgerlink_qbo", f"mappings/{name}")
        for name in ("customer.json.j2", "item.json.j2", "sales_receipt.json.j2", "invoice.json.j2", "payment.json.j2",
                     "credit_memo.json.j2", "refund_receipt.json.j2", "restock.json.j2")  # returns: plans/refunds.py
    }

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None):
        """`transport`, `retry` and `sleep` exist for tests; the runtime passes nothing."""
        self._http_options: dict[str, Any] = {"transport": transport, "retry": retry, "sleep": sleep}
        self.api: QboApi | None = None

    # ----------------------------------------------------------------------------------------- contract

    def check_connection(self, config: QboConfig) -> None:
        """Reading the company proves the credentials; a refresh token rotated on the way is stored at once."""
        credential, context = credential_name(config.realm_id), self.check_context
        token = context.load_credential(credential) or config.refresh_token
        api = QboApi(config, token, on_rotate=lambda new: context.save_credential(credential, new),
                     on_refresh_expiry=lambda at: context.save_credential(expiry_name(credential), f"{at:.0f}"),
                     **self._http_options)
        try:
            api.company_info()
        finally:
            api.close()

    def plan(self, obj: CanonicalObject, ctx: PlanContext) -> list[PlannedWrite]:
        planner = PLANNERS.get(obj.kind)
        return planner(obj, ctx) if planner is not None else []

    def revise(self, posted: Any, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
        """A posted document whose plan changed: its reversal or void, and the new version (plans/revisions.py)."""
        return revise_journal(posted, new_data, number)

    def open(self, config: Any, context: WriteContext) -> None:
        """Connect with the newest refresh token we hold, read the company's settings, and bring the reference
        cache up to date with change data capture."""
        self.context = context
        self.config = config if isinstance(config, QboConfig) else self.parse_config(config)
        self.batch_size = self.config.batch_size
        credential = credential_name(self.config.realm_id)
        token = context.load_credential(credential) or self.config.refresh_token
        self.api = QboApi(self.config, token, on_rotate=lambda new: context.save_credential(credential, new),
                          on_refresh_expiry=lambda at: context.save_credential(expiry_name(credential), f"{at:.0f}"),
                          **self._http_options)
        self.company: CompanySettings = self.api.company_settings()
        self.refs = _Generations(context.references, self.config.realm_id)
        self.resolver = NameResolver(self.api, self.refs,  # type: ignore[arg-type]
                                     accounts=self.config.accounts if self.config.create_missing_accounts else None)
        self.links = DocumentLinks(self)  # order-to-cash: gates, invoice links, voids (plans/links.py)
        self._refresh_references()

    # ------------------------------------------------------------------------------------- reconcile

    read_back_streams = READ_BACK_STREAMS
    #: settlements' journals are read back right after posting: the bank line must tie to the cent
    verify_after_write = frozenset({"JournalEntry"})

    def inventory_quantities(self, config: Any, skus: list[str]) -> dict[str, Decimal]:
        """QtyOnHand by SKU, for `ledgerlink reconcile`'s inventory_drift (opened as for read_back)."""
        return inventory_quantities_of(self._api, skus)

    def account_balance(self, config: Any, name: str) -> Decimal | None:
        """An account's balance, debits positive, for `reconcile`'s clearing_residual and reserve_balance: QBO's
        `Account.CurrentBalance` (which is positive when credited for liability, equity and income accounts);
        None when the company has no such account."""
        field = "FullyQualifiedName" if ":" in name else "Name"
        rows = [r for r in self._api.find("Account", field, name) if r.get("Active", True)]
        if not rows:
            return None
        row = rows[0]
        balance = Decimal(str(row.get("CurrentBalance") or 0))
        return balance if row.get("Classification") in ("Asset", "Expense") else -balance

    def read_back(self, config: Any, posted: list[PostedDocument]) -> Iterator[LedgerDocument]:
        """The company's documents as they are now, for `ledgerlink reconcile` (see read_back.py)."""
        if self.api is None:
            raise PermanentError("qbo: read_back before open", operation="reconcile")
        return read_back(self.api, posted)

    def close(self) -> None:
        if self.api is not None:
            self.api.close()
            self.api = None

    def _refresh_references(self) -> None:
        """Cached Ids of names that changed in QuickBooks (renamed, made inactive) since the last run are
        forgotten or updated; if the last run is too long ago for CDC to tell, the whole cache is forgotten."""
        now = datetime.now(timezone.utc)
        since_text = self.refs.meta("cdc_since")
        since = datetime.fromisoformat(since_text) if since_text else None
        if since is None or now - since > _CDC_WINDOW:
            if since is not None:
                log.info("qbo: reference cache older than CDC's 30 days; starting a fresh one")
            self.refs.bump()
        else:
            try:
                changes = self._api.cdc(list(_CACHED_KINDS), since - timedelta(minutes=5))
            except RemoteError as exc:
                log.warning("qbo: change data capture failed (%s); forgetting cached references", exc)
                self.refs.bump()
                changes = {}
            if sum(len(rows) for rows in changes.values()) >= 1000:  # CDC's cap: it may not have said it all
                self.refs.bump()
                changes = {}
            for kind, rows in changes.items():
                for obj in rows:
                    name = obj.get(NAME_FIELDS[kind])
                    if not name:
                        continue  # a deleted stub: name lists are made inactive, not deleted
                    if obj.get("Active") is False:
                        self.refs.forget(kind, str(name))
                    else:
                        self.refs.put(kind, str(name), str(obj["Id"]), obj.get("SyncToken"))
        self.refs.set_meta("cdc_since", now.isoformat())

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        if stream == "InventoryAdjustment":  # QtyDiff needs the Item's quantity at write time (inventory_write.py)
            return write_inventory_adjustments(self, records)
        if stream == VOID_STREAM:  # a cancelled order (written after every listed stream): void or reverse, plans/links.py
            return self.links.void(records)
        if stream in DOCUMENTS:
            return self._write_documents(stream, records)
        writer = {"Customer": self._write_customer, "Item": self._write_named, "Account": self._write_named,
                  **{kind: self._look_up_only for kind in LOOKUPS}}.get(stream)
        self._look_ahead(stream, records)
        results = []
        for record in records:
            if writer is None:
                results.append(WriteResult(record.key, error=RecordError(
                    f"the qbo destination cannot write {stream!r}", stream=stream, key=record.key,
                    hint=f"it writes {', '.join(self.write_order)}")))
                continue
            results.append(self._guarded(record, lambda r=record: self._update(r) if r.data.get("Id")
                                         else writer(r)))
        return results

    @staticmethod
    def _guarded(record: OutboundRecord, write: Callable[[], WriteResult]) -> WriteResult:
        try:
            return write()
        except RecordError as exc:
            return WriteResult(record.key, error=exc)
        except RemoteError as exc:
            return WriteResult(record.key, error=_naming(exc, record), retry=exc.kind in ("transient", "throttled"))

    def _look_ahead(self, stream: str, records: list[OutboundRecord]) -> None:
        """One query per batch for what each record would otherwise look up alone (QBO allows 500 calls a
        minute). If it fails, each record looks itself up and reports its own error."""
        if stream in ("Item", "Account"):
            try:
                self.resolver.prefetch(stream, [str(r.data.get("Name") or "") for r in records
                                                if not r.data.get("Id")])
            except RemoteError:
                pass

    # ------------------------------------------------------------------------------------------ writers

    @property
    def _api(self) -> QboApi:
        if self.api is None:
            raise RuntimeError("open() the destination before writing")
        return self.api

    def _write_customer(self, record: OutboundRecord) -> WriteResult:
        data = self._checked(record)
        name = str(data.get("DisplayName") or "")
        _no_colon(name, record, "DisplayName", "customer")
        cached = self.refs.get("Customer", name)
        if cached:
            return WriteResult(record.key, destination_id=cached, created=False)
        existing = self._find_customer(data)
        if existing is not None:
            return self._link("Customer", name, existing, record)
        try:
            created = self._api.create("Customer", data, send_id(record))
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
                              key=record.key, field=NAME_FIELDS[kind],
                              hint=f"make the {kind.lower()} active again in QuickBooks, then retry this record")
        self.resolver.remember(kind, name, obj)
        return WriteResult(record.key, destination_id=str(obj["Id"]), version=obj.get("SyncToken"), created=False)

    def _write_named(self, record: OutboundRecord) -> WriteResult:
        """Item or Account: look up by Name, link, or create (a 6240 race links to the winner)."""
        kind = record.stream
        data = self._checked(record)
        name = str(data.get("Name") or "")
        _no_colon(name, record, "Name", kind.lower())
        cached = self.refs.get(kind, name)
        if cached:
            return WriteResult(record.key, destination_id=cached, created=False)
        existing = self.resolver.find(kind, name)
        if kind == "Item":  # a SKU that matches two items is a dead letter naming both (item_match.py)
            existing = check_item_match(self._api, record, name, str(data.get("Sku") or ""), existing)
        if existing is not None:
            return self._link(kind, name, existing, record)
        payload = self.resolver.resolve(data, stream=record.stream, key=record.key)
        try:
            created = self._api.create(kind, payload, send_id(record))
        except PermanentError as exc:
            existing = self.resolver.find(kind, name) if exc.code == DUPLICATE_NAME_CODE else None
            if existing is None:
                raise
            return self._link(kind, name, existing, record)
        self.resolver.remember(kind, name, created)
        return WriteResult(record.key, destination_id=str(created["Id"]), version=created.get("SyncToken"))

    def _look_up_only(self, record: OutboundRecord) -> WriteResult:
        """Classes, locations, tax codes and payment methods are the bookkeeper's: found, never created."""
        kind = record.stream
        name = str(record.data.get("Name") or "")
        if not name:
            raise RecordError(f"a {kind} look-up needs a Name", stream=kind, key=record.key, field="Name")
        ref_id = self.resolver.id_of(kind, name, stream=kind, key=record.key, ref_field=f"{kind}Ref")
        return WriteResult(record.key, destination_id=ref_id, created=False)

    def _update(self, record: OutboundRecord) -> WriteResult:
        """A sparse update at the object's current SyncToken; a stale one (5010) is read again and retried."""
        data = self._checked(record)
        payload = self.resolver.resolve(data, stream=record.stream, key=record.key)
        payload.setdefault("sparse", True)
        for attempt in range(3):
            if payload.get("SyncToken") is None:
                payload["SyncToken"] = self._api.read(record.stream, str(payload["Id"]))["SyncToken"]
            try:
                obj = self._api.update(record.stream, payload,
                                       request_id(f"{record.key}@{payload['SyncToken']}", record.sends))
            except PermanentError as exc:
                if exc.code != STALE_OBJECT_CODE or attempt == 2:
                    raise
                log.info("qbo: %s changed meanwhile (5010); reading it again", record.key)
                payload["SyncToken"] = None
                continue
            return WriteResult(record.key, destination_id=str(obj["Id"]), version=obj.get("SyncToken"))
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------------------------------- documents

    def _write_documents(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        """Check each document, look the batch up in one query, then create the rest 30 to a `/batch` call."""
        all_records = records
        records, results = self.links.prepare(stream, records)  # order-to-cash gates and invoice links
        creates: list[tuple[OutboundRecord, dict[str, Any]]] = []
        for record in records:
            if record.data.get("Id"):
                results[record.key] = self._guarded(record, lambda r=record: self._update(r))
                continue
            try:
                creates.append((record, self._document(record)))
            except RecordError as exc:
                results[record.key] = WriteResult(record.key, error=exc)
        try:
            found = self._find_documents(stream, creates)
        except RemoteError as exc:  # cannot tell what exists: creating now could post twice
            for record, _ in creates:
                results[record.key] = WriteResult(record.key, error=_naming(exc, record),
                                                  retry=exc.kind in ("transient", "throttled"))
            creates = []
            found = {}
        pending: list[tuple[OutboundRecord, dict[str, Any]]] = []
        # a record `prepare` handed back as a new object carries its own deep copy of the payload: its
        # references are filled in place (one deep copy per document, not two)
        given = {id(r) for r in all_records}
        for record, data in creates:
            row = found.get(record.key)
            if row is not None:
                results[record.key] = WriteResult(record.key, destination_id=str(row["Id"]),
                                                  version=row.get("SyncToken"), created=False)
                continue
            try:
                pending.append((record, self.resolver.resolve(data, stream=stream, key=record.key,
                                                              in_place=id(record) not in given)))
            except RecordError as exc:
                results[record.key] = WriteResult(record.key, error=exc)
            except RemoteError as exc:
                results[record.key] = WriteResult(record.key, error=_naming(exc, record),
                                                  retry=exc.kind in ("transient", "throttled"))
        for start in range(0, len(pending), self.batch_size):
            results.update(self._post_batch(stream, pending[start:start + self.batch_size]))
        self.links.remember_all(stream, {key: result.destination_id for key, result in results.items()
                                         if result.destination_id})
        return [results[r.key] for r in all_records]

    def _document(self, record: OutboundRecord) -> dict[str, Any]:
        """The payload to create: checked, and marked with its key on PrivateNote's first line."""
        data = self._checked(record)
        mark = NOTE_PREFIX + record.key
        note = str(data.get("PrivateNote") or "")
        if note.split("\n", 1)[0] != mark:
            data["PrivateNote"] = (mark + ("\n" + note if note else ""))[:4000]
        if not data.get("DocNumber") and not data.get("TxnDate"):
            raise RecordError("a document needs a DocNumber or a TxnDate, so it can be found again before it is "
                              "posted a second time", stream=record.stream, key=record.key, field="DocNumber",
                              hint="map the source's document number (≤ 21 characters) or its date")
        return data

    def _lookup_field(self, data: dict[str, Any]) -> str:
        """DocNumber when the company keeps ours (custom transaction numbers on); else QBO numbers documents
        itself and TxnDate is what we can search by."""
        return "DocNumber" if data.get("DocNumber") and self.company.custom_txn_numbers else "TxnDate"

    def _find_documents(self, stream: str, creates: list[tuple[OutboundRecord, dict[str, Any]]]
                        ) -> dict[str, dict[str, Any]]:
        """Which of these documents already exist: same DocNumber (or TxnDate) and our key on PrivateNote's
        first line (a hand-made document with the same number is not ours)."""
        values: dict[str, set[str]] = {}
        for _, data in creates:
            field = self._lookup_field(data)
            values.setdefault(field, set()).add(str(data[field]))
        by_mark: dict[str, dict[str, Any]] = {}
        for field, wanted in values.items():
            for row in self._api.find_many(stream, field, sorted(wanted)):
                first = str(row.get("PrivateNote") or "").split("\n", 1)[0]
                by_mark.setdefault(first, row)
        return {record.key: by_mark[NOTE_PREFIX + record.key] for record, _ in creates
                if NOTE_PREFIX + record.key in by_mark}

    def _post_batch(self, stream: str, chunk: list[tuple[OutboundRecord, dict[str, Any]]]) -> dict[str, WriteResult]:
        """Create a chunk in one `/batch` call. If the call or some of its items fail in a way worth retrying,
        look them up (the call may have committed before its answer was lost or replaced) and send what is
        not there again, under new ids: QBO answers a repeated requestid with its first answer, an error too."""
        out: dict[str, WriteResult] = {}
        for round_ in range(_BATCH_ROUNDS):
            if round_:
                self._api.pause(round_)
                try:
                    found = self._find_documents(stream, chunk)
                except RemoteError as exc:  # cannot tell what exists: leave them for the next sync
                    out.update({r.key: WriteResult(r.key, error=_naming(exc, r), retry=exc.kind in _RETRYABLE)
                                for r, _ in chunk})
                    return out
                for record, _ in chunk:
                    row = found.get(record.key)
                    if row is not None:
                        out[record.key] = WriteResult(record.key, destination_id=str(row["Id"]),
                                                      version=row.get("SyncToken"), created=False)
                chunk = [(r, p) for r, p in chunk if r.key not in found]
                if not chunk:  # everything had gone through: only its answer was lost
                    break
            results, chunk = self._send_batch(stream, chunk, round_)
            out.update(results)
            if not chunk:
                break
        return out

    def _send_batch(self, stream: str, chunk: list[tuple[OutboundRecord, dict[str, Any]]], round_: int
                    ) -> tuple[dict[str, WriteResult], list[tuple[OutboundRecord, dict[str, Any]]]]:
        """One `/batch` call: each record's result, and the records worth another round."""
        bids = [send_id(record, round_) for record, _ in chunk]
        items = [{"bId": bid, "operation": "create", stream: payload} for bid, (_, payload) in zip(bids, chunk)]
        try:
            answers = self._api.batch(items, batch_request_id(bids))
        except RemoteError as exc:
            # a 5xx or a garbled answer: another round (after a look-up); a throttle the client already waited
            # out as long as its retry policy allows is left for the next sync rather than pressed harder
            return ({r.key: WriteResult(r.key, error=_naming(exc, r), retry=exc.kind in _RETRYABLE) for r, _ in chunk},
                    chunk if exc.kind == "transient" else [])
        out: dict[str, WriteResult] = {}
        again: list[tuple[OutboundRecord, dict[str, Any]]] = []
        for bid, (record, payload) in zip(bids, chunk):
            answer = answers.get(bid)
            obj = (answer or {}).get(stream)
            if answer is not None and "Fault" in answer:
                error = _item_error(answer, record)
                out[record.key] = WriteResult(record.key, error=error, retry=error.kind in _RETRYABLE)
                if error.kind == "transient":
                    again.append((record, payload))
            elif isinstance(obj, dict) and obj.get("Id"):
                out[record.key] = WriteResult(record.key, destination_id=str(obj["Id"]), version=obj.get("SyncToken"))
            else:
                out[record.key] = WriteResult(record.key, retry=True, error=TransientError(
                    f"{record.stream} {record.key}: the batch answer has no result for it", operation="QuickBooks batch",
                    hint="retried on the next sync; the look-up before posting finds it if it was created"))
                again.append((record, payload))
        return out, again

    # ------------------------------------------------------------------------------------------- checks

    def _checked(self, record: OutboundRecord) -> dict[str, Any]:
        """A copy of the payload after the checks QuickBooks would fail less clearly: currency, the company's
        features, and amounts with more than two decimals."""
        data = self._in_home_currency(record)
        refs, amount = _scan(data)  # one walk of the payload for both checks (issue 18: per-document work)
        self._needs_features(record, data, refs)
        if amount is not None:
            _check_amount(record, *amount)
        return data

    def _needs_features(self, record: OutboundRecord, data: dict[str, Any], refs: set[str]) -> None:
        c = self.company
        needs = []
        if record.stream == "InventoryAdjustment" or (record.stream == "Item" and data.get("Type") == "Inventory"):
            needs.append((c.inventory_tracking, "Type" if record.stream == "Item" else "Line",
                          "inventory tracking (Track quantity on hand)", "Settings > Account and settings > Sales > "
                          "Products and services > Track quantity and price/rate, and Track inventory quantity on hand"))
        if "ClassRef" in refs:
            needs.append((c.class_tracking, "ClassRef", "class tracking",
                          "Settings > Account and settings > Advanced > Categories > Track classes"))
        if "DepartmentRef" in refs:
            needs.append((c.track_departments, "DepartmentRef", "location tracking",
                          "Settings > Account and settings > Advanced > Categories > Track locations"))
        for enabled, field, feature, where in needs:
            if not enabled:
                raise RecordError(f"{record.stream} needs {feature}, which is off in the QuickBooks company "
                                  f"{c.company_name!r}", stream=record.stream, key=record.key, field=field,
                                  hint=f"turn it on in QuickBooks ({where}), or remove {field} from the mapping")

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


#: references that need a company feature turned on (`_needs_features`)
_FEATURE_REFS = frozenset({"ClassRef", "DepartmentRef"})
_CENT = Decimal("0.01")


def _scan(data: dict[str, Any]) -> tuple[set[str], tuple[Any, str] | None]:
    """One walk of a payload: the feature references it holds anywhere (`_FEATURE_REFS`), and the first money
    field (in document order) that is not an amount in cents, with its path (`Line[0].Amount`), if any."""
    refs: set[str] = set()
    bad: list[tuple[Any, Any]] = []

    def walk(node: Any, path: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _FEATURE_REFS:
                    refs.add(key)
                if key in _MONEY_FIELDS and value is not None and not isinstance(value, (dict, list, bool)):
                    if not bad and not _in_cents(value):
                        bad.append((value, (path, key)))
                elif isinstance(value, (dict, list)):
                    walk(value, (path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, (dict, list)):
                    walk(item, (path, i))

    walk(data, None)
    return refs, ((bad[0][0], _path_text(bad[0][1])) if bad else None)


def _in_cents(value: Any) -> bool:
    """Whether `_check_amount` accepts `value` (anything it would raise on, unexpected errors too, is False)."""
    try:
        amount = Decimal(str(value))
        return amount == amount.quantize(_CENT)
    except Exception:  # noqa: BLE001 — _check_amount raises it again, in the order the checks run
        return False


def _path_text(path: Any) -> str:
    """A path as `_scan` builds it (nested pairs) in the error's words: `Line[0].SalesItemLineDetail.Amount`."""
    parts: list[Any] = []
    while path is not None:
        path, part = path
        parts.append(part)
    text = ""
    for part in reversed(parts):
        text = f"{text}[{part}]" if isinstance(part, int) else (f"{text}.{part}" if text else part)
    return text


def _check_amount(record: OutboundRecord, value: Any, where: str) -> None:
    """Money has cents: an amount with more than two decimals is a mapping bug QBO would round silently."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RecordError(f"{value!r} is not an amount", stream=record.stream, key=record.key,
                          field=where) from None
    if amount != amount.quantize(_CENT):
        raise RecordError(f"amount {value} has more than 2 decimals", stream=record.stream,
                          key=record.key, field=where,
                          hint="round it in the mapping (the `money` filter), so the books keep cents")


def _no_colon(name: str, record: OutboundRecord, field: str, what: str) -> None:
    if ":" in name:
        raise RecordError(f"the {what} name {name!r} contains a colon, which QuickBooks reserves for sub-"
                          f"{what}s (Parent:Child)", stream=record.stream, key=record.key, field=field,
                          hint="replace the colon (e.g. with '-') in the mapping's name")


def _item_error(answer: dict[str, Any], record: OutboundRecord) -> RemoteError:
    """A batch item's Fault as the error a whole call would have raised, naming the record."""
    fault = fault_from_json(answer)
    if fault is None or not fault.errors:
        return PermanentError(f"{record.stream} {record.key}: QuickBooks refused it without saying why",
                              operation="QuickBooks batch")
    kind = fault_kind(fault)
    text = fault.errors[0].text if len(fault.errors) == 1 else "; ".join(str(e) for e in fault.errors)
    cls = {"throttled": ThrottledError, "transient": TransientError}.get(kind, PermanentError)
    hint = None
    if fault.code in ("2500", "610"):
        hint = "a reference is missing or inactive in QuickBooks: create or reactivate it, then retry"
    elif fault.code == "6000":
        hint = "QuickBooks' own business rule refused the document: fix the data or the mapping, then retry"
    return cls(f"{record.stream} {record.key}: [{fault.code}] {text}", code=fault.code, remote_message=text,
               operation="QuickBooks batch", hint=hint)


def _naming(exc: RemoteError, record: OutboundRecord) -> RemoteError:
    """The same error, its message naming the record (a dead letter must say which document failed)."""
    return type(exc)(f"{record.stream} {record.key}: {exc.message}", status=exc.status, code=exc.code,
                      remote_message=exc.remote_message, operation=exc.operation, retry_after=exc.retry_after,
                      hint=exc.hint)
