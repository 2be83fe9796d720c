"""The ledger's own item costs, read through the ledger's source side, into the costs file.

A QuickBooks company already knows what its items cost (QuickBooks Online `Item.PurchaseCost`; QuickBooks
Desktop `AverageCost`/`PurchaseCost`, from the stock snapshot the Web Connector writes). `ledgerlink cogs costs
PIPELINE` runs the destination's own source connector (the same name, the same config and stored credentials)
on its `items` stream and adds each item's cost to the costs file for SKUs the file does not name yet: the file
stays the one place a bookkeeper reads and edits, and a line they wrote is never overwritten.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .. import protocol
from ..errors import ConfigError
from .costs import CostBook, costs_from_items, parse_costs_text

__all__ = ["ledger_item_costs", "add_to_costs_file"]


def ledger_item_costs(pipeline: Any, store: Any, plugin_host: Any = None) -> CostBook:
    """The item costs of the pipeline's ledger (its destination), read by that connector's source."""
    from ..plugins import host
    from ..runtime.extract import apply_stored_credentials, configured_catalog, credential_name

    plugins = plugin_host or host()
    name = pipeline.destination.connector
    source_class = plugins.connector_roles().get(name, {}).get("source")
    if source_class is None:
        raise ConfigError(f"the destination {name!r} has no source side to read its items from",
                          hint="write the unit costs to the costs file (destination.options.cogs.costs) yourself")
    source = source_class()
    fields = set(source.config_model.model_fields)
    config = {k: v for k, v in dict(pipeline.destination.config).items() if k in fields}
    config = apply_stored_credentials(source, config, store)
    source.parse_config(config, where="destination.config")
    if "items" not in {c.name for c in source.stream_classes()}:
        raise ConfigError(f"the {name} source has no items stream", hint="write the unit costs to the costs file")
    records: list[dict[str, Any]] = []
    for message in source.read(config, configured_catalog(source, ["items"]), None):
        if message.type == protocol.MessageType.RECORD and message.record is not None:
            records.append(message.record.data)
        elif message.type == protocol.MessageType.CONTROL and message.control and message.control.connectorConfig:
            new = message.control.connectorConfig.config  # a rotated refresh token: keep the pipeline's copy
            for key, value in new.items():
                if value != config.get(key) and isinstance(value, str):
                    store.credentials.save(credential_name(source, config, key), value)
            config = {**config, **new}
    return costs_from_items(records)


def add_to_costs_file(path: Path, ledger: CostBook) -> tuple[list[str], int]:
    """Append the ledger's cost of every SKU the file does not name (creating the file with a header when it
    does not exist); returns (the SKUs added, how many SKUs the file already named)."""
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    existing = parse_costs_text(text, str(path)) if text.strip() else CostBook()
    added = sorted(sku for sku in ledger.entries if not existing.knows(sku))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not text.strip():
        writer.writerow(["sku", "cost", "effective_date", "quantity", "currency"])
    for sku in added:
        entry = ledger.entries[sku][-1]
        writer.writerow([sku, format(entry.unit_cost, "f"), "", "", entry.currency or ""])
    joined = text if not text or text.endswith("\n") else text + "\n"
    path.write_text(joined + out.getvalue(), encoding="utf-8")
    return added, len(existing.entries)
