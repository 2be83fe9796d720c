"""The posting options form: the destination's options model (its `options_model`, the typed options a
destination declares; the ledger-neutral `OrderPostingOptions` when it declares none) as inputs, each field that
names something in the ledger (an account, item, tax code, payment method, class or location) offered from the
ledger's own list. Options already in the file that the model does not describe are shown as text too, so the
form never hides what the file says.

Only single-value options are form inputs; nested groups (settlements, returns, inventory, document rules) have
their own grids or stay in the YAML for a developer."""

from __future__ import annotations

from typing import Any

from ..posting.options import OrderPostingOptions
from .forms import FormField, form_fields, read_form
from .pipeline_file import DELETE

__all__ = ["options_schema", "options_fields", "options_changes", "ledger_kind"]

_SCALAR = ("text", "number", "integer", "checkbox", "select")


def ledger_kind(option: str) -> str | None:
    """Which ledger list an option's values come from, by its name (`deposit_account` → Account)."""
    name = option.lower()
    if name.endswith("account") or name.endswith("_account"):
        return "Account"
    if name.endswith("item") or name.endswith("_item"):
        return "Item"
    if name.endswith("tax_code") or name.endswith("_code"):
        return "TaxCode"
    if name.endswith("payment_method"):
        return "PaymentMethod"
    if name in ("class", "class_", "class_name"):
        return "Class"
    if name in ("location", "department"):
        return "Department"
    return None


def options_schema(destination_cls: type) -> dict[str, Any]:
    model = getattr(destination_cls, "options_model", None) or OrderPostingOptions
    return model.model_json_schema(by_alias=True)


def _scalar_schema(schema: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The schema's single-value fields, plus the file's own single-value keys the schema lacks (as text)."""
    props: dict[str, Any] = {}
    for f in form_fields(schema, "options"):
        if f.kind in _SCALAR:
            props[f.name] = schema["properties"][f.name]
    for key, value in current.items():
        if key not in (schema.get("properties") or {}) and isinstance(value, str):
            props[key] = {"type": "string", "title": key.replace("_", " ").capitalize()}
    return {"properties": props, "$defs": schema.get("$defs", {})}


def options_fields(schema: dict[str, Any], current: dict[str, Any]) -> list[tuple[FormField, str | None]]:
    """(input, ledger list it picks from) for each single-value option, filled from the file."""
    scalar = _scalar_schema(schema, current)
    fields = form_fields(scalar, "options", current)
    for f in fields:
        f.required = False  # an option left empty takes its default
        if f.name not in current and f.kind != "checkbox":
            f.value = ""  # the default shows as the placeholder, not as a value that would be written
    return [(f, ledger_kind(f.name)) for f in fields]


def options_changes(schema: dict[str, Any], current: dict[str, Any], form: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """The pipeline-file changes a submitted options form asks for: a filled field is set (typed by the schema),
    an emptied one removed (its default applies). Unknown option names and wrong types are FormProblems naming
    the field."""
    scalar = _scalar_schema(schema, current)
    submitted = {k: v for k, v in form.items() if k.startswith("options.")}
    scalar_required_free = {**scalar, "required": []}
    values = read_form(scalar_required_free, submitted, "options")
    changes: dict[tuple[str, ...], Any] = {}
    defaults = {f.name: f.default for f in form_fields(scalar, "options")}
    for name in scalar["properties"]:
        key = ("destination", "options", name)
        if name in values:
            if name not in current and values[name] == defaults.get(name):
                continue  # the default, as the form showed it: nothing to write
            if current.get(name) != values[name]:
                changes[key] = values[name]
        elif name in current and f"options.{name}" in submitted:
            changes[key] = DELETE
    return changes
