"""A held settlement and an unmapped SKU carry their top suggestions in the hint; what is held, and why, does
not change."""

from __future__ import annotations

import pytest

from ledgerlink import RecordError, Settlement, SettlementLine
from ledgerlink.posting.items import item_for
from ledgerlink.posting.options import OrderPostingOptions
from ledgerlink.settlements import default_role_table
from ledgerlink.settlements.hold import SettlementOnHold
from ledgerlink.settlements.posting import classify


def _held(desc: str) -> SettlementOnHold:
    from datetime import datetime, timezone

    from ledgerlink import Money

    day = datetime(2026, 11, 1, tzinfo=timezone.utc)
    lines = [SettlementLine(row=2, transaction_type="other-transaction", amount_type="other-transaction",
                            amount_description=desc, amount=Money(amount="-10.00", currency="EUR"))]
    s = Settlement(source="amazon_sp", settlement_id="1", starts_at=day, ends_at=day,
                   total=Money(amount="-10.00", currency="EUR"), lines=lines)
    with pytest.raises(SettlementOnHold) as err:
        classify(s, default_role_table())
    return err.value


def test_held_settlement_names_the_likely_role():
    held = _held("Lagergebühren")
    assert "no role for" in str(held) and "Lagergebühren" in str(held)
    assert "role file" in held.hint
    assert "Suggested" in held.hint and "storage_fees" in held.hint and "glossary" in held.hint


def test_held_settlement_with_nothing_close_keeps_the_plain_hint():
    held = _held("zzqx")
    assert "role file" in held.hint and "Suggested" not in held.hint


def test_unmapped_sku_names_the_likely_item():
    options = OrderPostingOptions.model_validate({"items": {"match": "sku_map", "unmatched": "dead_letter",
                                                            "sku_map": {"WID-2": "Widget Blue 2-Pack",
                                                                        "MUG": "Red Mug"}}})
    with pytest.raises(RecordError) as err:
        item_for("widget-blue-2pk", options, key="o/1")
    assert "not in items.sku_map" in str(err.value)
    assert "Likely: Widget Blue 2-Pack" in err.value.hint
