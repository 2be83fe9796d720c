"""QuickBooks Desktop balances (issue 19): the simulator keeps each account's balance from every transaction it
saves (AccountQuery `Balance`, a voided transaction no longer counts); a Web Connector session that posts a
settlement's journal or deposit ends by reading them, and `reconcile`'s clearing_residual reads the clearing
account from there. In per-order mode the receipts, the settlement's journal and its payout deposit leave the
clearing account at zero."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ledgerlink import OutboundRecord, json_dumps, json_loads
from ledgerlink.reconcile import reconcile
from ledgerlink.settlements import ORDER_FLOW_ROLES, classify, default_account_map, default_role_table
from ledgerlink_qb_desktop.balances import BALANCE, read_balance
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.sandbox import CompanyFile
from sandbox_helpers import AwaitingQueue, ReferenceBook, bridge_session
from settlement_helpers import PlanCtx
from test_settlement_end_to_end import _account_type, test_settlement
from test_settlement_reconcile import _Ctx

_SALES_ITEM = "Amazon order"


def _company(accounts: dict[str, str]) -> CompanyFile:
    company = CompanyFile(accounts=accounts)
    company.items[_SALES_ITEM.lower()] = {**company._list_obj(Name=_SALES_ITEM), "Ret": "ItemNonInventoryRet",
                                          "Account": "Amazon Sales"}
    return company


def _receipts(settlement) -> list[OutboundRecord]:
    """The order flow's sales receipts for the settlement's orders, deposited into Undeposited Funds."""
    per_order: dict[str, Decimal] = defaultdict(Decimal)
    for line, role in zip(settlement.lines, classify(settlement, default_role_table()).roles):
        if role in ORDER_FLOW_ROLES and line.order_id:
            per_order[line.order_id] += line.amount.amount
    return [OutboundRecord(key=f"SalesReceipt:{oid}", stream="SalesReceipt", data={"SalesReceiptAdd": {
        "TxnDate": "2025-08-30", "RefNumber": oid[-11:], "Memo": f"ledgerlink SalesReceipt:{oid}",
        "DepositToAccountRef": {"FullName": "Undeposited Funds"},
        "SalesReceiptLineAdd": [{"ItemRef": {"FullName": _SALES_ITEM}, "Amount": f"{amount:.2f}"}]}})
        for oid, amount in per_order.items()]


def _session(company: CompanyFile, records: list[OutboundRecord], references: ReferenceBook) -> AwaitingQueue:
    queue = bridge_session(company, records, rounds=10, references=references)
    assert not queue.failed, queue.failed
    return queue


def test_the_simulator_keeps_balances_from_every_transaction_and_a_void_takes_them_back():
    company = _company({"Amazon Sales": "Income", "Undeposited Funds": "OtherCurrentAsset", "Checking": "Bank",
                        "Sales Tax Payable": "OtherCurrentLiability"})
    ok = '<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">{}' \
         '</QBXMLMsgsRq></QBXML>'
    answer = company.handle(ok.format(
        '<SalesReceiptAddRq><SalesReceiptAdd><TxnDate>2025-08-30</TxnDate><RefNumber>1</RefNumber>'
        '<DepositToAccountRef><FullName>Undeposited Funds</FullName></DepositToAccountRef><SalesReceiptLineAdd>'
        f'<ItemRef><FullName>{_SALES_ITEM}</FullName></ItemRef><Amount>40.00</Amount></SalesReceiptLineAdd>'
        '</SalesReceiptAdd></SalesReceiptAddRq>'
        '<DepositAddRq><DepositAdd><TxnDate>2025-08-31</TxnDate><DepositToAccountRef><FullName>Checking</FullName>'
        '</DepositToAccountRef><DepositLineAdd><AccountRef><FullName>Undeposited Funds</FullName></AccountRef>'
        '<Amount>30.00</Amount></DepositLineAdd></DepositAdd></DepositAddRq>'))
    assert answer.count('statusCode="0"') == 2, answer
    assert company.account_balance("Undeposited Funds") == Decimal("10.00")
    assert company.account_balance("Checking") == Decimal("30.00")
    assert company.account_balance("Amazon Sales") == Decimal("-40.00")  # credited
    listed = company.handle(ok.format("<AccountQueryRq/>"))
    assert "<Balance>40.00</Balance>" in listed  # income shown credit-positive, as QuickBooks lists it
    assert "<Balance>10.00</Balance>" in listed and "<Balance>30.00</Balance>" in listed
    receipt = company.txns["SalesReceipt"][0]["TxnID"]
    company.handle(ok.format(f"<TxnVoidRq><TxnVoidType>SalesReceipt</TxnVoidType><TxnID>{receipt}</TxnID></TxnVoidRq>"))
    assert company.account_balance("Undeposited Funds") == Decimal("-30.00")
    assert company.account_balance("Amazon Sales") == 0


class _QbdCtx(_Ctx):
    """The settlement reconcile context over the real QuickBooks Desktop destination and the bridge's cache."""

    def __init__(self, settlements, references, **kw):
        super().__init__(settlements, destination=QuickBooksDesktopDestination(), dest_config={
            "username": "qb", "password_hash": hash_password("pw-123456", iterations=1000),
            "owner_id": "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D20}", "file_id": "{57F3B9B1-86F1-4FCC-B1EE-566DE1813D21}"},
            **kw)
        self.store.references = lambda name: references


