"""Everything the designer shows for one served pipeline, gathered once for the page and the API: its posting
options as inputs, the ledger's lists to pick from, the role grid, the item grid with their inline suggestions,
and the mapping templates it can edit.

The ledger's lists come from the remote (see ledger.py): they are read once and kept for a few minutes per
pipeline, so moving between the designer's pages does not call QuickBooks every time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pathlib import Path

from ..suggest.accepted import AcceptedMappings, accepted_path
from .actions import file_version
from .forms import FormField
from .grids import ROLE_CHOICES, AmountRow, RoleRow, SkuRow, amount_rows, role_grid, sku_rows
from .ledger import LIST_KINDS, LedgerLists, read_ledger_lists
from .connection import connection_fields
from .options import name_maps, options_fields, options_schema
from .preview import staged_records, template_names
from .suggestions import inline_suggestions, staged_from_store

__all__ = ["DesignerView", "designer_view", "ledger_lists_for", "forget_lists"]

#: how long the ledger's lists are kept before the remote is read again
LISTS_SECONDS = 300.0
_lists: dict[str, tuple[float, LedgerLists]] = {}
_lists_lock = threading.Lock()


def forget_lists(pipeline: str | None = None) -> None:
    with _lists_lock:
        if pipeline is None:
            _lists.clear()
        else:
            _lists.pop(pipeline, None)


def ledger_lists_for(service: Any, *, refresh: bool = False) -> LedgerLists:
    name = service.pipeline.name
    with _lists_lock:
        kept = _lists.get(name)
    if kept and not refresh and time.monotonic() - kept[0] < LISTS_SECONDS:
        return kept[1]
    pipeline = service.pipeline
    if service.store is not None:  # the workspace's store (connected accounts, tokens a check rotated), as a sync
        from ..store.shared_credentials import share_credentials

        share_credentials(service.store, pipeline.credentials_path)
    lists = read_ledger_lists(service.plugin_host, pipeline.destination.connector, dict(pipeline.destination.config),
                              service.store)
    with _lists_lock:
        _lists[name] = (time.monotonic(), lists)
    return lists


@dataclass
class DesignerView:
    pipeline: str
    source: str
    destination: str
    file: str
    options: list[tuple[FormField, str | None]]
    lists: dict[str, list[str]]
    list_notes: list[str]
    roles: list[RoleRow]
    role_choices: list[tuple[str, str]]
    amount_rows: list[AmountRow]
    sku_rows: list[SkuRow]
    suggestion_notes: list[str]
    templates: list[str]
    records: list[tuple[str, str]] = field(default_factory=list)
    #: the version of the pipeline file shown (a save over a newer one is refused)
    base: str = ""
    #: (option, ledger list) of the name maps the form can add an entry to (payment methods)
    name_maps: list[tuple[str, str]] = field(default_factory=list)
    #: the connection settings forms, by role (source, destination), filled from the file; secrets never shown
    connection: dict[str, list[FormField]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def suggestion(s: Any) -> dict[str, Any]:
            return {"id": s.id, "target": s.target, "confidence": round(s.confidence, 3), "reason": s.reason}

        return {
            "pipeline": self.pipeline, "source": self.source, "destination": self.destination, "file": self.file,
            "options": [{"name": f.name, "kind": f.kind, "value": f.value, "choices": f.choices,
                         "description": f.description, "ledger_list": kind} for f, kind in self.options],
            "lists": self.lists, "list_notes": self.list_notes,
            "roles": [r.__dict__ for r in self.roles],
            "amount_rows": [{"transaction_type": r.transaction_type, "amount_type": r.amount_type,
                             "amount_description": r.amount_description, "count": r.count, "role": r.role,
                             "accepted": r.accepted, "suggestions": [suggestion(s) for s in r.suggestions]}
                            for r in self.amount_rows],
            "sku_rows": [{"sku": r.sku, "title": r.title, "item": r.item, "accepted": r.accepted,
                          "suggestions": [suggestion(s) for s in r.suggestions]} for r in self.sku_rows],
            "suggestion_notes": self.suggestion_notes, "templates": self.templates,
            "records": [{"stream": s, "key": k} for s, k in self.records], "base": self.base,
            "name_maps": [{"option": o, "ledger_list": k} for o, k in self.name_maps],
            "connection": {role: [{"name": f.name, "input": f.input_name, "kind": f.kind, "value": f.value,
                                   "required": f.required, "secret_set": f.has_secret, "choices": f.choices}
                                  for f in fields] for role, fields in self.connection.items()},
        }


def designer_view(workspace: Any, service: Any, *, refresh: bool = False) -> DesignerView:
    pipeline = service.pipeline
    options = dict(pipeline.destination.options)
    dest_cls = service.plugin_host.connector(pipeline.destination.connector, "destination")
    lists = ledger_lists_for(service, refresh=refresh)
    staged = staged_from_store(service.store)
    for kind in LIST_KINDS:  # names staged from a QuickBooks source pipeline count too
        for name in staged.ledger(kind):
            lists.add(kind, name)
    report = inline_suggestions(staged, options, pipeline=pipeline.name, workspace=workspace.root,
                                base_dir=pipeline.base_dir)
    accepted = AcceptedMappings.load(accepted_path(workspace.root))
    text = Path(service.source_file).read_text(encoding="utf-8")
    return DesignerView(
        pipeline=pipeline.name, source=pipeline.source.connector, destination=pipeline.destination.connector,
        file=str(service.source_file), options=options_fields(options_schema(dest_cls), options),
        lists={k: lists.sorted(k) for k in LIST_KINDS}, list_notes=list(lists.notes),
        roles=role_grid(options, pipeline.base_dir), role_choices=ROLE_CHOICES,
        amount_rows=amount_rows(staged, options, pipeline.base_dir, report.suggestions, accepted, pipeline.name),
        sku_rows=sku_rows(staged, options, report.suggestions, accepted, pipeline.name),
        suggestion_notes=list(report.notes), templates=template_names(service),
        records=staged_records(service), base=file_version(text),
        name_maps=name_maps(options), connection=connection_fields(service.plugin_host, text))
