"""Per-store document numbers: two stores' order 101 must not share a number in one company."""

from __future__ import annotations

from ledgerlink import posting


def test_a_store_prefix_goes_before_its_document_numbers_and_other_stores_keep_theirs():
    from ledgerlink.commerce import Refund
    from datetime import datetime, timezone

    options = posting.OrderPostingOptions.model_validate({"stores": {"def456": {"class": "Outlet", "number_prefix": "OUT-"},
                                                                      "*": {"class": "Main"}}})
    refund = Refund(source="bigcommerce", refund_id="7", order_id="101", currency="USD",
                    refunded_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert posting.number_for(refund, options, "101") == "101"  # no store: the "*" entry has no prefix
    refund.stamp_store("def456", in_key=True)
    assert posting.number_for(refund, options, "101") == "OUT-101"
    assert posting.dimensions_for(refund, options).class_name == "Outlet"
