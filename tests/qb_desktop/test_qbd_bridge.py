"""The bridge's rules, driven directly with the simulated company file (no sockets)."""

from __future__ import annotations

import logging

import pytest

from ledgerlink import OutboundRecord
from ledgerlink_qb_desktop.bridge import SENT, Company, WebConnectorBridge
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.sandbox import CompanyFile
from sandbox_helpers import AwaitingQueue, ReferenceBook

PASSWORD_HASH = hash_password("s3cret-pw", iterations=1000)


def _customer(name: str) -> OutboundRecord:
    return OutboundRecord(key=f"Customer:{name}", stream="Customer",
                          data={"CustomerAdd": {"Name": name, "Notes": f"ledgerlink Customer:{name}"}})


def _bridge(records, refs=None, **kw):
    queue = AwaitingQueue(records)
    refs = refs if refs is not None else ReferenceBook()
    company = Company(username="qb", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{F}", awaiting=queue,
                      references=refs, company_file=r"C:\books.qbw", **kw)
    return WebConnectorBridge([company]), queue, refs


def _session(bridge, company_file, qb, *, lose=False):
    ticket, answer = bridge.authenticate("qb", "s3cret-pw")
    assert answer == r"C:\books.qbw"
    request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    response = qb.handle(request)
    if lose:
        return ticket, None
    return ticket, bridge.receive_response(ticket, response, "", "")


def test_lost_response_after_a_restart_is_resolved_by_a_query_not_a_second_add(assert_valid_qbxml):
    qb = CompanyFile()
    bridge, queue, refs = _bridge([_customer("Amazon.com USD")])
    _session(bridge, None, qb, lose=True)  # QuickBooks created it; the answer never came back
    assert qb.counts()["Customer"] == 1 and refs.get(SENT, "Customer:Amazon.com USD")
    # the process restarts: a new bridge over the same state (refs are in the state file)
    bridge2 = WebConnectorBridge([Company(username="qb", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{F}",
                                          awaiting=queue, references=refs, company_file=r"C:\books.qbw")])
    ticket, _ = bridge2.authenticate("qb", "s3cret-pw")
    request = bridge2.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    assert "<CustomerQueryRq" in request and "<CustomerAddRq" not in request
    assert_valid_qbxml(request)
    assert bridge2.receive_response(ticket, qb.handle(request), "", "") == 100
    assert "Customer:Amazon.com USD" in queue.confirmed and qb.counts()["Customer"] == 1
    assert qb.requests.count("CustomerAdd") == 1


def test_3200_stale_edit_sequence_is_requeried_and_the_mod_retried():
    qb = CompanyFile()
    bridge, queue, refs = _bridge([_customer("Shop EUR")])
    _session(bridge, None, qb)
    list_id, version, _ = queue.confirmed["Customer:Shop EUR"]
    queue.records["Customer:Shop EUR/mod"] = OutboundRecord(
        key="Customer:Shop EUR/mod", stream="Customer",
        data={"CustomerMod": {"ListID": list_id, "EditSequence": version, "CompanyName": "Shop Europe"}})
    qb.add_fault({"code": 3200, "request": "CustomerMod"})
    ticket, answer = bridge.authenticate("qb", "s3cret-pw")
    for _ in range(5):
        request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
        if not request:
            break
        bridge.receive_response(ticket, qb.handle(request), "", "")
    assert "Customer:Shop EUR/mod" in queue.confirmed
    assert qb.customers["shop eur"]["CompanyName"] == "Shop Europe"
    assert qb.requests.count("CustomerMod") == 2 and "CustomerQuery" in qb.requests


def test_a_response_for_a_request_we_never_sent_is_ignored_and_logged(caplog):
    bridge, queue, _ = _bridge([_customer("A")])
    ticket, _ = bridge.authenticate("qb", "s3cret-pw")
    bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    forged = ('<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerAddRs requestID="999" statusCode="0" '
              'statusSeverity="Info"><CustomerRet><ListID>1-1</ListID><Name>B</Name></CustomerRet>'
              "</CustomerAddRs></QBXMLMsgsRs></QBXML>")
    with caplog.at_level(logging.WARNING, "ledgerlink.qb_desktop"):
        pct = bridge.receive_response(ticket, forged, "", "")
    assert any("never sent" in r.message for r in caplog.records)
    assert not queue.confirmed and not queue.failed
    assert 0 <= pct <= 100


