"""A settlement's fees, built without validating again, equal the validated `Fee`s (issue 18): same values,
same fields set, over the real Amazon.ca files and a generated Flat File V2 settlement."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ledgerlink import Fee

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _settlement(path: Path):
    from ledgerlink_amazon_sp.settlements.normalise import normalise_settlement
    from ledgerlink_amazon_sp.settlements.parser import decode_settlement_bytes, parse_settlement
    from ledgerlink_amazon_sp.settlements.streams import settlement_record

    from ledgerlink import json_dumps, json_loads

    parsed = parse_settlement(decode_settlement_bytes(path.read_bytes()), str(path))
    (settlement,) = normalise_settlement(json_loads(json_dumps(settlement_record(parsed))), {})
    return settlement


def _files(reference_dir: Path, tmp_path: Path) -> list[Path]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from settlement_post import generate
    finally:
        sys.path.remove(str(BENCHMARKS))
    generated = tmp_path / "generated.txt"
    generate(3000, generated)
    return [generated, *sorted(reference_dir.glob("amazon-sp-api/settlement-reports/v1_flatfile_*.txt"))]


def test_fees_equal_validated_fees(reference_dir, tmp_path):
    files = _files(reference_dir, tmp_path)
    assert len(files) >= 3
    for path in files:
        settlement = _settlement(path)
        assert settlement.fees, path
        for fee in settlement.fees:
            validated = Fee(**{name: getattr(fee, name) for name in fee.model_fields_set})
            assert fee == validated and fee.model_fields_set == validated.model_fields_set
            assert list(fee.__dict__.items()) == list(validated.__dict__.items())
