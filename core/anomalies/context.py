"""What the anomaly checks read: the pipeline's state (outbox, dead letters, refs, raw staged rows) and its staged
records normalised into canonical objects, flattened into small tables of an in-memory DuckDB (`facts`), so the
checks are SQL: medians, MADs, windows and joins. The in-memory database is the context's own: a served
pipeline's one connection is never held for longer than a plain read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import duckdb

from .. import jsonutil
from ..commerce import CanonicalObject, Order, Product, Refund, Return, Settlement
from ..store import Store, table_name
from .options import AnomalyOptions

__all__ = ["AnomalyContext", "Canonical", "FACT_TABLES"]

#: kind → every staged record of that kind, normalised (the reconcile context's `canonical`)
Canonical = Callable[[type], list]

_D = "DECIMAL(18,4)"
FACT_TABLES: dict[str, str] = {
    "settlements": f"""settlement_id VARCHAR, source_key VARCHAR, market VARCHAR, currency VARCHAR,
        starts_at TIMESTAMP, ends_at TIMESTAMP, deposit_at TIMESTAMP, total {_D}, rows_sum {_D}, row_count INTEGER,
        report_id VARCHAR, origin VARCHAR""",
    "settlement_rows": f"""settlement_id VARCHAR, source_key VARCHAR, market VARCHAR, currency VARCHAR, row INTEGER,
        tt VARCHAR, amount_type VARCHAR, description VARCHAR, amount {_D}, order_id VARCHAR, sku VARCHAR,
        quantity {_D}, posted_at TIMESTAMP""",
    "orders": """order_id VARCHAR, source_key VARCHAR, source_stream VARCHAR, channel VARCHAR, market VARCHAR,
        status VARCHAR, paid BOOLEAN, placed_at TIMESTAMP, currency VARCHAR, region VARCHAR,
        tax_collected_by VARCHAR, line_count INTEGER""",
    "order_lines": f"""order_id VARCHAR, source_key VARCHAR, placed_at TIMESTAMP, currency VARCHAR, region VARCHAR,
        status VARCHAR, sku VARCHAR, quantity {_D}, amount {_D}, discount {_D}, tax {_D}, tax_collected_by VARCHAR""",
    "refund_lines": f"""refund_id VARCHAR, source_key VARCHAR, order_id VARCHAR, refunded_at TIMESTAMP,
        currency VARCHAR, sku VARCHAR, quantity {_D}, amount {_D}, restock BOOLEAN""",
    "returns": f"""return_id VARCHAR, order_id VARCHAR, sku VARCHAR, quantity {_D}, returned_at TIMESTAMP,
        disposition VARCHAR, sellable BOOLEAN""",
    "products": f"""sku VARCHAR, name VARCHAR, cost {_D}, price {_D}""",
}


def _ts(value: datetime | None) -> datetime | None:
    """Aware → naive UTC wall time (how the state stores timestamps)."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _ref(obj: CanonicalObject) -> tuple[str | None, str | None]:
    ref = obj.source_refs[0] if obj.source_refs else None
    return (ref.stream, ref.key) if ref else (None, None)


