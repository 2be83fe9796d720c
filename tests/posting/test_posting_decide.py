"""Which document an order becomes: rules by channel, fulfilment, status, payment; the catch-all; cancels."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ledgerlink.posting import OrderPostingOptions, decide
from posting_helpers import order


def opts(**kw) -> OrderPostingOptions:
    return OrderPostingOptions.model_validate(kw)


def test_default_paid_is_a_receipt_unpaid_an_invoice_and_a_paid_one_may_have_been_invoiced():
    paid = decide(order(paid=True), opts())
    assert (paid.document, paid.earlier, paid.cancel) == ("sales_receipt", "invoice", False)
    assert paid.rule == "default_document (auto)"
    unpaid = decide(order(status="Awaiting Payment", paid=False), opts())
    assert (unpaid.document, unpaid.earlier) == ("invoice", None)


def test_only_channels_with_unpaid_posting_statuses_may_have_invoiced_a_paid_order():
    amazon = order(channel="amazon", status="Shipped", paid=True)
    assert decide(amazon, opts()).earlier is None
    assert decide(amazon, opts(unpaid_statuses={"amazon": ["Unshipped"]})).earlier == "invoice"
    receipts_only = opts(documents=[{"when": {"channel": "bigcommerce"}, "post_as": "sales_receipt"}])
    assert decide(order(paid=True), receipts_only).earlier is None


def test_only_posting_statuses_post_and_cancelled_statuses_cancel():
    assert decide(order(status="Pending", paid=False), opts()).document is None
    for status in ("Cancelled", "Canceled", "Declined"):
        d = decide(order(status=status, paid=False), opts())
        assert d.document is None and d.cancel is True
    d = decide(order(status="Manual Verification Required"), opts())
    assert d.document is None and not d.cancel and "not a posting status" in d.rule


def test_rules_first_match_wins_then_the_catch_all():
    o = opts(documents=[{"when": {"channel": "amazon", "fulfilment": "channel"}, "post_as": "sales_receipt"},
                        {"when": {"business": True}, "post_as": "invoice"},
                        {"when": {"status": ["Awaiting Pickup"]}, "post_as": "skip"}],
             default_document="sales_receipt")
    fba = order(channel="amazon", status="Shipped", fulfilment="channel", paid=True, is_business_order=True)
    assert decide(fba, o).document == "sales_receipt" and decide(fba, o).rule == "documents[0]"
    assert decide(fba, o).earlier is None  # Amazon orders are paid in every posting status
    b2b = order(channel="amazon", status="Shipped", fulfilment="merchant", paid=True, is_business_order=True)
    assert decide(b2b, o).document == "invoice" and decide(b2b, o).rule == "documents[1]"
    assert decide(order(status="AwaitingPickup"), o).document is None
    assert decide(order(paid=False), o).document == "sales_receipt"  # the catch-all, as configured


def test_rule_conditions_compare_names_loosely_and_paid_store_marketplace():
    o = opts(documents=[{"when": {"channel": "BigCommerce", "paid": False, "store": "eu"}, "post_as": "invoice"},
                        {"when": {"marketplace": "Amazon.co.uk"}, "post_as": "skip"}],
             default_document="sales_receipt")
    assert decide(order(paid=False, store="eu"), o).document == "invoice"
    assert decide(order(paid=False, store="us"), o).document == "sales_receipt"
    assert decide(order(channel="amazon", sales_channel="Amazon.co.uk"), o).document is None


def test_a_typo_in_a_rule_is_refused():
    with pytest.raises(ValidationError):
        opts(documents=[{"when": {"chanel": "amazon"}, "post_as": "invoice"}])
    with pytest.raises(ValidationError):
        opts(documents=[{"post_as": "quote"}])
