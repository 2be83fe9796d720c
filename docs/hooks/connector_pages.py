"""Render one Markdown page per installed connector from what the connector declares about itself.

The page is built from the connector's `spec()` (its connectionSpecification JSON Schema), its destination
options model and option sections, and its sandbox's options, all found through the plugin host: a
third-party plugin that is installed gets a page exactly like a built-in one, and the docs cannot drift
from the code. Only ledgerlink's public API (and its `ledgerlink.plugins` host façade) is used.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

import ledgerlink
from ledgerlink.plugins import PluginHost

__all__ = ["ConnectorDoc", "collect", "render_page", "render_index", "schema_tables"]

#: option sections every ledger shares: the `destination.options` key → the public model that validates it
SHARED_SECTIONS: dict[str, tuple[type[BaseModel], str]] = {
    "settlements": (ledgerlink.settlements.SettlementOptions, "concepts/settlements.md"),
    "returns": (ledgerlink.posting.ReturnsOptions, "concepts/returns.md"),
    "inventory": (ledgerlink.inventory.InventoryOptions, "concepts/inventory.md"),
}


@dataclass
class ConnectorDoc:
    """Everything a connector page shows, gathered once from the plugin host."""

    name: str
    roles: dict[str, type]
    plugin: str = ""
    distribution: str | None = None
    version: str | None = None
    sandbox: type | None = None
    options_model: type[BaseModel] | None = None
    sections: list[str] = field(default_factory=list)


def _summary(obj: Any) -> str:
    """The first sentence of a docstring: what the class is, not how it is built or tested."""
    doc = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ").strip()
    first, dot, _ = doc.partition(". ")
    return first + "." if dot else doc


def _options_model(cls: type) -> type[BaseModel] | None:
    """The model of a destination's `destination.options`.

    A destination declares it as `options_model`; plugins written before that convention export a public
    `PostingOptions` model from one of their (already loaded) modules, which is found the same way."""
    declared = getattr(cls, "options_model", None)
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    package = cls.__module__.partition(".")[0]
    for module_name in sorted(sys.modules):
        if module_name != package and not module_name.startswith(package + "."):
            continue
        candidate = getattr(sys.modules[module_name], "PostingOptions", None)
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _sections(cls: type, model: type[BaseModel] | None) -> list[str]:
    """Shared option sections this destination reads: fields of its options model, or (for a destination
    with no model) the shared engines its module uses, such as `ledgerlink.inventory`."""
    declared = getattr(cls, "option_sections", None)
    if declared:
        return [s for s in declared if s in SHARED_SECTIONS]
    if model is not None:
        return [s for s in SHARED_SECTIONS if s in model.model_fields]
    module = vars(sys.modules.get(cls.__module__, object()))
    engines = {"inventory": ledgerlink.inventory, "settlements": ledgerlink.settlements}
    return [s for s, engine in engines.items() if any(v is engine for v in module.values())]


def collect(host: PluginHost | None = None) -> list[ConnectorDoc]:
    """One `ConnectorDoc` per connector name the installed plugins register, sorted by name."""
    host = host or PluginHost()
    owners: dict[str, Any] = {}
    for info in host.plugins():
        for name in getattr(info, "connectors", []) or []:
            owners[name] = info
    sandboxes = host.sandboxes()
    docs = []
    for name, roles in sorted(host.connector_roles().items()):
        info = owners.get(name)
        dest = roles.get("destination")
        model = _options_model(dest) if dest is not None else None
        docs.append(ConnectorDoc(
            name=name, roles=dict(sorted(roles.items(), key=lambda kv: kv[0] != "source")),
            plugin=getattr(info, "name", "") or "", distribution=getattr(info, "distribution", None),
            version=getattr(info, "version", None), sandbox=sandboxes.get(name), options_model=model,
            sections=_sections(dest, model) if dest is not None else []))
    return docs


# ---------------------------------------------------------------------------------------- JSON Schema → Markdown

def _cell(text: Any) -> str:
    """Table-cell safe: no pipes or line breaks, and `<name>` placeholders shown, not taken for HTML."""
    parts = re.split(r"(`[^`]*`)", str(text).replace("|", "\\|").replace("\n", " "))
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;").replace(">", "&gt;") for p in parts)


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{_anchor(prop['$ref'].rsplit('/', 1)[-1])})"
    if "enum" in prop:
        return " | ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    for combo in ("anyOf", "oneOf", "allOf"):
        if combo in prop:
            parts = [_type_of(p) for p in prop[combo]]
            return " or ".join(dict.fromkeys(p for p in parts if p))
    kind = prop.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {})) or 'any'}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"map of {_type_of(prop['additionalProperties']) or 'any'}"
    if kind == "string" and prop.get("format"):
        return f"string ({prop['format']})"
    return kind or "any"


def _anchor(name: str) -> str:
    return "def-" + name.lower()


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" in prop:
        return f"`{json.dumps(prop['default'], default=str)}`"
    return ""


def _properties_table(schema: dict[str, Any], see: dict[str, str] | None = None) -> list[str]:
    props = schema.get("properties") or {}
    if not props:
        return ["*(no settings)*", ""]
    required = set(schema.get("required") or [])
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, prop in props.items():
        description = prop.get("description", "")
        if prop.get("airbyte_secret"):
            description = f"**secret**: masked in every log line and error. {description}".strip()
        also = f" Its keys: {see[key]}." if see and key in see else ""
        lines.append(f"| `{key}` | {_cell(_type_of(prop))} | {_cell(_default(prop, key in required))} "
                     f"| {_cell(description)}{also} |")
    return lines + [""]


def schema_tables(schema: dict[str, Any], heading: str = "###", prefix: str = "",
                  see: dict[str, str] | None = None) -> str:
    """A JSON Schema object as a table of its keys, then one table per nested definition it uses; `prefix`
    keeps the definitions' anchors apart when one page shows several schemas."""
    out = []
    if schema.get("description"):
        out += [schema["description"], ""]
    out += _properties_table(schema, see)
    for name, sub in (schema.get("$defs") or {}).items():
        out += [f'{heading} {name} {{ #{_anchor(name)} }}', ""]
        if sub.get("description"):
            out += [sub["description"].replace("\n", " "), ""]
        if sub.get("properties"):
            out += _properties_table(sub)
        else:
            out += [f"One of: {_type_of(sub)}", ""]
    return "\n".join(out).replace("](#def-", f"](#{prefix}def-").replace("{ #def-", f"{{ #{prefix}def-")


