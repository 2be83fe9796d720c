"""End to end in QuickBooks Desktop: a settlement and its cost-of-goods journal go through the Web Connector bridge
into the simulated company file (each request valid against Intuit's qbXML schema); COGS equals units × cost per
SKU, the trial balance of what posted balances, the bank line is the report's total, and each COGS line names
its report rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from cogs_helpers import PlanCtx, damaged, post_to_quickbooks_desktop, qbd_account_types, qbd_balances, refunded, \
    settlement, sold

COSTS = {"LL-MUG": Decimal("5.25"), "LL-TEA": Decimal("1.10")}


def test_a_settlement_and_its_cogs_post_into_quickbooks_desktop_and_tie(tmp_path, qbxml_xsd):
    (tmp_path / "costs.csv").write_text("sku,cost,effective_date,quantity\nLL-MUG,5.00,2025-01-01,2\n"
                                        "LL-MUG,5.50,2025-02-01,100\nLL-TEA,1.10,,\n")
    s = settlement([*sold(1, "LL-MUG", 3), *sold(3, "LL-TEA", 4), *refunded(5, "LL-TEA", 1), *damaged(6, "LL-MUG")])
    options = {"cogs": {"enabled": True, "costs": str(tmp_path / "costs.csv"), "method": "fifo"}}
    writes = QuickBooksDesktopDestination().plan(s, PlanCtx(options))
    assert [w.key.rsplit("/", 1)[-1] for w in writes] == ["24288684701", "cogs"]
    company, ids = post_to_quickbooks_desktop(writes, qbd_account_types(writes), str(qbxml_xsd))
    posted = {t["TxnID"]: t for t in company.txns["JournalEntry"]}
    assert set(ids) == {w.key for w in writes} and len(posted) == 2
    cogs = writes[1].data["JournalEntryAdd"]
    stored = posted[ids[writes[1].key]]
    assert stored["RefNumber"] == cogs["RefNumber"] == "C4288684701"
    # FIFO: 3 mugs = 2 × 5.00 + 1 × 5.50; the damaged mug 5.50; 4 teas sold, 1 restocked, at 1.10
    assert Decimal(stored["TotalAmount"]) == Decimal("15.50") + Decimal("5.50") + Decimal("4.40") + Decimal("1.10")
    balances = qbd_balances(writes)
    assert sum(balances.values(), Decimal(0)) == 0  # the trial balance balances
    assert balances["Checking"] == s.total.amount
    assert balances["Cost of Goods Sold"] == Decimal("15.50") + Decimal("3.30")
    assert balances["Inventory Shrinkage"] == Decimal("5.50")
    assert balances["Inventory Asset"] == -(Decimal("15.50") + Decimal("5.50") + Decimal("3.30"))
    rows = defaultdict(set)
    for line in cogs["JournalDebitLine"] + cogs["JournalCreditLine"]:
        rows[line["Memo"].split(" rows ")[1]].add(line["AccountRef"]["FullName"])
    assert set(rows) == {"1", "3", "5", "6"}
    # the audit trail: each line of the COGS journal points at its report rows
    assert sorted({ref.key for _, ref in writes[1].line_refs}) == [f"24288684701/row/{n}" for n in (1, 3, 5, 6)]
