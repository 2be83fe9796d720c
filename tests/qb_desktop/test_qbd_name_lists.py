"""The designer's pick-lists from QuickBooks Desktop: asked for in the reference cache, read at the next Web
Connector session with the list queries Intuit's qbXML XSD defines (validated here), and kept whole, so the
designer offers the company file's accounts, items, sales tax codes, payment methods and classes."""

from __future__ import annotations

import pytest

from ledgerlink import LEDGER_LISTS, kept_ledger_list, want_ledger_lists
from ledgerlink.designer.ledger import read_ledger_lists
from ledgerlink.plugins import PluginHost
from ledgerlink.store import Store
from ledgerlink_qb_desktop import qbxml
from ledgerlink_qb_desktop.bridge import Company, WebConnectorBridge
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.sandbox import CompanyFile
from sandbox_helpers import AwaitingQueue, ReferenceBook

PASSWORD_HASH = hash_password("s3cret-pw", iterations=1000)


class Refs(ReferenceBook):
    def delete(self, kind: str, name: str) -> bool:
        return self.pop((kind, name), None) is not None


def _bridge(refs):
    company = Company(username="qb", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{F}",
                      awaiting=AwaitingQueue([]), references=refs, company_file=r"C:\books.qbw")
    return WebConnectorBridge([company])


def test_asked_lists_are_read_at_the_next_session_and_kept_whole(qbxml_xsd, assert_valid_qbxml):
    pytest.importorskip("lxml")
    qb = CompanyFile(xsd=str(qbxml_xsd))  # refuses any request the XSD does not allow
    qb.classes["online"] = qb._list_obj(Name="Online")
    refs = Refs()
    bridge = _bridge(refs)
    ticket, answer = bridge.authenticate("qb", "s3cret-pw")
    assert answer == "none"  # nothing asked for, nothing to post: the session ends at once
    want_ledger_lists(refs)
    ticket, answer = bridge.authenticate("qb", "s3cret-pw")
    assert answer == r"C:\books.qbw"
    request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    assert_valid_qbxml(request)
    assert [k for k in qbxml.NAME_LISTS if f"<{k}Rq" in request] == list(qbxml.NAME_LISTS)
    response = qb.handle(request)
    assert_valid_qbxml(response)
    assert bridge.receive_response(ticket, response, "", "") == 100
    kept = {name: kept_ledger_list(value) for (kind, name), value in refs.items() if kind == LEDGER_LISTS}
    assert kept["TaxCode"] == ["Non", "Tax"] and kept["Class"] == ["Online"] and kept["Item"] == []
    assert {"Visa", "Cash", "E-Check"} <= set(kept["PaymentMethod"]) and "Undeposited Funds" in kept["Account"]
    assert bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0) == ""
    assert bridge.authenticate("qb", "s3cret-pw")[1] == "none"  # the wish was granted and forgotten


def test_an_inactive_payment_method_is_left_out():
    qb = CompanyFile()
    qb.payment_methods["e-check"]["IsActive"] = False
    refs = Refs()
    want_ledger_lists(refs)
    bridge = _bridge(refs)
    ticket, _ = bridge.authenticate("qb", "s3cret-pw")
    request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    bridge.receive_response(ticket, qb.handle(request), "", "")
    assert "E-Check" not in kept_ledger_list(refs[(LEDGER_LISTS, "PaymentMethod")])


def test_the_designer_asks_for_the_lists_and_offers_what_was_kept(tmp_path):
    store = Store(tmp_path / "state.duckdb")
    try:
        host = PluginHost()
        first = read_ledger_lists(host, "qb_desktop", {"stock_snapshot": str(tmp_path / "none.json")}, store)
        assert first.sorted("TaxCode") == [] and any("next Web Connector poll" in n for n in first.notes)
        refs = store.references("qb_desktop")
        assert refs.get("ledger-lists:wanted", "*")
        # what the bridge does at the next session
        from ledgerlink import keep_ledger_list

        keep_ledger_list(refs, "TaxCode", ["Tax", "Non"])
        keep_ledger_list(refs, "PaymentMethod", ["Visa", "Cash"])
        keep_ledger_list(refs, "Class", ["Online"])
        lists = read_ledger_lists(host, "qb_desktop", {"stock_snapshot": str(tmp_path / "none.json")}, store)
        assert lists.sorted("TaxCode") == ["Non", "Tax"] and lists.sorted("PaymentMethod") == ["Cash", "Visa"]
        assert lists.sorted("Class") == ["Online"]
        keep_ledger_list(refs, "Class", [])  # the class made inactive in QuickBooks: gone at the next read
        assert read_ledger_lists(host, "qb_desktop", {"stock_snapshot": "x"}, store).sorted("Class") == []
    finally:
        store.close()