# ----------------------------------------------------------------------------------------------- the pages

def _config_schema(cls: type) -> dict[str, Any]:
    """The connectionSpecification exactly as `ledgerlink spec` prints it."""
    try:
        spec = cls().spec()
    except TypeError:  # a connector whose constructor needs arguments: its class-level schema is the same
        return dict(cls.config_schema())
    return dict(spec.connectionSpecification)


def render_page(doc: ConnectorDoc) -> str:
    """The Markdown page of one connector."""
    roles = " and ".join(doc.roles)
    provider = f"`{doc.plugin}`" + (f" ({doc.distribution} {doc.version})" if doc.distribution else "")
    out = [f"# {doc.name}", "",
           f"!!! note \"Generated\"",
           f"    This page is generated at build time from the connector's `spec()`, its options models and its",
           f"    sandbox, as installed. Provided by the plugin {provider}.", "",
           f"`{doc.name}` is a **{roles}**.", ""]
    for role, cls in doc.roles.items():
        summary = _summary(cls)
        if summary:
            out += [f"- *{role}*: {summary}"]
    out += [""]

    schemas = {role: _config_schema(cls) for role, cls in doc.roles.items()}
    shared = len({json.dumps(s, sort_keys=True) for s in schemas.values()}) == 1
    flag = lambda role: f" --role {role}" if len(doc.roles) > 1 else ""  # noqa: E731
    if shared:
        role = next(iter(schemas))
        out += ["## Config", "",
                f"The `config:` of a pipeline's `source:` or `destination:` (or `--config FILE` of "
                f"`ledgerlink check|read|write {doc.name}`). `ledgerlink spec {doc.name}{flag(role)}` prints it "
                f"as JSON Schema.", "", schema_tables(schemas[role], "###", "config-")]
    else:
        for role, schema in schemas.items():
            out += [f"## Config as a {role}", "",
                    f"`ledgerlink spec {doc.name} --role {role}` prints it as JSON Schema.", "",
                    schema_tables(schema, "###", f"{role}-")]

    if "source" in doc.roles:
        out += _streams_section(doc.roles["source"], doc.name)

    if "destination" in doc.roles:
        out += ["## Destination options", ""]
        if doc.options_model is not None:
            out += ["Posting rules go in the pipeline's `destination.options` (a typo is refused, naming the key).",
                    "", schema_tables(doc.options_model.model_json_schema(), "###", "options-",
                                    {s: f"[`options.{s}`](#options-{s})" for s in doc.sections})]
        elif not doc.sections:
            out += ["This destination takes no `destination.options`.", ""]
        for section in doc.sections:
            model, page = SHARED_SECTIONS[section]
            out += [f"### `options.{section}` {{ #options-{section} }}", "",
                    f"Validated by the shared `{model.__name__}`, so it means the same in every connector "
                    f"that reads it; see [{section.capitalize()}](../{page}). Its keys:", "",
                    _section_table(model), ""]

    if doc.sandbox is not None:
        sb = doc.sandbox
        out += ["## Sandbox", "",
                f"`ledgerlink sandbox {doc.name}` serves a local emulator at `{sb.default_url()}`"
                + (f": {sb.description.rstrip('.')}." if getattr(sb, "description", "") else "."),
                "", "Its options are passed as `--set key=value`:", "",
                _section_table(sb.options_model), ""]
    return "\n".join(out).rstrip() + "\n"


