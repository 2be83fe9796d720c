"""Generate the checked-in `specs/`: protocol and connector JSON Schemas (the config, and a destination's
options as `<name>.options.json`), canonical model schemas, default mappings and example pipelines. A test
regenerates them and fails when the copy is stale."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from . import commerce, protocol
from .plugins import PluginHost

__all__ = ["render_specs", "write_specs"]


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def render_specs() -> dict[str, str]:
    """Relative path → file content, for the built-in plugins only (a third party's live in its own repo)."""
    files: dict[str, str] = {}
    files["schemas/protocol/AirbyteMessage.json"] = _json(protocol.Message.model_json_schema())
    files["schemas/protocol/ConfiguredAirbyteCatalog.json"] = _json(protocol.ConfiguredCatalog.model_json_schema())
    for kind, cls in sorted(commerce.CANONICAL_TYPES.items()):
        files[f"schemas/commerce/{kind}.json"] = _json(cls.model_json_schema())
    plugin_host = PluginHost()
    builtin = {i.name for i in plugin_host.plugins() if i.distribution == "ledgerlink"}
    for info in plugin_host.plugins():
        if info.name not in builtin:
            continue
        roles = plugin_host.connector_roles()
        for name in info.connectors:
            by_role = roles[name]
            schemas = {role: _json(cls.config_schema()) for role, cls in by_role.items()}
            if len(set(schemas.values())) == 1:  # one config for both roles (or one role): one file
                files[f"schemas/connectors/{name}.json"] = next(iter(schemas.values()))
            else:
                for role, text in schemas.items():
                    files[f"schemas/connectors/{name}.{role}.json"] = text
            options = by_role.get("destination") and by_role["destination"].options_schema()
            if options is not None:  # the spec's optionsSpecification: `destination.options` as JSON Schema
                files[f"schemas/connectors/{name}.options.json"] = _json(options)
            for cls in dict.fromkeys(by_role.values()):
                for tpl, (package, resource) in sorted(getattr(cls, "mappings", {}).items()):
                    files[f"mappings/{name}/{tpl}"] = resources.files(package).joinpath(resource).read_text()
    for entry in sorted(resources.files("ledgerlink").joinpath("data").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            files[f"pipelines/{entry.name}"] = entry.read_text()
    return files


def write_specs(out: Path) -> list[Path]:
    written = []
    for rel, content in render_specs().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
        written.append(path)
    return written
