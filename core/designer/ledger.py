"""The ledger's own lists (accounts, items, tax codes, payment methods, classes, locations) for the designer's
pick-lists, read the way everything else reads a remote: through a connector's public contract.

A destination that is also a source under the same name (QuickBooks Online reads and writes; QuickBooks Desktop
reads its item snapshot) is read through its source side, only the list streams; every name the destination has
already looked up while posting (its reference cache in the state file) is added. A rotated refresh token met on
the way is stored in the pipeline's state at once, exactly as a sync would, so the next sync still connects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import protocol
from ..connectors import Source
from ..errors import LedgerlinkError
from ..ledger_lists import LEDGER_LISTS, kept_ledger_list, want_ledger_lists
from ..plugins import PluginHost
from ..runtime.extract import apply_stored_credentials, configured_catalog, credential_name
from ..secrets import secret_paths

__all__ = ["LedgerLists", "LIST_KINDS", "LIST_STREAMS", "read_ledger_lists"]

#: the lists the designer offers, in the ledger's words (QuickBooks Online calls a location a Department)
LIST_KINDS = ("Account", "Item", "TaxCode", "PaymentMethod", "Class", "Department")
#: a source's stream name → the list it holds
LIST_STREAMS = {"accounts": "Account", "items": "Item", "tax_codes": "TaxCode", "taxcodes": "TaxCode",
                "payment_methods": "PaymentMethod", "paymentmethods": "PaymentMethod", "classes": "Class",
                "departments": "Department", "locations": "Department"}
#: most names kept per list (a pick-list of thousands is a search box, not a list)
MAX_NAMES = 5000


@dataclass
class LedgerLists:
    names: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in LIST_KINDS})
    #: where the names came from, and what could not be read (shown beside the form)
    notes: list[str] = field(default_factory=list)

    def sorted(self, kind: str) -> list[str]:
        return sorted(self.names.get(kind, set()), key=str.casefold)[:MAX_NAMES]

    def add(self, kind: str, name: Any) -> None:
        if kind in self.names and isinstance(name, str) and name.strip():
            self.names[kind].add(name.strip())


def _name(record: dict[str, Any]) -> Any:
    return record.get("FullyQualifiedName") or record.get("FullName") or record.get("Name") or record.get("DisplayName")


def _source_config(source: Source, config: dict[str, Any]) -> dict[str, Any]:
    """The destination's config as its source side takes it (a shared connection; destination-only keys out)."""
    known = set((source.config_schema().get("properties") or {}))
    return {k: v for k, v in config.items() if k in known}


def _read_lists(source: Source, config: dict[str, Any], store: Any, lists: LedgerLists, limit: int) -> bool:
    """Read the lists through the source side; False when it reads none of them."""
    streams = [s.name for s in source.stream_classes() if s.name in LIST_STREAMS]
    if not streams:
        lists.notes.append(f"{source.name} reads none of the ledger's lists")
        return False
    raw = _source_config(source, config)
    live = apply_stored_credentials(source, raw, store) if store is not None else raw
    catalog = configured_catalog(source, streams)
    read = 0
    for message in source.read(live, catalog, None):
        if message.type == protocol.MessageType.RECORD and message.record is not None:
            kind = LIST_STREAMS.get(message.record.stream)
            data = message.record.data or {}
            if kind and data.get("Active", True) is not False and not data.get("ledgerlink_deleted"):
                lists.add(kind, _name(data))
            read += 1
            if read >= limit:
                lists.notes.append(f"read the first {limit} names only")
                break
        elif message.type == protocol.MessageType.CONTROL and store is not None and message.control is not None:
            new = message.control.connectorConfig.config if message.control.connectorConfig else {}
            for path in secret_paths(source.config_schema()):
                if len(path) == 1 and path[0] in new and new[path[0]] != live.get(path[0]):
                    store.credentials.save(credential_name(source, raw, path[0]), new[path[0]])
                    live[path[0]] = new[path[0]]
    lists.notes.append(f"read from {source.name}: {', '.join(streams)}")
    return True


def read_ledger_lists(plugin_host: PluginHost, destination: str, config: dict[str, Any], store: Any = None,
                      *, limit: int = 20_000) -> LedgerLists:
    """The destination ledger's lists: read live through its source side when it has one, plus the names its
    reference cache holds, and the whole lists a destination that cannot be asked on demand keeps there
    (`ledgerlink.keep_ledger_list`: QuickBooks Desktop, read at a Web Connector poll). Such a destination is asked
    for fresh ones each time (`want_ledger_lists`). A remote that cannot be reached is a note, not an error: the
    form still works with names typed by hand."""
    lists = LedgerLists()
    roles = plugin_host.connector_roles().get(destination, {})
    source_cls = roles.get("source")
    live = False
    if source_cls is not None:
        try:
            live = _read_lists(source_cls(), config, store, lists, limit)
        except LedgerlinkError as exc:
            lists.notes.append(f"could not read the lists from {destination}: {exc.message}")
    else:
        lists.notes.append(f"{destination} has no source side to read its lists from")
    if store is not None:
        kept = 0
        try:
            rows = store.db.fetchall("SELECT kind, name, ref_id FROM refs WHERE destination = ?", [destination])
        except Exception:  # an older state file without the table: nothing cached yet
            rows = []
        for kind, name, value in rows:
            if kind == LEDGER_LISTS:
                kept += 1
                for kept_name in kept_ledger_list(value):
                    lists.add(name, kept_name)
            else:
                lists.add(kind, name)
        if kept:
            lists.notes.append(f"{kept} list(s) {destination} kept from its last read")
        if not live:
            try:
                want_ledger_lists(store.references(destination))
                lists.notes.append(f"asked {destination} for its lists at its next chance (QuickBooks Desktop: the "
                                   "next Web Connector poll); read again after it")
            except Exception:  # a read-only state: the lists come as they come
                pass
    return lists
