"""Seeded state for the anomaly checks' tests (a module name unique in the suite): canonical settlements, orders,
refunds, returns and products built by hand, a real pipeline state file (DuckDB) for the outbox, audit, refs
and dead letters, and a context over both at a fixed `now`."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ledgerlink import Money, Settlement, SettlementLine, SourceRef
from ledgerlink.anomalies import AnomalyContext, parse_anomaly_options, run_checks
from ledgerlink.commerce import Address, Customer, Order, OrderLine, Product, Refund, RefundLine, Return
from ledgerlink.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import fakes  # noqa: E402,F401 - the runtime's fake source and destination, for pipelines synced for real

UTC = timezone.utc
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    """`n` days before NOW."""
    return NOW - timedelta(days=n)


def m(amount: Any, currency: str = "USD") -> Money:
    return Money.of(str(amount), currency)


# -- settlements ----------------------------------------------------------------------------------------------------

def sale_rows(row: int, order_id: str, sku: str, price: str, *, referral: str | None = None, fba: str | None = None,
              qty: int = 1, shipping: str | None = None, tax: str | None = None, withheld: str | None = None,
              posted: datetime | None = None, market: str = "Amazon.com") -> list[SettlementLine]:
    """The rows of one order item: price, optional shipping and tax, the withheld facilitator tax, and fees."""
    spec: list[tuple[str, str, str, Decimal | None]] = [("ItemPrice", "Principal", price, Decimal(qty))]
    if shipping:
        spec.append(("ItemPrice", "Shipping", shipping, None))
    if tax:
        spec.append(("ItemPrice", "Tax", tax, None))
    if withheld:
        spec.append(("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", withheld, None))
    if referral:
        spec.append(("ItemFees", "Commission", referral, None))
    if fba:
        spec.append(("ItemFees", "FBAPerUnitFulfillmentFee", fba, None))
    return [SettlementLine(row=row + i, transaction_type="Order", amount_type=at, amount_description=desc,
                           amount=m(amount), order_id=order_id, sku=sku, posted_at=posted, marketplace=market,
                           quantity=q) for i, (at, desc, amount, q) in enumerate(spec)]


def settlement(sid: str, start: datetime, end: datetime, lines: list[SettlementLine], *, total: str | None = None,
               deposit: datetime | None = None, key: str | None = None, currency: str = "USD") -> Settlement:
    amount = Decimal(total) if total is not None else sum((x.amount.amount for x in lines), Decimal(0))
    return Settlement(source="amazon_sp", settlement_id=sid, starts_at=start, ends_at=end,
                      deposit_at=deposit or end + timedelta(days=2), total=m(amount, currency), lines=lines,
                      currency=currency, source_refs=[SourceRef(stream="settlements", key=key or sid)])


def fee_history(sku: str = "MUG", *, n: int = 6, referral_rate: str = "0.15", fba: str = "-3.22",
                last_referral_rate: str | None = None, last_fba: str | None = None) -> list[Settlement]:
    """`n` fortnightly settlements with two sales of `sku` at 20.00 each; the last one may charge other fees."""
    out = []
    for i in range(n):
        start = day(14 * (n - i))
        last = i == n - 1
        rate = Decimal(last_referral_rate if last and last_referral_rate else referral_rate)
        fee = last_fba if last and last_fba else fba
        rows: list[SettlementLine] = []
        for j in range(2):
            rows += sale_rows(10 * j + 1, f"111-{i:03d}-{j}", sku, "20.00", referral=str(-(Decimal(20) * rate)),
                              fba=fee, posted=start + timedelta(days=3 + j))
        out.append(settlement(f"S{i:03d}", start, start + timedelta(days=14), rows))
    return out


# -- orders, refunds, returns, products -----------------------------------------------------------------------------

def order(order_id: str, placed: datetime, lines: Iterable[tuple[str, str, str]] = (("MUG", "1", "20.00"),), *,
          tax: str = "0", status: str = "Shipped", paid: bool = True, region: str | None = "US/TX",
          collected_by: str = "seller", key: str | None = None, currency: str = "USD") -> Order:
    country, _, state = (region or "").partition("/")
    built = []
    for i, (sku, qty, amount) in enumerate(lines):
        z = m(0, currency)
        built.append(OrderLine(line_id=f"{order_id}-{i}", sku=sku, quantity=Decimal(qty),
                               unit_price=m(Decimal(amount) / Decimal(qty), currency), amount=m(amount, currency),
                               discount=z, tax=m(tax if i == 0 else 0, currency), shipping=z, shipping_tax=z,
                               shipping_discount=z, gift_wrap=z, gift_wrap_tax=z))
    address = Address(country=country or None, region=state or None) if region else None
    return Order(source="shop", order_id=order_id, channel="shop", fulfilment="merchant", status=status, paid=paid,
                 placed_at=placed, updated_at=placed, currency=currency, shipping_address=address,
                 customer=Customer(source="shop", customer_id="C1", display_name="Buyer"), lines=built,
                 tax_collected_by=collected_by,  # type: ignore[arg-type]
                 source_refs=[SourceRef(stream="orders", key=key or order_id)])


def refund(refund_id: str, order_id: str, when: datetime, sku: str = "MUG", qty: str = "1", amount: str = "20.00",
           restock: bool = False) -> Refund:
    return Refund(source="shop", refund_id=refund_id, order_id=order_id, refunded_at=when, currency="USD",
                  lines=[RefundLine(sku=sku, quantity=Decimal(qty), amount=m(amount), tax=m(0), restock=restock)],
                  source_refs=[SourceRef(stream="refunds", key=refund_id)])


def returned(return_id: str, order_id: str, when: datetime, sku: str = "MUG", disposition: str = "SELLABLE") -> Return:
    return Return(source="shop", return_id=return_id, order_id=order_id, returned_at=when, sku=sku,
                  quantity=Decimal(1), disposition=disposition, sellable=disposition == "SELLABLE",
                  source_refs=[SourceRef(stream="fba_customer_returns", key=return_id)])


def product(sku: str, cost: str | None, price: str | None = None) -> Product:
    return Product(source="shop", sku=sku, name=sku, cost=None if cost is None else m(cost),
                   price=None if price is None else m(price), source_refs=[SourceRef(stream="products", key=sku)])


# -- the state and the context --------------------------------------------------------------------------------------

class Seeded:
    """A pipeline state file plus canonical objects, and the checks run over them."""

    def __init__(self, path: Path, objects: Iterable[Any] = (), options: dict[str, Any] | None = None,
                 streams: Iterable[str] = (), settlement_options: dict[str, Any] | None = None):
        self.store = Store(path)
        self.objects = list(objects)
        self.options = options
        self.streams = set(streams)
        self.settlement_options = settlement_options or {}

    def canonical(self, kind: type) -> list[Any]:
        return [o for o in self.objects if isinstance(o, kind)]

    def context(self, now: datetime = NOW) -> AnomalyContext:
        return AnomalyContext("seeded", self.store, self.canonical, parse_anomaly_options(self.options), now,
                              self.settlement_options, self.streams)

    def run(self, *checks: str, now: datetime = NOW) -> Any:
        ctx = self.context(now)
        try:
            return run_checks(ctx, checks or None)
        finally:
            ctx.close()

    # state rows the checks read ------------------------------------------------------------------------------------
    def posted(self, outbox_key: str, source_stream: str, source_key: str, status: str = "done") -> None:
        db = self.store.db
        self.outbox(outbox_key, "dest", status, natural_key=source_key)
        db.execute("INSERT INTO audit VALUES (?, NULL, ?, ?)", [outbox_key, source_stream, source_key])

    def outbox(self, key: str, destination: str, status: str, natural_key: str | None = None) -> None:
        self.store.db.execute(
            "INSERT INTO outbox (key, destination, stream, data, payload_hash, depends_on, natural_key, status, "
            "attempts, seq, planned_run, updated_at) VALUES (?, ?, 'Receipt', '{}', 'h', [], ?, ?, 0, "
            "nextval('ll_seq'), NULL, now())", [key, destination, natural_key, status])

    def stage(self, stream: str, records: dict[str, dict[str, Any]]) -> None:
        """Stage raw records (key → record) as a sync would."""
        import json

        keys = list(records)
        self.store.raw.stage(stream, keys, [None] * len(keys), [json.dumps(records[k]) for k in keys],
                             [None] * len(keys), None)

    def dead_letter(self, stream: str | None, key: str | None, message: str, created: datetime,
                    status: str = "open", kind: str = "record", updated: datetime | None = None) -> int:
        db = self.store.db
        letter = db.fetchone("SELECT nextval('ll_dead_letter_id')")[0]
        naive = created.astimezone(UTC).replace(tzinfo=None)
        db.execute("INSERT INTO dead_letters VALUES (?, NULL, 'plan', ?, ?, 'RecordError', ?, ?, NULL, NULL, NULL, ?, "
                   "?, ?)", [letter, stream, key, kind, message, status, naive,
                             (updated or created).astimezone(UTC).replace(tzinfo=None)])
        return int(letter)

    def close(self) -> None:
        self.store.close()


def only(report: Any, check: str) -> list[Any]:
    return [f for f in report.findings if f.check == check]
