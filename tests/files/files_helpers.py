"""Helpers the `files` tests import (conftest modules share one name across folders, so none is imported)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write", "SHIPMENT_COLUMNS"]

SHIPMENT_COLUMNS = {"order_id": "Order #", "tracking_number": "Tracking", "carrier": "Carrier",
                    "shipped_at": "Ship Date", "sku": "SKU", "quantity": "Qty"}


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path
