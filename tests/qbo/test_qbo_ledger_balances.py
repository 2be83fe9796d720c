"""The QBO sandbox keeps account balances as QuickBooks Online does (Account.CurrentBalance, updated by every
posted document, undone by void, update and delete), the trial balance stays balanced, and the destination's
`account_balance` reads them with debits positive for `reconcile`."""

from __future__ import annotations

from decimal import Decimal

from qbo_helpers import Credentials, Live, fast_destination


def balances(live: Live) -> dict[str, Decimal]:
    rows = live.api("GET", "query", params={"query": "select * from Account maxresults 1000"}).json()
    return {a["Name"]: Decimal(str(a["CurrentBalance"])) for a in rows["QueryResponse"]["Account"]}


def trial_balance(live: Live) -> Decimal:
    """Debits minus credits over every account: zero when each document's postings balance."""
    rows = live.api("GET", "query", params={"query": "select * from Account maxresults 1000"}).json()
    return sum((Decimal(str(a["CurrentBalance"])) * (1 if a["Classification"] in ("Asset", "Expense") else -1)
                for a in rows["QueryResponse"]["Account"]), Decimal(0))


def test_documents_move_account_balances_and_void_update_delete_undo_them(live: Live):
    token = live.access_token()
    company = live.sandbox.company
    uf, bank = company.id_named("Account", "Undeposited Funds"), company.id_named("Account", "Checking")
    fees = company.id_named("Account", "Merchant Fees")
    item = company.id_named("Item", "Services")
    sale = live.api("POST", "salesreceipt", token, json={
        "Line": [{"Amount": "20.00", "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 2, "UnitPrice": 10}}],
        "DepositToAccountRef": {"value": uf}}).json()["SalesReceipt"]
    after_sale = balances(live)
    assert after_sale["Undeposited Funds"] == Decimal("20.00") and after_sale["Services"] == Decimal("20.00")
    # a journal moving 15 of it to the bank and 5 to fees (a settlement closing the clearing account)
    journal = live.api("POST", "journalentry", token, json={"Line": [
        {"Amount": "15.00", "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": bank}}},
        {"Amount": "5.00", "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": fees}}},
        {"Amount": "20.00", "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": uf}}}]}).json()["JournalEntry"]
    after_journal = balances(live)
    assert after_journal["Undeposited Funds"] == 0
    assert after_journal["Checking"] - after_sale["Checking"] == Decimal("15.00")
    assert after_journal["Merchant Fees"] - after_sale["Merchant Fees"] == Decimal("5.00")
    assert trial_balance(live) == 0
    # a deposit from clearing to the bank: the bank's one line per payout
    live.api("POST", "deposit", token, json={
        "DepositToAccountRef": {"value": bank},
        "Line": [{"Amount": "7.00", "DetailType": "DepositLineDetail",
                  "DepositLineDetail": {"AccountRef": {"value": uf}}}]}).raise_for_status()
    after_deposit = balances(live)
    assert after_deposit["Undeposited Funds"] == Decimal("-7.00")
    assert after_deposit["Checking"] - after_journal["Checking"] == Decimal("7.00")
    # void the receipt: its effect leaves the ledger
    live.api("POST", "salesreceipt", token, params={"operation": "void"},
             json={"Id": sale["Id"], "SyncToken": sale["SyncToken"]}).raise_for_status()
    assert balances(live)["Undeposited Funds"] == Decimal("-27.00")
    # delete the journal: its effect leaves too
    live.api("POST", "journalentry", token, params={"operation": "delete"},
             json={"Id": journal["Id"], "SyncToken": journal["SyncToken"]}).raise_for_status()
    final = balances(live)
    assert final["Undeposited Funds"] == Decimal("-7.00") and final["Services"] == 0
    assert trial_balance(live) == 0


def test_an_account_update_cannot_set_its_balance(live: Live):
    token = live.access_token()
    account = live.api("POST", "account", token, json={"Name": "Amazon Reserve", "AccountType": "Other Current Asset",
                                                        "CurrentBalance": 500}).json()["Account"]
    assert Decimal(str(account["CurrentBalance"])) == 0
    updated = live.api("POST", "account", token, json={**account, "CurrentBalance": 99}).json()["Account"]
    assert Decimal(str(updated["CurrentBalance"])) == 0


def test_the_destination_reads_balances_debits_positive(live: Live):
    dest = fast_destination()
    dest.open(dest.parse_config(live.config()), Credentials().context())
    token = live.access_token()
    company = live.sandbox.company
    tax = company.id_named("Account", "Sales Tax Payable")
    uf = company.id_named("Account", "Undeposited Funds")
    live.api("POST", "journalentry", token, json={"Line": [
        {"Amount": "3.00", "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": uf}}},
        {"Amount": "3.00", "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": tax}}}]}).raise_for_status()
    assert Decimal(str(balances(live)["Sales Tax Payable"])) == Decimal("3.00")  # QBO: a liability's credit shows +
    try:
        assert dest.account_balance(live.config(), "Undeposited Funds") == Decimal("3.00")
        assert dest.account_balance(live.config(), "Sales Tax Payable") == Decimal("-3.00")
        assert dest.account_balance(live.config(), "No Such Account") is None
    finally:
        dest.close()
