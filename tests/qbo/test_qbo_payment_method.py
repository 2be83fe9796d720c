"""The order's payment method reaches the SalesReceipt as an optional PaymentMethodRef."""

from __future__ import annotations

import logging

import pytest

from ledgerlink import ConfigError, RecordError
from ledgerlink_qbo.plans.orders import parse_options, payment_method_name
from ledgerlink_qbo.references import DROPPED_REF_LEVEL
from qbo_helpers import Live, PlanCtx, as_outbox, fast_destination, make_order, write_all
from test_qbo_destination import open_destination


def post(live: Live, method: str | None, **options: object):
    order = make_order(payment_method=method)
    records = as_outbox(fast_destination().plan(order, PlanCtx(options)))
    receipt = records[-1]
    assert receipt.stream == "SalesReceipt"
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    dest.close()
    result = results[receipt.key]
    assert result.ok, result.error
    doc = live.api("GET", f"salesreceipt/{result.destination_id}").json()["SalesReceipt"]
    return receipt, doc


def seeded_id(live: Live, name: str) -> str:
    rows = live.api("GET", "query", params={"query": f"select * from PaymentMethod where Name = '{name}'"}).json()
    [row] = rows["QueryResponse"]["PaymentMethod"]
    return str(row["Id"])


def test_a_mapped_payment_method_posts_the_mapped_quickbooks_method(live: Live):
    receipt, doc = post(live, "Credit Card", payment_methods={"Credit Card": "Visa"})
    assert receipt.data["PaymentMethodRef"] == {"name": "Visa"}
    assert doc["PaymentMethodRef"]["value"] == seeded_id(live, "Visa")


def test_an_unmapped_payment_method_posts_under_its_own_name_when_quickbooks_has_it(live: Live):
    receipt, doc = post(live, "Cash", payment_methods={"Credit Card": "Visa"})
    assert receipt.data["PaymentMethodRef"] == {"name": "Cash"}
    assert doc["PaymentMethodRef"]["value"] == seeded_id(live, "Cash")


def test_an_unknown_payment_method_is_dropped_with_a_message_and_the_receipt_posts(
        live: Live, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG, logger="ledgerlink.qbo"):
        receipt, doc = post(live, "Bitcoin")
    assert receipt.data["PaymentMethodRef"] == {"name": "Bitcoin"}
    assert "PaymentMethodRef" not in doc
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'Bitcoin'" in w and "payment_methods" in w for w in warnings), warnings  # once, with the fix
    per_document = [r.getMessage() for r in caplog.records if r.levelno == DROPPED_REF_LEVEL]
    assert any(receipt.key in m and "'Bitcoin'" in m for m in per_document), per_document
    assert live.stats()["objects"]["SalesReceipt"] == 1


def test_an_order_without_a_payment_method_has_no_payment_method_ref(live: Live):
    receipt, doc = post(live, None, payment_methods={"Credit Card": "Visa"})
    assert "PaymentMethodRef" not in receipt.data
    assert "PaymentMethodRef" not in doc


def test_other_references_stay_strict(live: Live):
    order = make_order(payment_method="Bitcoin")
    records = as_outbox(fast_destination().plan(order, PlanCtx({"deposit_account": "No Such Account"})))
    dest, _ = open_destination(live)
    results = write_all(dest, records)
    dest.close()
    error = results[records[-1].key].error
    assert isinstance(error, RecordError) and error.field == "DepositToAccountRef"


def test_payment_method_names_are_mapped_passed_through_or_left_out():
    options = parse_options({"payment_methods": {"Credit Card": "Visa", "Other": ""}})
    assert payment_method_name(make_order(payment_method="Credit Card"), options) == "Visa"
    assert payment_method_name(make_order(payment_method="Check"), options) == "Check"
    assert payment_method_name(make_order(payment_method="Other"), options) is None
    assert payment_method_name(make_order(payment_method=None), options) is None
    assert payment_method_name(make_order(payment_method="  "), options) is None
    with pytest.raises(ConfigError):
        parse_options({"payment_methods": ["Visa"]})
