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
from .forms import FormField, FormProblem, form_fields, read_form
from .pipeline_file import DELETE

__all__ = ["options_schema", "options_fields", "options_changes", "ledger_kind"]

_SCALAR = ("text", "number", "integer", "checkbox", "select")


def ledger_kind(option: str) -> str | None:
    """Which ledger list an option's values come from, by its name (`deposit_account` → Account); a nested option
    by its last part (`tax.taxable_code` → TaxCode, `stores.*.class` → Class)."""
    name = option.lower().rsplit(".", 1)[-1]
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


#: keyed groups whose entries hold ledger names, with the entry the form always offers (`*`: any store)
_KEYED_GROUPS = {"stores": "*", "channels": None}
#: option maps of a channel's words → a ledger name (payment method mappings), and the list they pick from
_NAME_MAPS = {"payment_methods": "PaymentMethod"}
#: options whose names say "ledger" but hold the channel's words (the stock location a QuickBooks count mirrors)
_CHANNEL_WORDS = {("inventory", "location")}
#: the form field that adds an entry to a name map: `options.<map>:new` (the channel's word) and `:new_value`
NEW_KEY, NEW_VALUE = ":new", ":new_value"


def _props(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = (schema.get("$defs") or {}).get(ref.split("/")[-1], {})
    return node


def _scalar_kind(schema: dict[str, Any], prop: dict[str, Any]) -> bool:
    return form_fields({"properties": {"x": prop}, "$defs": schema.get("$defs", {})}, "o")[0].kind in _SCALAR


def _at(current: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = current
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flat_options(schema: dict[str, Any], current: dict[str, Any]) -> dict[str, tuple[tuple[str, ...], dict[str, Any],
                                                                                         str | None]]:
    """form name → (path under destination.options, property schema, ledger list). Single-value options; the
    ledger names inside option groups (`tax.taxable_code`); the ledger names of a keyed group's entries
    (`stores.*.class`, `channels.amazon.deposit_account`); each entry of a name map (`payment_methods.Other`)."""
    out: dict[str, tuple[tuple[str, ...], dict[str, Any], str | None]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        target = _props(schema, prop)
        if _scalar_kind(schema, prop):
            out[name] = ((name,), prop, ledger_kind(name))
        elif name in _NAME_MAPS:
            for key, value in sorted((current.get(name) or {}).items()):
                if isinstance(value, str):
                    out[f"{name}.{key}"] = ((name, str(key)), {"type": "string", "title": f"{name} · {key}",
                                                               "description": f"the ledger's name for {key!r}"},
                                            _NAME_MAPS[name])
        elif name in _KEYED_GROUPS:
            entry = _props(schema, target.get("additionalProperties") or {})
            keys = [k for k in (current.get(name) or {}) if isinstance(k, str)]
            always = _KEYED_GROUPS[name]
            for key in ([always] if always and always not in keys else []) + keys:
                for sub, sub_prop in (entry.get("properties") or {}).items():
                    if ledger_kind(sub) and _scalar_kind(schema, sub_prop):
                        title = f"{prop.get('title') or name} · {'any' if key == '*' else key} · {sub_prop.get('title') or sub}"
                        out[f"{name}.{key}.{sub}"] = ((name, key, sub), {**sub_prop, "title": title}, ledger_kind(sub))
        elif target.get("properties"):
            for sub, sub_prop in target["properties"].items():
                if ledger_kind(sub) and _scalar_kind(schema, sub_prop) and (name, sub) not in _CHANNEL_WORDS:
                    title = f"{prop.get('title') or name} · {sub_prop.get('title') or sub}"
                    out[f"{name}.{sub}"] = ((name, sub), {**sub_prop, "title": title}, ledger_kind(sub))
    for key, value in current.items():
        if key not in (schema.get("properties") or {}) and isinstance(value, str):
            out[key] = ((key,), {"type": "string", "title": key.replace("_", " ").capitalize()}, ledger_kind(key))
    return out


def options_schema(destination_cls: type) -> dict[str, Any]:
    model = getattr(destination_cls, "options_model", None) or OrderPostingOptions
    return model.model_json_schema(by_alias=True)


def _scalar_schema(schema: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    flat = _flat_options(schema, current)
    return {"properties": {name: prop for name, (_, prop, _) in flat.items()}, "$defs": schema.get("$defs", {})}


def _flat_values(flat: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, (path, _, _) in flat.items() if (value := _at(current, path)) is not None}


def name_maps(current: dict[str, Any]) -> list[tuple[str, str]]:
    """(option, ledger list) of each name map the form offers a new entry for."""
    return list(_NAME_MAPS.items())


def options_fields(schema: dict[str, Any], current: dict[str, Any]) -> list[tuple[FormField, str | None]]:
    """(input, ledger list it picks from) for each single-value option, filled from the file."""
    flat = _flat_options(schema, current)
    scalar = _scalar_schema(schema, current)
    values = _flat_values(flat, current)
    fields = form_fields(scalar, "options", values)
    for f in fields:
        f.required = False  # an option left empty takes its default
        if f.name not in values and f.kind != "checkbox":
            f.value = ""  # the default shows as the placeholder, not as a value that would be written
    return [(f, flat[f.name][2]) for f in fields]


def options_changes(schema: dict[str, Any], current: dict[str, Any], form: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """The pipeline-file changes a submitted options form asks for: a filled field is set (typed by the schema),
    an emptied one removed (its default applies); a new name-map entry (`options.payment_methods:new` and
    `:new_value`) added. Unknown option names and wrong types are FormProblems naming the field."""
    flat = _flat_options(schema, current)
    scalar = _scalar_schema(schema, current)
    new_entries = {k: v for k, v in form.items() if k.startswith("options.") and
                   (k.endswith(NEW_KEY) or k.endswith(NEW_VALUE)) and k[len("options."):].split(":")[0] in _NAME_MAPS}
    submitted = {k: v for k, v in form.items() if k.startswith("options.") and k not in new_entries}
    values = read_form({**scalar, "required": []}, submitted, "options")
    current_flat = _flat_values(flat, current)
    changes: dict[tuple[str, ...], Any] = {}
    defaults = {f.name: f.default for f in form_fields(scalar, "options")}
    for name, (path, _, _) in flat.items():
        key = ("destination", "options", *path)
        if name in values:
            if name not in current_flat and values[name] == defaults.get(name):
                continue  # the default, as the form showed it: nothing to write
            if current_flat.get(name) != values[name]:
                changes[key] = values[name]
        elif name in current_flat and f"options.{name}" in submitted:
            changes[key] = DELETE
    for option in _NAME_MAPS:
        word = str(new_entries.get(f"options.{option}{NEW_KEY}") or "").strip()
        ledger_name = str(new_entries.get(f"options.{option}{NEW_VALUE}") or "").strip()
        if not word and not ledger_name:
            continue
        if not word:
            raise FormProblem(f"options.{option}{NEW_KEY}", "the channel's name is required for a new entry")
        if word in (current.get(option) or {}):
            raise FormProblem(f"options.{option}{NEW_KEY}", f"{word[:40]!r} is mapped already; change it above")
        changes[("destination", "options", option, word)] = ledger_name
    return changes
