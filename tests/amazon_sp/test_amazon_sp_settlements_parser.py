"""Settlement flat files (V2 and V1) → parsed rows → canonical Settlement; every bad input located."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink import RecordError, Settlement
from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement, parse_report_time
from ledgerlink_amazon_sp.settlements.parser import (
    FLAT_FILE_V1, FLAT_FILE_V2, V1_AMOUNT_COLUMNS, SettlementFileError, decode_settlement_bytes, parse_settlement,
)
from ledgerlink_amazon_sp.settlements.streams import settlement_record

FILES = Path(__file__).parent / "settlement_files"


def _real(reference_dir: Path) -> Path:
    return reference_dir / "amazon-sp-api" / "settlement-reports"


def _parse(path: Path):
    return parse_settlement(decode_settlement_bytes(path.read_bytes()), str(path))


def _settlement(path: Path) -> Settlement:
    [settlement] = normalise_settlement(settlement_record(_parse(path)), {})
    return settlement


# ------------------------------------------------------------------------------------------ the two real files


@pytest.mark.parametrize("name, settlement_id, total, rows", [
    ("v1_flatfile_CAD_settlement_24288684721.txt", "24288684721", "1016.08", 189),
    ("v1_flatfile_CAD_settlement_23874396421_negative_total.txt", "23874396421", "-321.69", 3),
])
def test_the_real_amazon_ca_files_parse_with_every_amount_accounted_for(reference_dir, name, settlement_id, total,
                                                                        rows):
    path = _real(reference_dir) / name
    parsed = _parse(path)
    assert parsed.format == FLAT_FILE_V1 and parsed.errors == []
    assert parsed.settlement_id == settlement_id and parsed.currency == "CAD" and len(parsed.rows) == rows
    assert parsed.total == Decimal(total) == parsed.rows_total()
    # independently of the parser: every cell of every amount column, summed with Decimal
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    cells = [line.split("\t") for line in lines[2:] if line.strip()]
    by_hand = sum(Decimal(c[header.index(col)].strip()) for c in cells for col in V1_AMOUNT_COLUMNS
                  if col in header and c[header.index(col)].strip())
    assert by_hand == Decimal(total)

    settlement = _settlement(path)
    assert settlement.total.amount == Decimal(total) and settlement.total.currency == "CAD"
    assert sum(line.amount.amount for line in settlement.lines) == Decimal(total)
    assert settlement.row_count == rows and settlement.summary_row == 2 and settlement.format == FLAT_FILE_V1
    assert all(line.amount.currency == "CAD" for line in settlement.lines)
    # rows keep their line in the file (the big file has a blank line 99 in the middle: skipped, not a row)
    blank = {n for n, line in enumerate(lines, 1) if not line.strip()}
    assert {line.row for line in settlement.lines} <= set(range(3, len(lines) + 1)) - blank


def test_a_v1_row_with_several_amount_columns_becomes_one_line_per_amount(reference_dir):
    settlement = _settlement(_real(reference_dir) / "v1_flatfile_CAD_settlement_24288684721.txt")
    advertising = [line for line in settlement.lines if line.transaction_type == "ServiceFee"
                   and line.amount.amount == Decimal("-150.74")]
    [fee] = advertising
    same_row = [line for line in settlement.lines if line.row == fee.row]
    assert {(x.amount_column, x.amount_type, x.amount_description, x.amount.amount) for x in same_row} == {
        ("item-related-fee-amount", "ItemFees", "Cost of Advertising", Decimal("-150.74")),
        ("other-fee-amount", "OtherFees", "TaxAmount", Decimal("-18.09"))}
    # "Successful charge" has a trailing-space amount; it pairs with "Payable to Amazon"
    charge = {line.transaction_type: line.amount.amount for line in settlement.lines
              if line.transaction_type in ("Successful charge", "Payable to Amazon")}
    assert charge == {"Successful charge": Decimal("62.31"), "Payable to Amazon": Decimal("-62.31")}
    # the quantity row of an item carries over to its amount lines; ids are kept
    principal = next(line for line in settlement.lines if line.order_id == "701-0590237-2315442"
                     and line.amount_description == "Principal")
    assert (principal.quantity, principal.sku, principal.fulfillment_id, principal.order_item_code,
            principal.merchant_order_id, principal.marketplace) == (
        Decimal(1), "SALTT30-ALLT", "AFN", "136104483693001", "701-0590237-2315442", "Amazon.ca")
    assert principal.amount.amount == Decimal("60.00") and principal.row == 4
    assert str(principal.posted_at) == "2025-08-18 02:48:54+00:00"
    # fees are a view of the lines, each with its row
    assert {f.fee_type for f in settlement.fees} >= {"Commission", "FBAPerUnitFulfillmentFee", "Cost of Advertising",
                                                     "RefundCommission", "DigitalServicesFee"}
    assert all(f.row for f in settlement.fees)


def test_the_negative_real_file_keeps_its_fba_shipment_id(reference_dir):
    settlement = _settlement(_real(reference_dir) / "v1_flatfile_CAD_settlement_23874396421_negative_total.txt")
    [inbound] = [line for line in settlement.lines if line.transaction_type == "Inbound Transportation Fee"]
    assert inbound.shipment_id == "FBA18ZN0LT90" and inbound.amount.amount == Decimal("-321.69")
    assert settlement.total.amount < 0


# ------------------------------------------------------------------------------------------ our V2 fixtures


def test_eu_decimal_commas_bom_and_crlf():
    path = FILES / "v2_eu_decimal_comma_EUR_20998877601.txt"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    parsed = _parse(path)
    assert parsed.format == FLAT_FILE_V2 and parsed.decimal_mark == "," and parsed.errors == []
    assert parsed.total == Decimal("23.33") == parsed.rows_total()
    settlement = _settlement(path)
    amounts = {line.amount_description: line.amount.amount for line in settlement.lines}
    assert amounts["Storage Fee"] == Decimal("-1234.56")      # "-1.234,56"
    assert amounts["FBAPerUnitFulfillmentFee"] in (Decimal("-12.30"), Decimal("-7.48"))
    assert Decimal("1299.00") in [line.amount.amount for line in settlement.lines]  # "1.299,00"
    assert str(settlement.starts_at) == "2026-03-01 09:00:00+00:00"   # 01.03.2026 09:00:00 UTC
    assert settlement.lines[0].marketplace == "Amazon.de" and settlement.currency == "EUR"


def test_a_settlement_that_crosses_a_month_end_keeps_each_rows_date():
    settlement = _settlement(FILES / "v2_month_crossing_USD_19837462011.txt")
    months = {line.posted_at.month for line in settlement.lines if line.posted_at}
    assert settlement.starts_at.month == 1 and settlement.ends_at.month == 2 and months == {1, 2}
    assert sum(line.amount.amount for line in settlement.lines) == settlement.total.amount == Decimal("58.04")
    # marketplace-facilitator tax nets to zero against the tax Amazon collected
    tax = sum(line.amount.amount for line in settlement.lines if line.amount_description in ("Tax", "ShippingTax"))
    withheld = sum(line.amount.amount for line in settlement.lines if line.amount_type == "ItemWithheldTax")
    assert tax != 0 and tax + withheld == 0
    promotions = [line for line in settlement.lines if line.amount_type == "Promotion"]
    assert {p.promotion_id for p in promotions} == {"Core Free Shipping", "PLM-20260130"}
    refund = [line for line in settlement.lines if line.transaction_type == "Refund"]
    assert {line.amount_description for line in refund} >= {"Principal", "Commission", "RefundCommission"}
    assert all(line.adjustment_id == "amzn1:crow:Q1x7" for line in refund)
    mfn = next(line for line in settlement.lines if line.fulfillment_id == "MFN")
    assert mfn.merchant_order_id == mfn.order_id and mfn.quantity == Decimal(2)


def test_negative_settlement_with_fba_shipment_ids_and_empty_marketplace():
    settlement = _settlement(FILES / "v2_negative_CAD_23874396999.txt")
    assert settlement.total.amount == Decimal("-399.94")
    inbound = [line for line in settlement.lines if line.transaction_type == "FBAFees"]
    assert {line.order_id for line in inbound} == {"FBA19CD9HGQ8"} and all(x.marketplace is None for x in inbound)
    assert any(f.fee_type == "FBAInboundTransportationFee" for f in settlement.fees)


def test_reserves_reimbursements_trailing_spaces_and_columns_in_another_order():
    path = FILES / "v2_reserves_reimbursements_GBP_17766554433.txt"
    assert path.read_text().split("\t")[0] == "transaction-type"  # columns are read by name, not position
    assert "250.00   \t" in path.read_text()
    settlement = _settlement(path)
    assert settlement.previous_reserve.amount == Decimal("250.00")
    assert settlement.current_reserve.amount == Decimal("-190.00")
    reimbursed = {line.amount_description: line for line in settlement.lines
                  if line.amount_type == "FBA Inventory Reimbursement"}
    assert reimbursed["WAREHOUSE_DAMAGE"].amount.amount == Decimal("17.42")
    assert reimbursed["CustomerReturn"].order_id and reimbursed["CustomerReturn"].marketplace is None
    assert settlement.total.amount == Decimal("100.42") == sum(x.amount.amount for x in settlement.lines)


def test_every_v2_line_keeps_its_row_number():
    path = FILES / "v2_month_crossing_USD_19837462011.txt"
    settlement = _settlement(path)
    text_lines = path.read_text().splitlines()
    for line in settlement.lines:
        cells = text_lines[line.row - 1].split("\t")
        assert Decimal(cells[14]) == line.amount.amount and cells[13] == line.amount_description


# ------------------------------------------------------------------------------------------ bad input


def _refused(path: Path) -> RecordError:
    with pytest.raises(RecordError) as caught:
        normalise_settlement(settlement_record(_parse(path)), {})
    return caught.value


def test_a_truncated_file_names_file_and_line():
    path = FILES / "bad" / "truncated_19837462012.txt"
    error = _refused(path)
    assert str(path) in error.message and "line 20" in error.message and "truncated" in error.message
    assert error.key == "19837462012" and error.stream == "settlements"


def test_a_header_total_that_disagrees_by_one_cent():
    path = FILES / "bad" / "total_disagrees_19837462013.txt"
    error = _refused(path)
    assert "line 2" in error.message and error.field == "total-amount"
    assert "58.05" in error.message and "58.04" in error.message and "by 0.01" in error.message


def test_text_where_an_amount_should_be():
    path = FILES / "bad" / "text_in_amount_19837462014.txt"
    parsed = _parse(path)
    assert len(parsed.rows) == 30  # the row is kept, with its problem
    error = _refused(path)
    assert "line 7" in error.message and "'4.O5' is not an amount" in error.message and error.field == "amount"


def test_a_file_in_the_wrong_format_is_refused_whole():
    with pytest.raises(SettlementFileError) as caught:
        _parse(FILES / "bad" / "wrong_format_all_orders.txt")
    assert caught.value.line == 1 and "not a settlement flat file" in str(caught.value)
    assert "wrong_format_all_orders.txt" in str(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("", "empty"),
    ("<?xml version='1.0'?><AmazonEnvelope/>", "XML"),
    ("settlement-id,settlement-start-date,total-amount,currency,transaction-type,amount\n1,2,3,4,5,6\n",
     "comma-separated"),
    ("settlement-id\ttotal-amount\tcurrency\ttransaction-type\tamount\tprice-amount\n", "mixes"),
    ("settlement-id\ttotal-amount\tcurrency\ttransaction-type\tamount\n", "no summary row"),
    ("settlement-id\ttotal-amount\tcurrency\ttransaction-type\tamount\tamount\n", "twice"),
])
def test_other_wrong_formats(text, expected):
    with pytest.raises(SettlementFileError) as caught:
        parse_settlement(text, "upload.txt")
    assert expected in str(caught.value) and str(caught.value).startswith("upload.txt")


def test_row_level_problems_are_each_located():
    text = ("settlement-id\tsettlement-start-date\tsettlement-end-date\ttotal-amount\tcurrency\ttransaction-type\t"
            "amount-type\tamount-description\tamount\n"
            "9\t2026-01-01 00:00:00 UTC\t2026-01-15 00:00:00 UTC\t10.00\tUSD\t\t\t\t\n"
            "9\t\t\t\t\tOrder\tItemPrice\tPrincipal\t12,5\n"           # a decimal comma in a dot file
            "8\t\t\t\t\tOrder\tItemPrice\tPrincipal\t1.00\n"           # another settlement's row
            "9\t\t\t\t\tOrder\tItemPrice\tPrincipal\t\n"               # no amount
            "9\t\t\t\t\tOrder\tItemPrice\tPrincipal\t1.00\textra\n"    # values beyond the header
            "9\t2026-01-01 00:00:00 UTC\t\t\t\tOrder\tItemPrice\tPrincipal\t1.00\n")  # a second summary
    parsed = parse_settlement(text, "f.txt")
    found = {(e.line, e.column) for e in parsed.errors}
    assert found == {(3, "amount"), (4, "settlement-id"), (5, "amount"), (6, None), (7, "settlement-start-date")}
    assert len(parsed.rows) == 5
    assert "decimal comma" in str(next(e for e in parsed.errors if e.line == 3))


def test_report_dates_in_every_format_amazon_prints():
    assert str(parse_report_time("2025-08-14T22:07:18+00:00")) == "2025-08-14 22:07:18+00:00"
    assert str(parse_report_time("2026-01-25 22:00:00 UTC")) == "2026-01-25 22:00:00+00:00"
    assert str(parse_report_time("01.03.2026 09:00:00 UTC")) == "2026-03-01 09:00:00+00:00"
    assert str(parse_report_time("01/30/26")) == "2026-01-30 00:00:00+00:00"
    assert str(parse_report_time("30/01/2026")) == "2026-01-30 00:00:00+00:00"
    assert str(parse_report_time("2026-01-25 22:00:00 PST")) == "2026-01-25 22:00:00-08:00"
    with pytest.raises(ValueError):
        parse_report_time("yesterday")