def _streams_section(cls: type, name: str) -> list[str]:
    """The source's streams as `ledgerlink discover` lists them (none when they depend on the config)."""
    try:
        streams = cls().stream_classes()
    except (NotImplementedError, TypeError):
        return ["## Streams", "", f"This source's streams depend on its config: `ledgerlink discover {name} "
                f"--config FILE` lists them.", ""]
    lines = ["## Streams", "", f"What `ledgerlink discover {name}` lists; a pipeline's `source.streams` picks among them.",
             "", "| stream | primary key | cursor | what it is |", "| --- | --- | --- | --- |"]
    for stream in streams:
        key = stream.primary_key
        key_text = ", ".join(f"`{k}`" for k in ([key] if isinstance(key, str) else key or []))
        cursor = f"`{stream.cursor_field}`" if stream.cursor_field else ""
        lines.append(f"| `{stream.name}` | {key_text} | {cursor} | {_cell(_summary(stream))} |")
    return lines + [""]


def _section_table(model: type[BaseModel]) -> str:
    """A model's own keys as one table (nested models are named by type, not expanded)."""
    return _flat_table(model.model_json_schema())


def _flat_table(schema: dict[str, Any]) -> str:
    def plain(prop: dict[str, Any]) -> str:
        text = _type_of(prop)
        while "](#" in text:  # a nested model is named, not linked: its definition is not on this page
            start = text.index("[")
            mid = text.index("](#", start)
            end = text.index(")", mid)
            text = text[:start] + "`" + text[start + 1:mid] + "`" + text[end + 1:]
        return text

    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, prop in props.items():
        lines.append(f"| `{key}` | {_cell(plain(prop))} | {_cell(_default(prop, key in required))} "
                     f"| {_cell(prop.get('description', ''))} |")
    return "\n".join(lines)


def render_index(docs: list[ConnectorDoc]) -> str:
    """The connectors' overview page: one row per connector."""
    out = ["# Connectors", "",
           "Every installed connector, as the plugin host finds it (built-in plugins and third-party ones alike). "
           "Each page is generated from the connector's own spec and options models at build time.", "",
           "| connector | roles | plugin | sandbox |", "| --- | --- | --- | --- |"]
    for doc in docs:
        sandbox = f"`{doc.sandbox.default_url()}`" if doc.sandbox is not None else "—"
        out.append(f"| [{doc.name}]({doc.name}.md) | {', '.join(doc.roles)} | `{doc.plugin}` | {sandbox} |")
    return "\n".join(out) + "\n"
