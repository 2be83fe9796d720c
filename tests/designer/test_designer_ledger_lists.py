"""The ledger's own lists, read through the destination's source side (QuickBooks Online's sandbox here), with a
refresh token rotated on the way stored at once, as a sync would."""

from __future__ import annotations

from ledgerlink.designer.ledger import read_ledger_lists
from ledgerlink.plugins import PluginHost
from ledgerlink.store import Store
from sandbox_helpers import sandbox_running


def test_lists_come_from_quickbooks_and_a_rotated_token_is_kept(tmp_path):
    host = PluginHost()
    with sandbox_running("qbo") as (url, sandbox):
        o = sandbox.options
        config = {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
                  "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token,
                  "requests_per_minute": 500000, "batch_size": 30}  # batch_size: a destination-only key
        store = Store(tmp_path / "state.duckdb")
        try:
            lists = read_ledger_lists(host, "qbo", config, store)
            assert {"Checking", "Undeposited Funds", "Sales of Product Income"} <= lists.names["Account"]
            assert lists.sorted("Item") and ("read from qbo: items, accounts, tax_codes, payment_methods, classes, "
                                             "departments") in lists.notes
            # the sandbox company's own lists, as QuickBooks answers them (a US company: the pseudo tax codes)
            assert lists.sorted("TaxCode") == ["NON", "TAX"]
            assert lists.sorted("PaymentMethod") == ["Cash", "Check", "MasterCard", "Visa"]
            assert lists.sorted("Class") == ["Online", "Retail"] and lists.sorted("Department") == ["East", "West"]
            stored = store.credentials.load(f"qbo:{o.realm_id}:refresh_token")
            assert stored and stored != o.refresh_token  # the sandbox rotated it: the new one is kept
            again = read_ledger_lists(host, "qbo", config, store)  # reads with the stored token
            assert again.names["Account"] == lists.names["Account"]
        finally:
            store.close()


def test_an_unreachable_ledger_is_a_note_not_an_error():
    lists = read_ledger_lists(PluginHost(), "qbo", {"base_url": "http://127.0.0.1:9", "realm_id": "1",
                                                    "client_id": "c", "client_secret": "s", "refresh_token": "r",
                                                    "timeout_s": 1}, None, limit=10)
    assert lists.sorted("Account") == [] and lists.notes[0].startswith("could not read the lists from qbo")


def test_a_destination_whose_source_side_reads_no_lists_says_so():
    assert read_ledger_lists(PluginHost(), "amazon_sp", {}, None).notes == ["amazon_sp reads none of the ledger's lists"]
