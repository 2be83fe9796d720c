"""A settlement that spans a month end, with a sale Amazon deferred across it (released into the settlement) and
one still deferred, posted into the QuickBooks Online sandbox and the QuickBooks Desktop simulator: each month's
sales are the sales made in it, the deferred-transactions account holds exactly what Amazon still holds, the
bank line is the report's total and the trial balance balances. The month split and the deferrals together."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from decimal import Decimal

import httpx

from ledgerlink import OutboundRecord, RetryPolicy, WriteContext, json_dumps, json_loads
from ledgerlink.settlements import BALANCE_SHEET_ROLES, Role, default_account_map
from ledgerlink_amazon_sp.finances.deferred import deferred_transaction
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from sandbox_helpers import sandbox_running
from deferred_helpers import PlanCtx, transaction

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cogs"))
from cogs_helpers import post_to_quickbooks_desktop, qbd_account_types, qbd_balances, row, settlement  # noqa: E402

OPTIONS = {"deferred": {"enabled": True}, "settlements": {"split_by_month": True}}
INCOME = {Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.REIMBURSEMENTS}


def _order(n: int, order_id: str, principal: str, commission: str, posted: str) -> list:
    return [row(n, "Order", "ItemPrice", "Principal", principal, posted=posted, order_id=order_id),
            row(n + 1, "Order", "ItemFees", "Commission", commission, posted=posted, order_id=order_id)]


def scenario():
    """D sold 26 Aug; B sold 28 Aug, deferred, released 4 Sep into this settlement (its rows posted that day);
    C sold 3 Sep; E sold 30 Aug, still deferred (in no settlement)."""
    s = settlement([*_order(1, "D", "40.00", "-6.00", "2025-08-26"), *_order(3, "C", "30.00", "-4.50", "2025-09-03"),
                    *_order(5, "B", "100.00", "-15.00", "2025-09-04")], sid="24288684777", start="2025-08-25",
                   end="2025-09-08")
    b = deferred_transaction(transaction("TXN-B", posted="2025-08-28", maturity="2025-09-04", status="DEFERRED_RELEASED",
                                         principal="100.00", commission="-15.00", fba="0", tax="0", mft=False,
                                         settlement_id="24288684777"), "finances")
    e = deferred_transaction(transaction("TXN-E", posted="2025-08-30", maturity="2025-09-20", principal="60.00",
                                         commission="-9.00", fba="0", tax="0", mft=False), "finances")
    return s, [b, e]


def _plan(dest):
    s, deferrals = scenario()
    ctx = PlanCtx(OPTIONS)
    return s, [w for obj in (s, *deferrals) for w in dest.plan(obj, ctx)]


def _check_books(balances_by_month: dict[str, dict[str, Decimal]], bank_total: Decimal) -> None:
    total = defaultdict(Decimal)
    for month in balances_by_month.values():
        for name, v in month.items():
            total[name] += v
    assert sum(total.values(), Decimal(0)) == 0  # the trial balance balances
    assert total["Checking"] == bank_total  # the bank still ties to the report
    # each month's sales are the sales made in it: D, B and E in August; C in September
    assert -balances_by_month["2025-08"]["Amazon Sales"] == Decimal("200.00")
    assert -balances_by_month["2025-09"]["Amazon Sales"] == Decimal("30.00")
    assert balances_by_month["2025-08"]["Amazon Seller Fees"] == Decimal("30.00")
    assert balances_by_month["2025-09"]["Amazon Seller Fees"] == Decimal("4.50")
    # what Amazon still holds (E, net of its fee) is the deferred account's balance; B's came and went
    assert total["Amazon Deferred Transactions"] == Decimal("51.00")


def _qbo_type(role: Role) -> str:
    if role == Role.BANK:
        return "Bank"
    if role in (Role.DEFERRED_RECEIVABLE, Role.CARRIED_FORWARD):
        return "Other Current Asset"
    if role in BALANCE_SHEET_ROLES:
        return "Other Current Liability"
    return "Income" if role in INCOME else "Expense"


@contextlib.contextmanager
def _qbo():
    with sandbox_running("qbo", rotate_refresh_tokens=False) as (url, sandbox), \
            httpx.Client(base_url=url, timeout=10) as http:
        o = sandbox.options
        config = {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
                  "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token}
        stored: dict[str, str] = {}
        dest = QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002,
                                                             jitter=False), sleep=lambda s: None)
        dest.open(dest.parse_config(config), WriteContext(save_credential=stored.__setitem__, load_credential=stored.get))

        def get(tail: str) -> dict:
            token = http.post("/oauth2/v1/tokens/bearer", auth=(o.client_id, o.client_secret),
                              data={"grant_type": "refresh_token",
                                    "refresh_token": sandbox.tokens._refresh_tokens[-1]}).json()["access_token"]
            r = http.get(f"/v3/company/{o.realm_id}/{tail}", params={"minorversion": "75"},
                         headers={"Accept": "application/json", "Authorization": f"Bearer {token}"})
            r.raise_for_status()
            return json_loads(r.content)
        yield dest, get


def test_month_split_and_deferrals_give_each_month_its_sales_in_quickbooks_online():
    s, writes = _plan(QuickBooksOnlineDestination())
    assert [w.data["TxnDate"] for w in writes] == ["2025-08-31", "2025-09-08", "2025-08-31", "2025-09-04",
                                                   "2025-08-31"]
    by_name = {acc.name: role for role, acc in reversed(list(default_account_map().accounts.items()))}
    names = sorted({l["JournalEntryLineDetail"]["AccountRef"]["name"] for w in writes for l in w.data["Line"]})
    records = [OutboundRecord(key=f"Account:{n}", stream="Account", data={"Name": n, "AccountType": _qbo_type(by_name[n])})
               for n in names]
    records += [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]
    with _qbo() as (dest, get):
        results = {}
        for stream in dest.write_order:
            batch = [r for r in records if r.stream == stream]
            if batch:
                results.update({r.key: r for r in dest.write_batch(stream, batch)})
        assert all(r.ok for r in results.values()), results
        months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for w in writes:
            doc = get(f"journalentry/{results[w.key].destination_id}")["JournalEntry"]
            for l in doc["Line"]:
                ref = l["JournalEntryLineDetail"]["AccountRef"]
                name = ref.get("name") or get(f"account/{ref['value']}")["Account"]["Name"]
                sign = 1 if l["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1
                months[doc["TxnDate"][:7]][name] += sign * Decimal(str(l["Amount"]))
        _check_books(months, s.total.amount)


def test_month_split_and_deferrals_give_each_month_its_sales_in_quickbooks_desktop(qbxml_xsd):
    s, writes = _plan(QuickBooksDesktopDestination())
    company, ids = post_to_quickbooks_desktop(writes, qbd_account_types(writes), str(qbxml_xsd))
    assert len(company.txns["JournalEntry"]) == len(writes) == len(ids)
    stored = {t["TxnID"]: t for t in company.txns["JournalEntry"]}
    months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for w in writes:
        t = stored[ids[w.key]]
        assert t["TxnDate"] == w.data["JournalEntryAdd"]["TxnDate"]
        for name, v in qbd_balances([w]).items():
            months[t["TxnDate"][:7]][name] += v
    _check_books(months, s.total.amount)
