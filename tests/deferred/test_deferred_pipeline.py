"""End to end: the shipped amazon-settlements-to-qbo pipeline reading settlements and finances, with deferred
transactions on, against the Amazon sandbox (settling deferred sales as Amazon does: in the settlement covering
their release) and the QuickBooks Online sandbox. Every deferred sale that crosses a month end is recognised at
that month end, the released ones reversed; the deferred account holds exactly what Amazon still holds; the
trial balance balances and the bank ties; Amazon releasing one more adds its reversal alone, exactly once."""

from __future__ import annotations

import calendar
import contextlib
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest

from ledgerlink import json_loads
from ledgerlink.pipeline import load_pipeline
from ledgerlink.runtime import sync
from ledgerlink.store import Store
from sandbox_helpers import amazon_env, qbo_env, sandbox_running, write_shipped

SHIPPED = "amazon-settlements-to-qbo.yaml"
REALM = "9341455000000000"


def _edit(text: str) -> str:
    text = text.replace("  streams: [settlements]", "  streams: [settlements, finances]", 1)
    text = text.replace("      Payable to Amazon: {AccountType: Other Current Liability",
                        "      Amazon Deferred Transactions: {AccountType: Other Current Asset, "
                        "AccountSubType: OtherCurrentAssets}\n"
                        "      Payable to Amazon: {AccountType: Other Current Liability", 1)
    return text.replace("  options:\n    settlements:\n", "  options:\n    deferred:\n      enabled: true\n"
                                                         "    settlements:\n", 1)


@pytest.fixture
def world(tmp_path):
    @contextlib.contextmanager
    def make(orders: int = 60):
        with sandbox_running("amazon_sp", orders=orders, deferred_settlements=True) as (amazon, _), \
                sandbox_running("qbo") as (qbo, _):
            env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
                   **qbo_env(qbo, batch_per_minute="40000")}
            yield {"amazon": amazon, "qbo": qbo, "state": tmp_path / "state.duckdb",
                   "pipeline": load_pipeline(write_shipped(tmp_path, SHIPPED, _edit), env=env)}
    return make


def _staged(w, stream: str) -> list[dict]:
    store = Store(w["state"])
    try:
        return [json_loads(d) for chunk in store.raw.changed(stream, 0) for _, d, _ in chunk]
    finally:
        store.close()


def _posted(w) -> dict[str, str]:
    store = Store(w["state"])
    try:
        return dict(store.db.fetchall("SELECT o.key, r.destination_id FROM outbox o JOIN results r ON r.key = o.key "
                                      "WHERE o.stream = 'JournalEntry'"))
    finally:
        store.close()