def _q(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass
class AnomalyContext:
    pipeline: str
    store: Store
    canonical: Canonical
    options: AnomalyOptions = field(default_factory=AnomalyOptions)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: the pipeline's settlement options (for deposits and conversion), when it has any
    settlement_options: dict[str, Any] = field(default_factory=dict)
    #: the source's streams (for "does this pipeline read X at all")
    streams: set[str] = field(default_factory=set)

    _facts: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)
    _loaded: set[str] = field(default_factory=set, repr=False)

    @property
    def now_naive(self) -> datetime:
        return _ts(self.now)  # type: ignore[return-value]

    # -- the pipeline's own state ----------------------------------------------------------------------------------
    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """A read of the pipeline's state file (outbox, dead letters, refs, audit, raw tables)."""
        return self.store.db.fetchall(query, params)

    def raw_rows(self, stream: str) -> list[tuple[str, dict[str, Any]]] | None:
        """Every staged record of a raw stream as (key, record); None when the pipeline never staged the stream."""
        if not self.store.raw.exists(stream):
            return None
        return [(pk, jsonutil.loads(data)) for pk, data in
                self.sql(f"SELECT pk, data FROM {table_name(stream)} ORDER BY pk")]

    # -- facts: canonical objects as tables ---------------------------------------------------------------------------
    def facts(self, *tables: str) -> duckdb.DuckDBPyConnection:
        """The in-memory database holding (at least) `tables`, loaded from the canonical objects on first use."""
        if self._facts is None:
            self._facts = duckdb.connect(":memory:")
            self._facts.execute("SET TimeZone = 'UTC'")
        for name in tables:
            if name not in self._loaded:
                self._load(name)
        return self._facts

    def count(self, table: str) -> int:
        return int(self.facts(table).execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def _insert(self, table: str, rows: list[tuple[Any, ...]]) -> None:
        assert self._facts is not None
        self._facts.execute(f"CREATE TABLE {table} ({FACT_TABLES[table]})")
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self._facts.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        self._loaded.add(table)

    def _load(self, table: str) -> None:
        loader = {"settlements": self._settlements, "settlement_rows": self._settlements,
                  "orders": self._orders, "order_lines": self._orders, "refund_lines": self._refunds,
                  "returns": self._returns, "products": self._products}[table]
        loader()

    def _settlements(self) -> None:
        heads, rows = [], []
        for s in self.canonical(Settlement):
            _, key = _ref(s)
            market = next((line.marketplace for line in s.lines if line.marketplace), None)
            currency = s.currency or s.total.currency
            heads.append((s.settlement_id, key, market, currency, _ts(s.starts_at), _ts(s.ends_at), _ts(s.deposit_at),
                          s.total.amount, sum((line.amount.amount for line in s.lines), Decimal(0)), len(s.lines),
                          s.report_id, s.origin))
            for line in s.lines:
                rows.append((s.settlement_id, key, line.marketplace or market, currency, line.row,
                             line.transaction_type, line.amount_type or line.amount_column, line.amount_description,
                             line.amount.amount, line.order_id, line.sku, _q(line.quantity), _ts(line.posted_at)))
        self._insert("settlements", heads)
        self._insert("settlement_rows", rows)

    def _orders(self) -> None:
        heads, lines = [], []
        for o in self.canonical(Order):
            stream, key = _ref(o)
            address = o.shipping_address or o.customer.shipping_address
            region = None
            if address is not None and (address.region or address.country):
                region = "/".join(p for p in (address.country, address.region) if p)
            region = region or o.marketplace or o.channel
            heads.append((o.order_id, key, stream, o.channel, o.marketplace, o.status, o.paid, _ts(o.placed_at),
                          o.currency, region, o.tax_collected_by, len(o.lines)))
            for line in o.lines:
                lines.append((o.order_id, key, _ts(o.placed_at), o.currency, region, o.status, line.sku,
                              _q(line.quantity), line.amount.amount, line.discount.amount, line.tax.amount,
                              o.tax_collected_by))
        self._insert("orders", heads)
        self._insert("order_lines", lines)

    def _refunds(self) -> None:
        rows = []
        for r in self.canonical(Refund):
            _, key = _ref(r)
            for line in r.lines:
                rows.append((r.refund_id, key, r.order_id, _ts(r.refunded_at), r.currency, line.sku, _q(line.quantity),
                             line.amount.amount, line.restock))
        self._insert("refund_lines", rows)

    def _returns(self) -> None:
        rows = [(r.return_id, r.order_id, r.sku, _q(r.quantity), _ts(r.returned_at), r.disposition, r.sellable)
                for r in self.canonical(Return)]
        self._insert("returns", rows)

    def _products(self) -> None:
        rows = []
        for p in self.canonical(Product):
            rows.append((p.sku, p.name, p.cost.amount if p.cost else None, p.price.amount if p.price else None))
        for sku, cost in self.options.unit_costs().items():
            rows.append((sku, None, cost, None))
        self._insert("products", rows)

    def close(self) -> None:
        if self._facts is not None:
            self._facts.close()
            self._facts = None
