"""What suggestions are made from: a pipeline's staged data (its state file, opened read-only) and the ledger's
own lists (the destination's reference cache, and the accounts, items, tax codes and payment methods a QuickBooks
source staged). Nothing is written here, and nothing is asked of a remote system."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import jsonutil
from ..errors import ConfigError, PipelineBusyError
from .customers import Customer
from .items import LedgerItem

__all__ = ["Staged", "read_staged", "add_stream", "add_ledger_names", "V1_DESCRIBED_BY"]

#: V1 flat file: an amount column → the column that describes it (None: its transaction type says it)
V1_DESCRIBED_BY = {"price-amount": "price-type", "item-related-fee-amount": "item-related-fee-type",
                   "promotion-amount": "promotion-type", "shipment-fee-amount": "shipment-fee-type",
                   "order-fee-amount": "order-fee-type", "misc-fee-amount": None,
                   "other-fee-amount": "other-fee-reason-description", "direct-payment-amount": "direct-payment-type",
                   "other-amount": None}
_SKU_KEYS = ("SellerSKU", "sku", "SKU", "seller-sku", "seller_sku")
_TITLE_KEYS = ("Title", "title", "name", "product_name", "item-name")
_LEDGER_STREAMS = {"items": "Item", "accounts": "Account", "tax_codes": "TaxCode", "taxcodes": "TaxCode",
                   "payment_methods": "PaymentMethod", "paymentmethods": "PaymentMethod"}


@dataclass
class Staged:
    """The channel's words found in staging, and the ledger's names."""

    amount_rows: dict[tuple[str, str, str], int] = field(default_factory=dict)
    skus: dict[str, str | None] = field(default_factory=dict)
    payment_methods: set[str] = field(default_factory=set)
    tax_names: set[str] = field(default_factory=set)
    customers: list[Customer] = field(default_factory=list)
    ledger_items: dict[str, LedgerItem] = field(default_factory=dict)
    ledger_names: dict[str, set[str]] = field(default_factory=dict)
    #: the channels orders came from (their `channels.<name>` option key: amazon, bigcommerce)
    channels: set[str] = field(default_factory=set)

    def ledger(self, kind: str) -> set[str]:
        return self.ledger_names.setdefault(kind, set())


def _walk(node: Any, parent: dict[str, Any] | None = None) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v, node
            yield from _walk(v, node)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, parent)


def _settlement_rows(record: dict[str, Any], staged: Staged) -> None:
    for row in record.get("rows") or []:
        values = row.get("values") if isinstance(row, dict) else None
        if not isinstance(values, dict):
            continue
        tt = str(values.get("transaction-type") or "")
        if "amount-type" in values or "amount-description" in values:
            key = (tt, str(values.get("amount-type") or ""), str(values.get("amount-description") or ""))
            staged.amount_rows[key] = staged.amount_rows.get(key, 0) + 1
            continue
        for column, described_by in V1_DESCRIBED_BY.items():
            if values.get(column) not in (None, ""):
                key = (tt, column, str(values.get(described_by) or "") if described_by else "")
                staged.amount_rows[key] = staged.amount_rows.get(key, 0) + 1


def _channel_words(record: dict[str, Any], staged: Staged) -> None:
    for key, value, owner in _walk(record):
        if key in _SKU_KEYS and isinstance(value, str) and value.strip():
            title = next((owner[t] for t in _TITLE_KEYS if isinstance(owner.get(t), str) and t != key), None)
            staged.skus.setdefault(value.strip(), title)
        elif key in ("PaymentMethod", "payment_method") and isinstance(value, str) and value.strip():
            staged.payment_methods.add(value.strip())
        elif key in ("tax_class_name", "tax_name", "TaxName") and isinstance(value, str) and value.strip():
            staged.tax_names.add(value.strip())
        elif key == "BuyerInfo" and isinstance(value, dict) and (value.get("BuyerName") or value.get("BuyerEmail")):
            staged.customers.append(Customer(str(value.get("BuyerName") or value.get("BuyerEmail")),
                                             value.get("BuyerEmail")))
        elif key == "billing_address" and isinstance(value, dict):
            name = " ".join(str(value.get(k) or "") for k in ("first_name", "last_name")).strip()
            if name:
                staged.customers.append(Customer(name, value.get("email"), value.get("zip")))


def _ledger_record(kind: str, record: dict[str, Any], staged: Staged) -> None:
    name = record.get("Name") or record.get("FullyQualifiedName") or record.get("DisplayName")
    if not name:
        return
    if kind == "Item":
        staged.ledger_items.setdefault(str(name), LedgerItem(str(name), record.get("Sku")))
    staged.ledger(kind).add(str(name))


def read_staged(state_path: str | Path, *, limit_per_stream: int = 200_000) -> Staged:
    """Everything suggestions need from one state file; a busy or missing file is a clear error."""
    import duckdb

    path = Path(state_path)
    if not path.exists():
        raise ConfigError(f"the pipeline has not run yet (no {path})", hint="run `ledgerlink sync PIPELINE` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise PipelineBusyError(f"{path} is held by another process (a sync or serve)",
                                    hint="run `ledgerlink suggest` again when it has finished") from None
        raise ConfigError(f"cannot open the state file: {exc}", where=str(path)) from None
    staged = Staged()
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%'").fetchall()]
        for table in tables:
            add_stream(staged, table[4:],
                       (d for (d,) in con.execute(f"SELECT data FROM {table} LIMIT ?", [limit_per_stream]).fetchall()))
        if "refs" in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}:
            add_ledger_names(staged, con.execute("SELECT kind, name FROM refs").fetchall())
    finally:
        con.close()
    return staged


def add_stream(staged: Staged, stream: str, records: Iterable[Any]) -> None:
    """One staged stream's records (JSON text or mappings) into what suggestions read: ledger lists, settlement
    rows, or the channel's words."""
    ledger_kind = _LEDGER_STREAMS.get(stream)
    for data in records:
        record = jsonutil.loads(data) if isinstance(data, (str, bytes)) else data
        if not isinstance(record, dict):
            continue
        if ledger_kind:
            _ledger_record(ledger_kind, record, staged)
        elif "settlement" in stream:
            _settlement_rows(record, staged)
        else:
            _channel_words(record, staged)
            if "order" in stream:
                staged.channels.add("amazon" if "AmazonOrderId" in record else "bigcommerce")


def add_ledger_names(staged: Staged, refs: Iterable[tuple[str, str]]) -> None:
    """The ledger names the destination already looked up (its `refs` table: kind, name)."""
    for kind, name in refs:
        if kind == "Item":
            staged.ledger_items.setdefault(name, LedgerItem(name))
        staged.ledger(kind).add(name)
