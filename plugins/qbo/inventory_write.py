"""Writing planned stock levels to QuickBooks Online: `InventoryAdjustment` takes a difference (`QtyDiff`), so
each Item's `QtyOnHand` is read just before posting and the difference computed then.

Per batch: documents already posted under their key are found first (a response lost after QuickBooks saved
it); then one query reads every Item named in the batch; each planned level is settled against its Item's
quantity by `ledgerlink.inventory` (already there: nothing posted, done; a two-way conflict the rule gives to
QuickBooks: nothing posted, done); the rest post 30 to a `/batch` call as any document. What QuickBooks says
now is recorded in the shared baseline either way. An adjustment written by hand (no `_inventory` section)
posts as it is.
"""

from __future__ import annotations

import copy
import logging
from decimal import Decimal
from typing import Any

from ledgerlink import OutboundRecord, RecordError, RemoteError, WriteResult, inventory

from .client import QboApi

__all__ = ["write_inventory_adjustments", "quantities", "STREAM"]

log = logging.getLogger("ledgerlink.qbo")

STREAM = "InventoryAdjustment"


def _items_by_name(api: QboApi, names: list[str]) -> dict[str, dict[str, Any]]:
    """Items by name (case-insensitive, as QuickBooks compares names), an active one first."""
    by_name: dict[str, dict[str, Any]] = {}
    for row in sorted(api.find_many("Item", "Name", sorted(set(names))), key=lambda r: not r.get("Active", True)):
        by_name.setdefault(str(row.get("Name") or "").casefold(), row)
    return by_name


def _tracked(item: dict[str, Any] | None) -> bool:
    return item is not None and item.get("Type") == "Inventory" and bool(item.get("TrackQtyOnHand", True))


def quantities(api: QboApi, skus: list[str]) -> dict[str, Decimal]:
    """QtyOnHand of each SKU that names an inventory item (for `ledgerlink reconcile`'s inventory_drift)."""
    by_name = _items_by_name(api, skus)
    out: dict[str, Decimal] = {}
    for sku in skus:
        item = by_name.get(sku.casefold())
        if _tracked(item):
            out[sku] = Decimal(str(item.get("QtyOnHand") or 0))  # type: ignore[union-attr]
    return out


def write_inventory_adjustments(destination: Any, records: list[OutboundRecord]) -> list[WriteResult]:
    """The destination's `write_batch` for InventoryAdjustment (see the module docstring)."""
    marked = [r for r in records if isinstance(r.data.get(inventory.MARKER), dict)]
    results: dict[str, WriteResult] = {}
    plain = [r for r in records if not isinstance(r.data.get(inventory.MARKER), dict)]
    if plain:
        results.update((res.key, res) for res in destination._write_documents(STREAM, plain))
    if marked:
        results.update(_write_levels(destination, marked))
    return [results[r.key] for r in records]


def _retry_all(records: list[OutboundRecord], exc: RemoteError) -> dict[str, WriteResult]:
    return {r.key: WriteResult(r.key, error=type(exc)(f"{r.stream} {r.key}: {exc.message}", status=exc.status,
                                                      code=exc.code, remote_message=exc.remote_message,
                                                      operation=exc.operation, hint=exc.hint),
                               retry=exc.kind in ("transient", "throttled")) for r in records}


def _write_levels(destination: Any, records: list[OutboundRecord]) -> dict[str, WriteResult]:
    api: QboApi = destination._api
    out: dict[str, WriteResult] = {}
    try:
        found = destination._find_documents(STREAM, [(r, r.data) for r in records])
        items = _items_by_name(api, [str(r.data[inventory.MARKER]["sku"]) for r in records])
    except RemoteError as exc:  # cannot tell what exists or what QuickBooks holds: try again next sync
        return _retry_all(records, exc)
    pending: list[OutboundRecord] = []
    for record in records:
        marker = record.data[inventory.MARKER]
        sku = str(marker["sku"])
        row = found.get(record.key)
        if row is not None:
            inventory.after_quickbooks_write(marker)
            out[record.key] = WriteResult(record.key, destination_id=str(row["Id"]), version=row.get("SyncToken"),
                                          created=False)
            continue
        item = items.get(sku.casefold())
        if not _tracked(item):
            what = "no item" if item is None else f"a {item.get('Type')} item that does not track quantity"
            if marker.get("unknown_skus") == "skip":
                log.info("%s: QuickBooks has %s named %r: stock level not posted", record.key, what, sku)
                out[record.key] = WriteResult(record.key, created=False)
                continue
            out[record.key] = WriteResult(record.key, error=RecordError(
                f"QuickBooks has {what} named {sku!r}, so its stock cannot be adjusted", stream=STREAM,
                key=record.key, field="Line[0].ItemAdjustmentLineDetail.ItemRef",
                hint=f"create an inventory item named {sku!r} in QuickBooks (Type Inventory, Track quantity on "
                     "hand), then `ledgerlink dlq retry`; or set inventory.unknown_skus: skip"))
            continue
        assert item is not None
        current = Decimal(str(item.get("QtyOnHand") or 0))
        outcome = inventory.after_quickbooks_read(marker, current)
        if outcome != "write":
            log.info("%s: QuickBooks holds %s of %r: %s", record.key, current, sku,
                     "already the channel's quantity" if outcome == "agreed" else
                     "changed there too, and the conflict rule prefers QuickBooks")
            out[record.key] = WriteResult(record.key, destination_id=str(item["Id"]), created=False)
            continue
        target = Decimal(str(marker["target"]))
        data = copy.deepcopy(record.data)
        del data[inventory.MARKER]
        detail = data["Line"][0]["ItemAdjustmentLineDetail"]
        detail["ItemRef"] = {"value": str(item["Id"]), "name": str(item.get("Name") or sku)}
        detail["QtyDiff"] = target - current
        data["PrivateNote"] = f"{data.get('PrivateNote') or ''} (QuickBooks had {current})"[:4000]
        pending.append(OutboundRecord(record.key, STREAM, data, record.attempts, record.sends))
    if pending:
        by_key = {r.key: r for r in records}
        for result in destination._write_documents(STREAM, pending):
            if result.ok:
                inventory.after_quickbooks_write(by_key[result.key].data[inventory.MARKER])
            out[result.key] = result
    return out