def test_3140_on_an_account_is_a_dead_letter_naming_it():
    qb = CompanyFile(accounts={"Sales": "Income"})
    record = OutboundRecord(key="Item:SKU-1", stream="Item", data={"ItemServiceAdd": {
        "Name": "SKU-1", "SalesOrPurchase": {"AccountRef": {"FullName": "Nope"}}}})
    bridge, queue, _ = _bridge([record])
    _session(bridge, None, qb)
    error, retry = queue.failed["Item:SKU-1"]
    assert "3140" in str(error) and '"Nope"' in str(error) and not retry


def test_the_version_is_negotiated_down_and_too_old_quickbooks_is_refused():
    bridge, _, _ = _bridge([_customer("A")])
    ticket, _ = bridge.authenticate("qb", "s3cret-pw")
    assert '<?qbxml version="13.0"?>' in bridge.send_request(ticket, "", r"C:\books.qbw", 13, 0)
    bridge2, _, _ = _bridge([_customer("A")])
    ticket, _ = bridge2.authenticate("qb", "s3cret-pw")
    assert bridge2.send_request(ticket, "", r"C:\books.qbw", 8, 0) == ""
    assert "13.0 or newer" in bridge2.last_error(ticket)


def test_several_requests_go_in_one_message_continue_on_error(assert_valid_qbxml):
    bridge, _, _ = _bridge([_customer(f"C{i}") for i in range(7)], requests_per_message=5)
    ticket, _ = bridge.authenticate("qb", "s3cret-pw")
    request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
    assert request.count("<CustomerAddRq") == 5 and 'onError="continueOnError"' in request
    assert_valid_qbxml(request)


@pytest.mark.parametrize("user,password", [("qb", "wrong"), ("nobody", "s3cret-pw"), ("", "")])
def test_a_wrong_user_or_password_answers_nvu_and_never_logs_the_password(user, password, caplog):
    bridge, _, _ = _bridge([_customer("A")])
    with caplog.at_level(logging.DEBUG):
        ticket, answer = bridge.authenticate(user, password)
    assert answer == "nvu"
    assert bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0) == ""
    assert "not valid" in bridge.last_error(ticket)
    assert not password or all(password not in r.getMessage() for r in caplog.records)


def test_nothing_to_do_answers_none_and_tickets_expire():
    now = [0.0]
    queue_bridge, _, _ = _bridge([])
    assert queue_bridge.authenticate("qb", "s3cret-pw")[1] == "none"
    bridge = WebConnectorBridge([Company(username="qb", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{F}",
                                         awaiting=AwaitingQueue([_customer("A")]), references=ReferenceBook(), ticket_ttl_s=60)],
                                clock=lambda: now[0])
    ticket, _ = bridge.authenticate("qb", "s3cret-pw")
    now[0] = 61
    assert bridge.send_request(ticket, "", "", 16, 0) == ""
    assert bridge.receive_response(ticket, "<QBXML/>", "", "") == -1


def test_a_ticket_works_for_its_own_company_file_only(caplog):
    refs = ReferenceBook()
    a = Company(username="a", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{A}",
                awaiting=AwaitingQueue([_customer("A")]), references=refs, company_file=r"C:\a.qbw")
    b = Company(username="b", password_hash=PASSWORD_HASH, owner_id="{0}", file_id="{B}",
                awaiting=AwaitingQueue([_customer("B")]), references=refs, company_file=r"C:\b.qbw")
    bridge = WebConnectorBridge([a, b])
    ticket_a, _ = bridge.authenticate("a", "s3cret-pw")
    with caplog.at_level(logging.ERROR, "ledgerlink.qb_desktop"):
        assert bridge.send_request(ticket_a, "", r"C:\b.qbw", 16, 0) == ""
    assert any("refused" in r.message for r in caplog.records)
    request = bridge.send_request(ticket_a, "", r"C:\a.qbw", 16, 0)
    assert "<Name>A</Name>" in request and "<Name>B</Name>" not in request
