"""Each QuickBooks status code and each Web Connector failure, end to end: nothing lost, nothing twice."""

from __future__ import annotations

import logging

import pytest


def _run(w):
    w["service"].trigger("test")
    return w["settle"]()


def _assert_exactly_once(w):
    receipts = w["company"].txns.get("SalesReceipt", [])
    keys = [r["Memo"].split("\n", 1)[0] for r in receipts]
    assert receipts and len(keys) == len(set(keys))
    store = w["service"].store
    planned = store.db.fetchone("SELECT count(*) FROM outbox WHERE stream = 'SalesReceipt'")[0]
    assert len(receipts) == planned
    assert store.awaiting("qb_desktop").count() == 0
    assert store.dead_letters.count_open() == 0


def test_3100_name_in_use_links_the_existing_customer(qbd_world):
    with qbd_world(orders=4) as w:
        w["company"].add_fault({"code": 3100, "request": "CustomerAdd"})
        _run(w)
        _assert_exactly_once(w)
        assert w["company"].counts()["Customer"] == 1
        created = w["service"].store.db.fetchone("SELECT created FROM results WHERE stream = 'Customer'")[0]
        assert created is False


def test_3140_invalid_reference_recreates_it_and_retries(qbd_world, caplog):
    with qbd_world(orders=4) as w, caplog.at_level(logging.INFO, "ledgerlink.qb_desktop"):
        w["company"].add_fault({"code": 3140, "request": "SalesReceiptAdd"})
        _run(w)
        _assert_exactly_once(w)
        assert any("refers to a missing Customer" in r.message for r in caplog.records)
        assert w["company"].counts()["Customer"] == 1


@pytest.mark.parametrize("code", [3170, 3180])
def test_record_in_use_or_save_failed_is_resent_later(qbd_world, code):
    with qbd_world(orders=3) as w:
        w["company"].add_fault({"code": code, "request": "SalesReceiptAdd", "count": 2})
        _run(w)
        _assert_exactly_once(w)


def test_an_unknown_error_is_a_dead_letter_with_quickbooks_message(qbd_world):
    with qbd_world(orders=3) as w:
        # an account QuickBooks does not have: 3140 on an Account cannot be repaired automatically
        w["company"].accounts.pop("undeposited funds")
        _run(w)
        letters = w["service"].store.dead_letters.list()
        assert letters and all("3140" in d.message and "Undeposited Funds" in d.message for d in letters)
        assert "SalesReceipt" not in w["company"].counts()


@pytest.mark.parametrize("fault", ["lost_response", "hresult", "garbage_response", "connection_error"])
def test_web_connector_failures_lose_nothing_and_send_nothing_twice(qbd_world, fault, caplog):
    with qbd_world(orders=4) as w, caplog.at_level(logging.INFO, "ledgerlink.qb_desktop"):
        # fail the session that carries the receipts: the first two sessions create the customer and items
        w["service"].trigger("test")
        queue = w["service"].store.awaiting("qb_desktop")
        for _ in range(20):
            w["wait_idle"]()
            if queue.list("SalesReceipt"):
                break
            w["simulator"].poll(w["qbwc"])
        assert w["service"].store.awaiting("qb_desktop").list("SalesReceipt")
        w["simulator"].client.add_fault({"client": fault})
        outcome = w["simulator"].poll(w["qbwc"])
        assert outcome["result"] in (fault, "error"), outcome
        w["settle"]()
        _assert_exactly_once(w)
        if fault == "lost_response":
            assert any("looking it up first" in r.message for r in caplog.records)
        if fault in ("hresult", "garbage_response"):
            assert any("checked before being sent again" in r.message for r in caplog.records)
        if fault == "connection_error":
            assert any("connectionError" in r.message and "0x80040408" in r.message for r in caplog.records)
