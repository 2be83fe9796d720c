"""The two real Amazon.ca settlement files (../shared/reference) tie out exactly, in both posting modes, through
the Amazon plugin's own parser and normaliser."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink import Settlement
from ledgerlink.settlements import Role, SettlementOptions, journals_for

FILES = {
    "v1_flatfile_CAD_settlement_24288684721.txt": ("24288684721", Decimal("1016.08"), 1),
    "v1_flatfile_CAD_settlement_23874396421_negative_total.txt": ("23874396421", Decimal("-321.69"), 2),
}


def _parse(path: Path) -> Settlement:
    try:
        from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
        from ledgerlink_amazon_sp.settlements.parser import decode_settlement_bytes, parse_settlement
        from ledgerlink_amazon_sp.settlements.streams import settlement_record
    except ImportError as exc:  # the parser is built alongside this engine
        pytest.skip(f"the Amazon settlement parser is not importable yet: {exc}")
    parsed = parse_settlement(decode_settlement_bytes(path.read_bytes()), str(path))
    (settlement,) = normalise_settlement(settlement_record(parsed), {})
    return settlement


@pytest.mark.parametrize("mode", ["summary", "per_order"])
@pytest.mark.parametrize("name", sorted(FILES))
def test_a_real_amazon_ca_settlement_ties_out_exactly(reference_dir, name, mode):
    sid, total, parts = FILES[name]
    settlement = _parse(reference_dir / "amazon-sp-api" / "settlement-reports" / name)
    assert settlement.settlement_id == sid and settlement.total.amount == total
    journals = journals_for(settlement, SettlementOptions(mode=mode))
    assert len(journals) == parts
    assert all(j.balanced for j in journals)
    deposit = [l for j in journals for l in j.lines if l.role in (Role.BANK, Role.PAYABLE_TO_AMAZON) and not l.rows]
    assert len(deposit) == 1 and deposit[0].amount == total
    assert journals[-1].lines[-1] is deposit[0]
    # every report amount is on exactly one journal line (or a role that netted to zero)
    assert sorted(r for j in journals for r in j.rows) == sorted(line.row for line in settlement.lines)
    # the lines that sum rows add back to the rows, to the cent
    row_lines = sum((l.amount for j in journals for l in j.lines if l.rows), Decimal(0))
    assert -row_lines == sum((l.amount.amount for l in settlement.lines), Decimal(0)) == total


def test_the_real_positive_file_posts_the_amounts_a_bookkeeper_expects(reference_dir):
    settlement = _parse(reference_dir / "amazon-sp-api" / "settlement-reports" /
                        "v1_flatfile_CAD_settlement_24288684721.txt")
    (j,) = journals_for(settlement, SettlementOptions())
    by_role = {line.role: line.amount for line in j.lines}
    assert by_role[Role.SALES] == Decimal("-2180.00")
    assert by_role[Role.REFUNDS] == Decimal("60.00")
    assert by_role[Role.ADVERTISING] == Decimal("410.23")          # 150.74 + 54.08 + 205.41
    assert by_role[Role.TAX_ON_FEES] == Decimal("49.23")           # 18.09 + 6.49 + 24.65
    assert by_role[Role.PAYABLE_TO_AMAZON] == Decimal("62.31")     # the last negative balance, cleared
    assert by_role[Role.NEGATIVE_BALANCE_CHARGE] == Decimal("-62.31")
    assert by_role[Role.REIMBURSEMENTS] == Decimal("-15.25")
    assert by_role[Role.BANK] == Decimal("1016.08")
