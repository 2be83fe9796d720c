"""Names in payloads resolved against the sandbox: accounts created only when the config allows and describes
them (`create_missing_accounts`, `accounts`), Class and Department look-ups, a deposit line's payee."""

from __future__ import annotations

from typing import Any

import pytest

from ledgerlink import ConfigError, PermanentError, RecordError
from qbo_helpers import Live, fast_destination
from test_qbo_documents import open_destination, rec, receipt, write

CLEARING = {"Amazon Clearing": {"AccountType": "Bank", "AccountSubType": "Checking"}}


def deposit(n: int, account: str = "Amazon Clearing", **line: Any) -> Any:
    return rec("Deposit", f"d{n}", {"DocNumber": f"DEP-{n}", "TxnDate": "2025-04-04",
                                    "DepositToAccountRef": {"name": account},
                                    "Line": [{"Amount": "10.00", "DetailType": "DepositLineDetail",
                                              "DepositLineDetail": {"AccountRef": {"name": "Services"}, **line}}]})


def accounts_named(live: Live, name: str) -> list[dict[str, Any]]:
    return [a for a in live.sandbox.company.entities["Account"].values() if a["Name"].casefold() == name.casefold()]


def test_a_missing_account_is_a_dead_letter_naming_it_and_how_to_fix_it(live: Live):
    results = write(open_destination(live), [deposit(1), receipt(1)])
    error = results[deposit(1).key].error
    assert isinstance(error, RecordError) and error.field == "DepositToAccountRef"
    assert "no Account named 'Amazon Clearing'" in str(error)
    assert "create_missing_accounts: true" in error.hint and "accounts: {'Amazon Clearing'" in error.hint
    assert results[receipt(1).key].ok and accounts_named(live, "Amazon Clearing") == []


def test_create_missing_accounts_creates_a_described_account_once(live: Live):
    dest = open_destination(live, create_missing_accounts=True, accounts=CLEARING)
    results = write(dest, [deposit(1), deposit(2, "amazon clearing")])
    assert all(r.ok for r in results.values()), [str(r.error) for r in results.values()]
    (account,) = accounts_named(live, "Amazon Clearing")
    assert (account["Name"], account["AccountType"], account["AccountSubType"]) == ("Amazon Clearing", "Bank",
                                                                                   "Checking")
    for result in results.values():
        saved = live.sandbox.company.get("Deposit", result.destination_id)
        assert saved["DepositToAccountRef"]["value"] == account["Id"]
    again = open_destination(live, create_missing_accounts=True, accounts=CLEARING)  # next run, fresh cache
    assert write(again, [deposit(3)])[deposit(3).key].ok
    assert len(accounts_named(live, "Amazon Clearing")) == 1


def test_an_account_the_config_does_not_describe_is_not_guessed(live: Live):
    dest = open_destination(live, create_missing_accounts=True, accounts=CLEARING)
    error = write(dest, [deposit(1, "Shopify Clearing")])[deposit(1).key].error
    assert isinstance(error, RecordError) and "does not say what kind of account" in str(error)
    assert "'Shopify Clearing': {AccountType" in error.hint and accounts_named(live, "Shopify Clearing") == []


def test_an_account_quickbooks_refuses_to_create_is_a_dead_letter_with_intuits_words(live: Live):
    dest = open_destination(live, create_missing_accounts=True,
                            accounts={"Amazon Clearing": {"AccountType": "Piggy Bank"}})
    error = write(dest, [deposit(1)])[deposit(1).key].error
    assert isinstance(error, RecordError) and error.field == "DepositToAccountRef"
    assert "[2170]" in str(error) and "Invalid Enumeration" in str(error) and "Piggy Bank" in str(error)


def test_the_accounts_config_is_validated():
    with pytest.raises(ConfigError, match="config.accounts.X.AccountTyp"):
        fast_destination().parse_config({"realm_id": "1", "client_id": "c", "client_secret": "s", "refresh_token": "r",
                                         "accounts": {"X": {"AccountTyp": "Bank"}}})


@pytest.mark.sandbox_options(class_tracking=True, track_departments=True)
def test_class_and_department_look_ups_find_active_ones_and_name_the_missing(live: Live):
    records = [rec("Class", "online", {"Name": "online"}), rec("Department", "west", {"Name": "West"}),
               rec("Department", "north", {"Name": "North"}), rec("Class", "nameless", {})]
    results = write(open_destination(live), records)
    company = live.sandbox.company
    assert results["Class:test/online"].destination_id == company.id_named("Class", "Online")
    assert results["Department:test/west"].destination_id == company.id_named("Department", "West")
    assert not results["Department:test/west"].created
    north = results["Department:test/north"].error
    assert isinstance(north, RecordError) and "no Department named 'North'" in str(north)
    assert "create the location (department) 'North'" in north.hint
    assert results["Class:test/nameless"].error.field == "Name"
    assert company.counts()["Class"] == 2 and company.counts()["Department"] == 2  # looked up, never created


def test_a_deposit_line_names_its_payee_by_name_and_type(live: Live):
    results = write(open_destination(live), [
        deposit(1, "Checking", Entity={"name": "Books by Bessie", "type": "Vendor"}),
        deposit(2, "Checking", Entity={"name": "Nobody Inc", "type": "CUSTOMER"}),
        deposit(3, "Checking", Entity={"name": "Books by Bessie", "type": "Partner"})])
    saved = live.sandbox.company.get("Deposit", results[deposit(1).key].destination_id)
    assert saved["Line"][0]["DepositLineDetail"]["Entity"] == {
        "value": live.sandbox.company.id_named("Vendor", "Books by Bessie"), "name": "Books by Bessie",
        "type": "VENDOR"}
    missing = results[deposit(2).key].error
    assert isinstance(missing, RecordError) and missing.field == "Entity" and "Nobody Inc" in str(missing)
    wrong = results[deposit(3).key].error
    assert isinstance(wrong, RecordError) and wrong.field == "Entity.type"
    assert not isinstance(wrong, PermanentError)
