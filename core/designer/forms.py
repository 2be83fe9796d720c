"""A connector's configuration form, generated from the JSON Schema its Airbyte spec carries
(`connectionSpecification`), and the submitted form read back into a config dict with its types.

Any connector gets a form this way, a third party's included: strings, numbers, integers, booleans, enums and
lists of strings become inputs; nested objects become a small YAML box. Secret fields (`airbyte_secret`) are
password inputs whose value is never sent back to the browser: left empty, the value already in the pipeline
file is kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["FormField", "FormProblem", "form_fields", "read_form", "SECRET_KEPT"]

#: what a secret shows in a diff or a page: never its value
SECRET_KEPT = "••••••"


@dataclass
class FormField:
    """One input of a generated form."""

    name: str  # the config key
    input_name: str  # the HTML form field's name: `<prefix>.<key>`
    label: str
    kind: str  # text | password | number | integer | checkbox | select | list | yaml
    required: bool
    description: str = ""
    choices: list[str] = field(default_factory=list)
    #: what the input shows (never a secret's value)
    value: str = ""
    #: a secret already set (the input is empty; leaving it empty keeps it)
    has_secret: bool = False
    default: Any = None


@dataclass
class FormProblem(Exception):
    """A form field that cannot be read: its HTML name, the config key, and what is wrong."""

    input_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.input_name}: {self.message}"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**(schema.get("$defs") or {}).get(ref.split("/")[-1], {}), **{k: v for k, v in node.items()
                                                                             if k != "$ref"}}
    return node


def _kind(schema: dict[str, Any], prop: dict[str, Any]) -> tuple[str, list[str]]:
    """The input kind of one property (an optional `X | None` is its X)."""
    prop = _resolve(schema, prop)
    options = [_resolve(schema, o) for o in prop.get("anyOf") or []]
    options = [o for o in options if o.get("type") != "null"]
    if len(options) == 1:
        prop = {**prop, **options[0]}
    elif len(options) > 1:
        return "yaml", []
    if prop.get("airbyte_secret"):
        return "password", []
    if "enum" in prop:
        return "select", [str(v) for v in prop["enum"]]
    if "const" in prop:
        return "select", [str(prop["const"])]
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox", []
    if kind in ("integer", "number"):
        return kind, []
    if kind == "array" and _resolve(schema, prop.get("items") or {}).get("type") == "string":
        return "list", []
    if kind == "string":
        return "text", []
    return "yaml", []


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "list":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if kind == "yaml":
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False).strip()
    if kind == "checkbox":
        return "1" if value else ""
    return str(value)


def form_fields(schema: dict[str, Any], prefix: str, values: dict[str, Any] | None = None) -> list[FormField]:
    """The inputs for a config schema, in the schema's order, filled from `values` (secrets never)."""
    values = values or {}
    required = set(schema.get("required") or [])
    out = []
    for name, prop in (schema.get("properties") or {}).items():
        kind, choices = _kind(schema, prop)
        resolved = _resolve(schema, prop)
        default = resolved.get("default")
        present = name in values
        value = values.get(name, default)
        out.append(FormField(
            name=name, input_name=f"{prefix}.{name}", label=str(resolved.get("title") or name), kind=kind,
            required=name in required, description=str(resolved.get("description") or ""), choices=choices,
            value="" if kind == "password" else _shown(kind, value),
            has_secret=kind == "password" and present and value not in (None, ""), default=default))
    return out


def _number(kind: str, text: str, input_name: str) -> int | float:
    try:
        return int(text) if kind == "integer" else float(text)
    except ValueError:
        what = "a whole number" if kind == "integer" else "a number"
        raise FormProblem(input_name, f"{text[:40]!r} is not {what}") from None


def _in_range(prop: dict[str, Any], value: float, input_name: str) -> None:
    """The schema's bounds, said in words (pydantic's `ge`/`le`/`gt`/`lt`)."""
    for option in [prop, *(o for o in prop.get("anyOf") or [] if isinstance(o, dict))]:
        low, high = option.get("minimum"), option.get("maximum")
        above, below = option.get("exclusiveMinimum"), option.get("exclusiveMaximum")
        if low is not None and value < low:
            raise FormProblem(input_name, f"{value:g} is less than {low:g}, the least allowed")
        if high is not None and value > high:
            raise FormProblem(input_name, f"{value:g} is more than {high:g}, the most allowed")
        if above is not None and value <= above:
            raise FormProblem(input_name, f"{value:g} must be more than {above:g}")
        if below is not None and value >= below:
            raise FormProblem(input_name, f"{value:g} must be less than {below:g}")


def read_form(schema: dict[str, Any], form: dict[str, Any], prefix: str,
              existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config a submitted form says, typed by the schema. An empty optional field is left out (the connector's
    default applies); an empty secret keeps the existing one; a required field left empty is a FormProblem naming
    it. Keys the schema does not know are refused (a typo in a hand-made request)."""
    existing = existing or {}
    known = set((schema.get("properties") or {}))
    for key in form:
        if key.startswith(prefix + ".") and key[len(prefix) + 1:].removesuffix(":present") not in known:
            raise FormProblem(key, f"unknown field {key[len(prefix) + 1:]!r}; this connector's fields: "
                                   f"{', '.join(sorted(known))}")
    config: dict[str, Any] = {}
    for f in form_fields(schema, prefix):
        raw = form.get(f.input_name)
        if isinstance(raw, list):
            raw = raw[-1]  # a checkbox's hidden "0" and its "1"
        text = "" if raw is None else str(raw).strip()
        if f.kind == "checkbox":
            if raw is None and f.input_name + ":present" not in form:
                continue
            config[f.name] = text in ("1", "on", "true")
            continue
        if text == "":
            if f.kind == "password" and f.name in existing:
                config[f.name] = existing[f.name]
            elif f.required and f.default is None:
                raise FormProblem(f.input_name, f"{f.label} is required")
            continue
        if f.kind in ("integer", "number"):
            config[f.name] = _number(f.kind, text, f.input_name)
            _in_range(_resolve(schema, schema["properties"][f.name]), config[f.name], f.input_name)
        elif f.kind == "list":
            config[f.name] = [v.strip() for v in text.replace("\n", ",").split(",") if v.strip()]
        elif f.kind == "yaml":
            try:
                config[f.name] = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = f" at line {mark.line + 1}" if mark else ""
                raise FormProblem(f.input_name, f"not valid YAML{line}") from None
        elif f.kind == "select" and f.choices and text not in f.choices:
            raise FormProblem(f.input_name, f"{text[:40]!r} is not one of {', '.join(f.choices)}")
        else:
            config[f.name] = text
    return config