def test_per_order_receipts_journal_and_deposit_leave_desktop_clearing_at_zero_and_reconcile_reads_it():
    s = test_settlement()
    dest = QuickBooksDesktopDestination()
    writes = dest.plan(s, PlanCtx({"settlements": {"mode": "per_order"}}))
    assert [w.stream for w in writes][-1] == "Deposit"
    records = [*_receipts(s), *(OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data)))
                                for w in writes)]
    roles = {acc.name: role for role, acc in reversed(list(default_account_map().accounts.items()))}
    used = {l["AccountRef"]["FullName"] for w in writes if w.stream == "JournalEntry"
            for side in ("JournalDebitLine", "JournalCreditLine") for l in w.data["JournalEntryAdd"][side]}
    accounts = {n: _account_type(roles[n])[1] for n in used} | {
        "Undeposited Funds": "OtherCurrentAsset", "Checking": "Bank", "Amazon Sales": "Income"}
    company, references = _company(accounts), ReferenceBook()
    queue = _session(company, records, references)
    assert set(queue.confirmed) == {r.key for r in records}
    assert company.requests[-1] == "AccountQuery"  # the session ended by reading the balances
    assert read_balance(references, "Undeposited Funds") == 0 == company.account_balance("Undeposited Funds")
    assert read_balance(references, "Checking") == s.total.amount == Decimal("58.99")
    assert read_balance(references, "Amazon Reserve") == Decimal("-5.00")  # 30.00 released, 25.00 held again
    assert {k for k, _ in references if k == BALANCE}

    per_order = {"destination_options": {"settlements": {"mode": "per_order"}}}
    report = reconcile(_QbdCtx([s], references, options=per_order), only=["clearing_residual"])
    assert report.skipped == {} and report.ok, report.findings
    references.put(BALANCE, "undeposited funds", "-12.50")  # a receipt deleted in QuickBooks since
    [finding] = reconcile(_QbdCtx([s], references, options=per_order), only=["clearing_residual"]).findings
    assert (finding.expected, finding.actual) == ("0", "-12.50")


def test_a_session_that_posts_no_journal_does_not_read_balances():
    company = _company({"Amazon Sales": "Income", "Undeposited Funds": "OtherCurrentAsset"})
    _session(company, _receipts(test_settlement()), ReferenceBook())
    assert "AccountQuery" not in company.requests
