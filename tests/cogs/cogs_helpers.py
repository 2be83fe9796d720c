"""Hand-built settlements with unit movements, and a reference valuation, for the cost-of-goods tests."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ledgerlink import Money, Settlement, SettlementLine, SourceRef


def row(n: int, tt: str, at: str | None, desc: str, amount: str, *, sku: str | None = "SKU-1",
        qty: int | None = 1, posted: str = "2025-08-20", order_id: str | None = "111-1") -> SettlementLine:
    return SettlementLine(row=n, transaction_type=tt, amount_type=at, amount_description=desc,
                          amount=Money.of(amount, "USD"), sku=sku, order_id=order_id,
                          quantity=Decimal(qty) if qty is not None else None,
                          posted_at=datetime.fromisoformat(posted + "T12:00").replace(tzinfo=timezone.utc))


def sold(n: int, sku: str, qty: int, price: str = "20.00", posted: str = "2025-08-20") -> list[SettlementLine]:
    return [row(n, "Order", "ItemPrice", "Principal", price, sku=sku, qty=qty, posted=posted),
            row(n + 1, "Order", "ItemFees", "Commission", "-3.00", sku=sku, qty=qty, posted=posted)]


def refunded(n: int, sku: str, qty: int, price: str = "-20.00", posted: str = "2025-08-22") -> list[SettlementLine]:
    return [row(n, "Refund", "ItemPrice", "Principal", price, sku=sku, qty=qty, posted=posted)]


def damaged(n: int, sku: str, qty: int = 1, posted: str = "2025-08-21") -> list[SettlementLine]:
    return [row(n, "other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE", "8.00", sku=sku, qty=qty,
                posted=posted, order_id=None)]


def settlement(lines: list[SettlementLine], *, sid: str = "24288684701", start: str = "2025-08-14",
               end: str = "2025-08-28") -> Settlement:
    total = sum((l.amount.amount for l in lines), Decimal(0))
    at = lambda d: datetime.fromisoformat(d + "T12:00").replace(tzinfo=timezone.utc)  # noqa: E731
    return Settlement(source="amazon_sp", settlement_id=sid, starts_at=at(start), ends_at=at(end),
                      deposit_at=at(end), total=Money.of(total, "USD"), lines=lines,
                      source_refs=[SourceRef(stream="settlements", key=sid)])


class PlanCtx:
    """What the runtime hands `Destination.plan` (options and a cache; no state file)."""

    def __init__(self, options: dict[str, Any] | None = None):
        self.options = options or {}
        self.cache: dict[Any, Any] = {}


def reference_value(lots: list[tuple[date, Decimal, Decimal]], moves: list[tuple[date, Decimal]],
                    method: str) -> list[Decimal]:
    """The simplest valuation there is, one unit at a time: lots are (received on, units, unit cost), moves
    (on, units: > 0 out, < 0 back); returns the cost of each move, in the moves' date order (ties as given).
    Units back return at the cost the next unit out would take (fifo: at the front of the queue)."""
    pending = sorted(lots, key=lambda l: l[0])
    units: list[Decimal] = []  # fifo: one entry per unit, oldest first
    pool_units, pool_value = Decimal(0), Decimal(0)
    last = pending[0][2]
    out = []
    for on, q in sorted(moves, key=lambda m: m[0]):
        while pending and pending[0][0] <= on:
            d, n, c = pending.pop(0)
            units.extend([c] * int(n))
            pool_units += n
            pool_value += n * c
            last = c
        cost = Decimal(0)
        if q > 0:
            for _ in range(int(q)):
                if method == "fifo":
                    cost += units.pop(0) if units else last
                else:
                    if pool_units > 0:
                        unit = pool_value / pool_units
                        pool_units -= 1
                        pool_value -= unit
                        cost += unit
                    else:
                        cost += last
        else:
            for _ in range(int(-q)):
                if method == "fifo":
                    unit = units[0] if units else last
                    units.insert(0, unit)
                else:
                    unit = pool_value / pool_units if pool_units > 0 else last
                    pool_units += 1
                    pool_value += unit
                cost += unit
        out.append(cost)
    return out


def post_to_quickbooks_desktop(writes: list[Any], accounts: dict[str, str], xsd: str) -> tuple[Any, dict[str, str]]:
    """Send planned JournalEntry writes through the Web Connector bridge to a simulated company file (every
    request validated against Intuit's qbXML schema); returns the company file and key → TxnID."""
    from ledgerlink import OutboundRecord, json_dumps, json_loads
    from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
    from ledgerlink_qb_desktop.sandbox import CompanyFile
    from sandbox_helpers import bridge_session

    records = [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]
    assert all(r.awaiting for r in QuickBooksDesktopDestination().write_batch("JournalEntry", records))
    company_file = CompanyFile(accounts=accounts, xsd=xsd)
    queue = bridge_session(company_file, records)
    assert not queue.failed, queue.failed
    return company_file, {k: v[0] for k, v in queue.confirmed.items()}


def qbd_account_types(writes: list[Any]) -> dict[str, str]:
    """qbXML AccountType for every account the journals name, as a bookkeeper would set them up."""
    from ledgerlink.settlements import BALANCE_SHEET_ROLES, Role, default_account_map

    income = {Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.REIMBURSEMENTS}
    by_name = {acc.name: role for role, acc in reversed(list(default_account_map().accounts.items()))}
    out = {}
    for w in writes:
        body = w.data["JournalEntryAdd"]
        for side in ("JournalDebitLine", "JournalCreditLine"):
            for line in body[side]:
                name = line["AccountRef"]["FullName"]
                role = by_name[name]
                out[name] = ("Bank" if role == Role.BANK else "CostOfGoodsSold" if role in (
                    Role.COST_OF_GOODS, Role.INVENTORY_LOSS) else "OtherCurrentAsset" if role in (
                    Role.INVENTORY_ASSET, Role.DEFERRED_RECEIVABLE) else "OtherCurrentLiability"
                    if role in BALANCE_SHEET_ROLES else "Income" if role in income else "Expense")
    return out


def qbd_balances(writes: list[Any]) -> dict[str, Decimal]:
    """Account → balance (debits positive) of the journals as planned."""
    out: dict[str, Decimal] = {}
    for w in writes:
        body = w.data["JournalEntryAdd"]
        for side, sign in (("JournalDebitLine", 1), ("JournalCreditLine", -1)):
            for line in body[side]:
                name = line["AccountRef"]["FullName"]
                out[name] = out.get(name, Decimal(0)) + sign * Decimal(str(line["Amount"]))
    return out