def _get(w, tail: str, **params: str) -> dict:
    store = Store(w["state"])
    try:
        refresh = store.credentials.load(f"qbo:{REALM}:refresh_token") or "sandbox-qbo-refresh-token"
        token = httpx.post(f"{w['qbo']}/oauth2/v1/tokens/bearer", auth=("sandbox-qbo-client",
                                                                       "sandbox-qbo-client-secret"),
                           data={"grant_type": "refresh_token", "refresh_token": refresh}).json()
        store.credentials.save(f"qbo:{REALM}:refresh_token", token["refresh_token"])
    finally:
        store.close()
    r = httpx.get(f"{w['qbo']}/v3/company/{REALM}/{tail}", params={"minorversion": "75", **params},
                  headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"})
    r.raise_for_status()
    return json_loads(r.content)


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _crosses(txn: dict) -> bool:
    posted = _day(txn["postedDate"])
    end = date(posted.year, posted.month, calendar.monthrange(posted.year, posted.month)[1])
    maturity = _day(next(c for c in txn["contexts"] if c["contextType"] == "DeferredContext")["maturityDate"])
    return maturity > end


def _deferred(w) -> list[dict]:
    return [t for t in _staged(w, "finances") if any(c.get("contextType") == "DeferredContext"
                                                     for c in t.get("contexts") or [])]


def _balances(w) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    names: dict[str, str] = {}
    for key, dest in _posted(w).items():
        doc = _get(w, f"journalentry/{dest}")["JournalEntry"]
        for l in doc["Line"]:
            ref = l["JournalEntryLineDetail"]["AccountRef"]
            name = ref.get("name") or names.setdefault(ref["value"], _get(w, f"account/{ref['value']}")["Account"]["Name"])
            sign = 1 if l["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1
            out[name] += sign * Decimal(str(l["Amount"]))
    return out


@pytest.mark.slow
def test_deferred_sales_are_recognised_at_month_end_and_reversed_when_released(world):
    with world() as w:
        first = sync(w["pipeline"])
        assert first.status == "succeeded", first.errors
        assert first.counts["dead_letters_open"] == 0 and first.counts["verify_mismatches"] == 0
        deferred = _deferred(w)
        crossing = [t for t in deferred if _crosses(t)]
        assert crossing and len(crossing) < len(deferred)  # some held past a month end, some released within it
        keys = set(_posted(w))
        for t in deferred:
            base = f"JournalEntry:amazon_sp/deferred_transaction/{t['transactionId']}"
            assert (base in keys) == _crosses(t), t["transactionId"]
            assert (base + "/released" in keys) == (_crosses(t) and t["transactionStatus"] == "DEFERRED_RELEASED")
        # a released sale is in the settlement covering its release, posted that day
        released = [t for t in deferred if t["transactionStatus"] == "DEFERRED_RELEASED"]
        rows = {r["values"].get("order-id"): r["values"] for s in _staged(w, "settlements") for r in s["rows"]
                if r["values"].get("amount-description") == "Principal"}
        for t in released:
            order = next(i["relatedIdentifierValue"] for i in t["relatedIdentifiers"]
                         if i["relatedIdentifierName"] == "ORDER_ID")
            if order in rows:
                maturity = next(c for c in t["contexts"] if c["contextType"] == "DeferredContext")["maturityDate"]
                assert rows[order]["posted-date-time"][:10] == maturity[:10]
        balances = _balances(w)
        assert sum(balances.values(), Decimal(0)) == 0  # the trial balance balances
        held = [t for t in crossing if t["transactionStatus"] == "DEFERRED"]
        assert balances["Amazon Deferred Transactions"] == sum(
            (Decimal(str(t["totalAmount"]["currencyAmount"])) for t in held), Decimal(0))
        settlements = _staged(w, "settlements")
        assert balances["Checking"] == sum((Decimal(s["summary"]["total-amount"]) for s in settlements
                                            if s["summary"]["currency"] == "USD"), Decimal(0))

        # Amazon releases one more: its reversal posts, and nothing else changes
        assert held, "the seed holds a sale past the month end"
        target = held[0]["transactionId"]
        r = httpx.post(f"{w['amazon']}/_sandbox/finances/release", json={"transactionId": target})
        assert r.status_code == 200, r.text
        second = sync(w["pipeline"])
        assert second.status == "succeeded", second.errors
        assert second.counts["created"] == {"JournalEntry": 1} and second.counts["changed_after_posting"] == 0
        assert set(_posted(w)) - keys == {f"JournalEntry:amazon_sp/deferred_transaction/{target}/released"}
        after = _balances(w)
        assert after["Amazon Deferred Transactions"] == balances["Amazon Deferred Transactions"] - Decimal(
            str(held[0]["totalAmount"]["currencyAmount"]))
        third = sync(w["pipeline"])
        assert third.status == "succeeded" and third.counts["created"] == {}


def _edit_books(costs: str):
    def edit(text: str) -> str:
        text = _edit(text).replace(
            "      Payable to Amazon: {AccountType: Other Current Liability",
            "      Inventory Asset: {AccountType: Other Current Asset, AccountSubType: Inventory}\n"
            "      Cost of Goods Sold: {AccountType: Cost of Goods Sold, AccountSubType: SuppliesMaterialsCogs}\n"
            "      Inventory Shrinkage: {AccountType: Cost of Goods Sold, AccountSubType: OtherCostsOfServiceCos}\n"
            "      Payable to Amazon: {AccountType: Other Current Liability", 1)
        return text.replace("    deferred:\n", f"    cogs:\n      enabled: true\n      costs: {costs}\n    deferred:\n", 1)
    return edit


@pytest.mark.slow
def test_a_month_of_books_balances_in_the_quickbooks_online_ledger(tmp_path):
    """Sales, refunds, a damaged unit with its reimbursement, deferred payouts and cost of goods, read back as
    QuickBooks Online keeps its accounts' balances: the trial balance is zero, the bank holds the payouts, the
    inventory asset is down by units × cost, the deferred account holds what Amazon holds."""
    from ledgerlink_amazon_sp.sandbox.seed import SKUS

    costs = {s.sku: (Decimal(s.usd) * Decimal("0.35")).quantize(Decimal("0.01")) for s in SKUS}
    (tmp_path / "costs.csv").write_text("sku,cost\n" + "".join(f"{k},{v}\n" for k, v in costs.items()))
    with sandbox_running("amazon_sp", orders=60, deferred_settlements=True) as (amazon, _), \
            sandbox_running("qbo") as (qbo, _):
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), **amazon_env(amazon),
               **qbo_env(qbo, batch_per_minute="40000")}
        w = {"amazon": amazon, "qbo": qbo, "state": tmp_path / "state.duckdb"}
        pipeline = load_pipeline(write_shipped(tmp_path, SHIPPED, _edit_books(str(tmp_path / "costs.csv"))), env=env)
        report = sync(pipeline)
        assert report.status == "succeeded" and report.counts["dead_letters_open"] == 0, report.errors
        accounts = _get(w, "query", query="select * from Account maxresults 1000")["QueryResponse"]["Account"]
        debit_normal = {"Asset", "Expense"}
        signed = {a["Name"]: Decimal(str(a["CurrentBalance"])) * (1 if a["Classification"] in debit_normal else -1)
                  for a in accounts}
        assert sum(signed.values(), Decimal(0)) == 0  # the trial balance of the company balances
        settlements = _staged(w, "settlements")
        assert signed["Checking"] == sum((Decimal(s["summary"]["total-amount"]) for s in settlements), Decimal(0))
        moved = Decimal(0)
        damaged = 0
        for s in settlements:
            for r in s["rows"]:
                v = r["values"]
                if v.get("amount-type") == "ItemPrice" and v.get("amount-description") == "Principal":
                    sign = {"Order": 1, "Refund": -1}.get(v["transaction-type"], 0)
                    moved += sign * Decimal(v["quantity-purchased"]) * costs[v["sku"]]
                elif v.get("amount-description") == "WAREHOUSE_DAMAGE":
                    damaged += 1
                    moved += Decimal(v["quantity-purchased"]) * costs[v["sku"]]
        assert damaged >= 1 and signed["Inventory Asset"] == -moved  # COGS = units × cost
        assert signed["Cost of Goods Sold"] + signed["Inventory Shrinkage"] == moved
        held = [t for t in _deferred(w) if _crosses(t) and t["transactionStatus"] == "DEFERRED"]
        assert signed["Amazon Deferred Transactions"] == sum(
            (Decimal(str(t["totalAmount"]["currencyAmount"])) for t in held), Decimal(0))
