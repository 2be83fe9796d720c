"""QuickBooks Desktop stock, read through the Web Connector and handed to the `qb_desktop` source by a file.

QuickBooks Desktop cannot be called: when a destination config names a `stock_snapshot` file, each Web
Connector session ends with an `ItemInventoryQuery` and the bridge writes the answers there (temp file +
rename, so a reader never sees half a snapshot). A file, not the served pipeline's state: DuckDB has one
writer, and `ledgerlink serve` holds it. The source reads the file and `normalise_stock` turns each row into an
`InventoryLevel` at `ledgerlink.inventory.QUICKBOOKS_LOCATION`, like the QuickBooks Online items stream.

The file: `{"taken_at": "2026-11-22T21:40:00.123456Z", "file_id": …, "items": [{"ListID", "Name",
"FullName", "QuantityOnHand", "TimeModified", "IsActive"}, …]}`.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ledgerlink import ConfigError, InventoryLevel, Normaliser, RecordError, SourceRef, inventory, json_loads, \
    to_decimal

__all__ = ["snapshot_row", "write_snapshot", "read_snapshot", "taken_at_text", "normalise_stock", "NORMALISERS",
           "SNAPSHOT_AT"]

#: the field every record of the items stream carries: when its snapshot was taken (the stream's cursor)
SNAPSHOT_AT = "snapshot_at"
#: PurchaseCost and AverageCost: the item's cost, for `ledgerlink cogs costs` (cost of goods)
_FIELDS = ("ListID", "Name", "FullName", "QuantityOnHand", "TimeModified", "PurchaseCost", "AverageCost")


def taken_at_text(when: datetime | None = None) -> str:
    """UTC with microseconds, one fixed format: snapshots taken in the same second still compare as text."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snapshot_row(ret: dict[str, Any]) -> dict[str, Any]:
    """The fields of one `ItemInventoryRet` the source needs (QuickBooks' text, unconverted)."""
    row = {f: ret.get(f) for f in _FIELDS if isinstance(ret.get(f), str)}
    row["IsActive"] = str(ret.get("IsActive", "true")).lower() != "false"
    return row


def write_snapshot(path: str | os.PathLike[str], rows: list[dict[str, Any]], *, file_id: str = "",
                   taken_at: str | None = None) -> str:
    """Write a snapshot atomically (temp file in the same folder, then rename); returns its `taken_at`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    taken = taken_at or taken_at_text()
    body = json.dumps({"taken_at": taken, "file_id": file_id, "items": rows}, indent=1)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return taken


def read_snapshot(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The snapshot at `path`; a missing or unreadable file is a clear error, never an empty stock list."""
    target = Path(path)
    if not target.exists():
        raise ConfigError(f"no QuickBooks Desktop stock snapshot at {target}", where="source.config.stock_snapshot",
                          hint="set the same stock_snapshot in the served qb_desktop pipeline's destination config "
                               "and let the Web Connector poll `ledgerlink serve` once")
    try:
        data = json_loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the stock snapshot {target} cannot be read: {exc}", where="source.config.stock_snapshot",
                          hint="let the Web Connector poll again: the next session rewrites it") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list) or not isinstance(data.get("taken_at"),
                                                                                               str):
        raise ConfigError(f"{target} is not a ledgerlink stock snapshot (needs taken_at and items)",
                          where="source.config.stock_snapshot", hint="point stock_snapshot at the file the served "
                                                                     "qb_desktop pipeline writes")
    return data


def normalise_stock(rec: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[InventoryLevel]:
    """One snapshot row → QuickBooks' on-hand count of that item (inactive items: nothing)."""
    key = str(rec.get("ListID") or rec.get("FullName") or rec.get("Name") or "")
    if rec.get("IsActive") is False:
        return []
    name = str(rec.get("Name") or rec.get("FullName") or "").strip()
    if not name:
        raise RecordError("QuickBooks Desktop inventory item has no Name", stream="items", key=key, field="Name",
                          hint="check the item in QuickBooks (Lists → Item List)")
    try:
        quantity = to_decimal(rec.get("QuantityOnHand") if rec.get("QuantityOnHand") not in (None, "") else 0,
                              field="QuantityOnHand")
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise RecordError(f"QuantityOnHand {rec.get('QuantityOnHand')!r} of {name!r} is not a quantity ({exc})",
                          stream="items", key=key, field="QuantityOnHand",
                          hint="check the item's quantity on hand in QuickBooks, then poll and sync again") from None
    try:
        as_of = datetime.fromisoformat(str(rec.get(SNAPSHOT_AT)).replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"snapshot time {rec.get(SNAPSHOT_AT)!r} is not a time", stream="items", key=key,
                          field=SNAPSHOT_AT) from None
    return [InventoryLevel(source="qb_desktop", source_refs=[SourceRef(stream="items", key=key)], sku=name,
                           location=inventory.QUICKBOOKS_LOCATION, on_hand=quantity, as_of=as_of)]


NORMALISERS = [Normaliser(stream="items", function=normalise_stock)]
