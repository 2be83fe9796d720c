"""The reference path of settlement posting, for the equivalence tests of issue 18's fast paths: lines, fees and
audit refs built by pydantic's `model_construct` (as before), journal sums added one line at a time
(`posting.parts_by_line`), and helpers that plan a settlement either way and describe the result completely."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from ledgerlink import Fee, SettlementLine, SourceRef, json_dumps, json_loads


def reference_line(row, transaction_type, amount_type, amount_description, amount, order_id, sku, posted_at, values,
                   quantity, amount_column, fields_set=None) -> SettlementLine:
    """How the normaliser built a line before issue 18's third pass (keyword order as it was; a fields set of its
    own, whatever the fast path shares)."""
    common = dict(
        row=row, transaction_type=transaction_type, order_id=order_id, sku=sku, posted_at=posted_at,
        marketplace=values.get("marketplace-name"), merchant_order_id=values.get("merchant-order-id"),
        adjustment_id=values.get("adjustment-id"), shipment_id=values.get("shipment-id"),
        fulfillment_id=values.get("fulfillment-id"), order_item_code=values.get("order-item-code"),
        merchant_order_item_id=values.get("merchant-order-item-id"),
        merchant_adjustment_item_id=values.get("merchant-adjustment-item-id"),
        promotion_id=values.get("promotion-id"), quantity=quantity)
    return SettlementLine.model_construct(**common, amount_type=amount_type, amount_description=amount_description,
                                          amount_column=amount_column, amount=amount)


def reference_fee(line: SettlementLine, fields_set=None) -> Fee:
    return Fee.model_construct(fee_type=line.amount_description or line.transaction_type, amount=line.amount,
                               order_id=line.order_id, sku=line.sku, description=line.transaction_type, row=line.row)


def reference_ref(stream: str, key: str, fields_set=None) -> SourceRef:
    return SourceRef.model_construct(stream=stream, key=key)


def reference_parts(settlement, table, final, split, per_order, new_part, month_end):
    from ledgerlink.settlements import posting

    return posting.parts_by_line(posting.classify(settlement, table), final, split, per_order)


@contextlib.contextmanager
def reference_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within: the normaliser, the journal sums and the audit refs take the reference path."""
    from ledgerlink_amazon_sp.settlements import normalise

    from ledgerlink.settlements import posting, refs

    with monkeypatch.context() as m:
        m.setattr(normalise, "_line", reference_line)
        m.setattr(normalise, "_fee", reference_fee)
        m.setattr(posting, "grouped_parts", reference_parts)
        m.setattr(refs, "_ref", reference_ref)
        yield


def staged_record(text: str, origin: str) -> dict[str, Any]:
    """A settlement file as the runtime stages it and reads it back."""
    from ledgerlink_amazon_sp.settlements.parser import parse_settlement
    from ledgerlink_amazon_sp.settlements.streams import settlement_record

    from ledgerlink_amazon_sp.settlements.streams import encoded_settlement

    return json_loads(encoded_settlement(settlement_record(parse_settlement(text, origin))).text)


def describe_settlement(settlement) -> dict[str, Any]:
    """Everything a settlement holds, down to each part's fields set and field order."""
    return {
        "dump": json.loads(settlement.model_dump_json()),
        "lines": [(list(line.__dict__), sorted(line.model_fields_set)) for line in settlement.lines],
        "fees": [(list(fee.__dict__), sorted(fee.model_fields_set)) for fee in settlement.fees],
        "types": sorted({type(v).__name__ for line in settlement.lines for v in line.__dict__.values()}),
    }


def describe_writes(writes) -> list[dict[str, Any]]:
    """Planned writes as the outbox and audit table see them: key, stream, payload, dependencies, natural key,
    the document's sources and each line's report rows (in order), and the refs' fields sets."""
    return [{"key": w.key, "stream": w.stream, "data": json.loads(json_dumps(w.data)), "depends_on": w.depends_on,
             "natural_key": w.natural_key, "source_refs": [(r.stream, r.key) for r in w.source_refs],
             "line_refs": [(i, r.stream, r.key, sorted(r.model_fields_set), type(r).__name__)
                           for i, r in w.line_refs]}
            for w in writes]


def outcome(plan, settlement, ctx) -> Any:
    """What planning gives: the writes described, or the error's type, message, field and hint."""
    try:
        return describe_writes(plan(settlement, ctx))
    except Exception as exc:  # noqa: BLE001 - the hold (or any error) is part of what must be equal
        return {"error": type(exc).__name__, "message": str(exc), "field": getattr(exc, "field", None),
                "hint": getattr(exc, "hint", None)}


def reference_files(reference_dir: Path) -> list[Path]:
    return sorted(reference_dir.glob("amazon-sp-api/settlement-reports/*.txt"))
