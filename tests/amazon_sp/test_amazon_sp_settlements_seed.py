"""The sandbox seller's settlement reports: realistic Flat File V2 documents that parse and tie to the cent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from ledgerlink_amazon_sp.sandbox.seed import SellerBook
from ledgerlink_amazon_sp.sandbox.seed_settlements import PERIOD, settlement_documents
from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
from ledgerlink_amazon_sp.settlements.parser import FLAT_FILE_V2, parse_settlement
from ledgerlink_amazon_sp.settlements.streams import settlement_record

ANCHOR = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def documents():
    return settlement_documents(SellerBook(400, 11, ANCHOR))


@pytest.fixture(scope="module")
def settlements(documents):
    out = []
    for doc in documents:
        parsed = parse_settlement(doc.text, f"report {doc.report_id}")
        assert parsed.errors == [] and parsed.format == FLAT_FILE_V2
        assert parsed.total == parsed.rows_total()
        [settlement] = normalise_settlement(settlement_record(parsed), {})
        out.append((doc, settlement))
    return out


def test_fortnightly_per_marketplace_and_currency(documents):
    assert Counter(d.currency for d in documents) == {"USD": 4, "CAD": 4}
    for doc in documents:
        assert doc.ends_at - doc.starts_at == PERIOD and doc.created_at > doc.ends_at
        assert doc.created_at <= ANCHOR
    assert len({d.settlement_id for d in documents}) == len({d.report_id for d in documents}) == 8
    assert [d.created_at for d in documents] == sorted(d.created_at for d in documents)


def test_every_document_ties_to_its_total_exactly(settlements):
    for doc, settlement in settlements:
        assert settlement.settlement_id == doc.settlement_id and settlement.currency == doc.currency
        assert sum(line.amount.amount for line in settlement.lines) == settlement.total.amount
        assert all(line.amount.currency == doc.currency for line in settlement.lines)


def test_the_money_a_real_payout_holds(settlements):
    lines = [line for _, s in settlements for line in s.lines]
    kinds = {(x.transaction_type, x.amount_type, x.amount_description) for x in lines}
    for expected in [("Order", "ItemPrice", "Principal"), ("Order", "ItemPrice", "Tax"),
                     ("Order", "ItemPrice", "Shipping"), ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
                     ("Order", "Promotion", "Principal"), ("Order", "ItemFees", "Commission"),
                     ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"), ("Refund", "ItemPrice", "Principal"),
                     ("Refund", "ItemFees", "RefundCommission"), ("Refund", "ItemFees", "Commission"),
                     ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE"),
                     ("other-transaction", "other-transaction", "Storage Fee"),
                     ("Subscription Fee", "other-transaction", "Subscription Fee"),
                     ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
                     ("FBAFees", "other-transaction", "FBAInboundTransportationFee"),
                     ("other-transaction", "other-transaction", "Payable to Amazon"),
                     ("other-transaction", "other-transaction", "Successful charge")]:
        assert expected in kinds, expected
    assert {x.fulfillment_id for x in lines if x.transaction_type == "Order"} == {"AFN", "MFN"}
    # FBA inbound fees carry an FBA shipment id in order-id and no marketplace
    inbound = [x for x in lines if x.transaction_type == "FBAFees"]
    assert all(x.order_id.startswith("FBA") and x.marketplace is None for x in inbound)
    # marketplace-facilitator tax nets to zero in the US; Canada's tax is the seller's
    for _, s in settlements:
        tax = sum(x.amount.amount for x in s.lines if x.amount_description in ("Tax", "ShippingTax"))
        withheld = sum(x.amount.amount for x in s.lines if x.amount_type == "ItemWithheldTax")
        assert tax + withheld == 0 if s.currency == "USD" else withheld == 0


def test_a_reserve_held_then_released_and_a_negative_settlement(settlements):
    usd = [s for _, s in settlements if s.currency == "USD"]
    assert usd[0].previous_reserve is None and usd[0].current_reserve.amount < 0
    for before, after in zip(usd, usd[1:]):
        assert after.previous_reserve.amount == -before.current_reserve.amount  # what was held is released
    cad = [s for _, s in settlements if s.currency == "CAD"]
    assert cad[0].total.amount < 0
    charged = {x.amount_description: x.amount.amount for x in cad[1].lines
               if x.amount_description in ("Payable to Amazon", "Successful charge")}
    assert charged["Payable to Amazon"] == -charged["Successful charge"] != 0


def test_a_settlement_crosses_a_month_end_and_refunds_return_commission(settlements):
    assert any(s.starts_at.month != s.ends_at.month for _, s in settlements)
    for _, s in settlements:
        for refund in [x for x in s.lines if x.transaction_type == "Refund" and x.amount_description == "Commission"]:
            assert refund.amount.amount > 0 and refund.adjustment_id


def test_documents_are_deterministic_and_built_lazily():
    book = SellerBook(200, 5, ANCHOR)
    first, second = settlement_documents(book), settlement_documents(SellerBook(200, 5, ANCHOR))
    assert "text" not in first[0].__dict__  # listing does not build documents
    assert [d.text for d in first] == [d.text for d in second]
    assert Decimal(first[0].text.splitlines()[1].split("\t")[4]) == sum(
        Decimal(line.split("\t")[14]) for line in first[0].text.splitlines()[2:])
