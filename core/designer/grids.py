"""The designer's two grids, read from a pipeline's options and turned back into file changes:

- the settlement account-role table: every role with the account it posts to (the account map), and the
  settlement rows staged so far with the role each has (the role table), the ones no rule names editable;
- the item mapping: channel SKUs staged so far that the ledger has no item of that name for, each with the item
  it maps to (`items.sku_map`).

A grid's submitted form becomes `FileChanges`: edits of the pipeline file by key path, and whole new texts of the
role file (rules appended with ruamel, so its comments stay)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..errors import ConfigError
from ..settlements.options import parse_settlement_options
from ..settlements.role_table import parse_rules
from ..settlements.roles import ROLE_LABELS, Role
from ..suggest.accepted import AcceptedMappings
from ..suggest.model import Suggestion
from ..suggest.staged import Staged
from ..suggest.text import compact

__all__ = ["RoleRow", "AmountRow", "SkuRow", "FileChanges", "role_grid", "amount_rows", "sku_rows",
           "role_grid_changes", "sku_grid_changes", "ROLE_CHOICES"]

#: every role a settlement row can have, as (value, label)
ROLE_CHOICES = [(r.value, ROLE_LABELS.get(r, r.value)) for r in Role]
_OPTIONS = ("destination", "options")


@dataclass
class RoleRow:
    role: str
    label: str
    account: str


@dataclass
class AmountRow:
    transaction_type: str
    amount_type: str
    amount_description: str
    count: int
    #: the role the table gives it now (None: no rule names it; the settlement would be held)
    role: str | None
    #: the role a person accepted for it, not yet written to the role file
    accepted: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return " / ".join(v or "*" for v in (self.transaction_type, self.amount_type, self.amount_description))


@dataclass
class SkuRow:
    sku: str
    title: str | None
    item: str | None
    accepted: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass
class FileChanges:
    #: pipeline file: key path → new value
    pipeline: dict[tuple[str, ...], Any] = field(default_factory=dict)
    #: other files of the pipeline (role files): path → new text
    files: dict[Path, str] = field(default_factory=dict)


def _settlements(options: dict[str, Any], base_dir: Path) -> Any:
    settlements = dict(options.get("settlements") or {})
    settlements.setdefault("base_dir", str(base_dir))
    return parse_settlement_options({"settlements": settlements})


def role_grid(options: dict[str, Any], base_dir: Path) -> list[RoleRow]:
    accounts = _settlements(options, base_dir).account_map().accounts
    return [RoleRow(r.value, ROLE_LABELS.get(r, r.value), accounts[r].name if r in accounts else "") for r in Role]


def _accepted_for(accepted: AcceptedMappings, kind: str, pipeline: str) -> dict[str, str]:
    return {compact(e.subject): e.target for e in accepted.of_kind(kind) if e.pipeline == pipeline}


def amount_rows(staged: Staged, options: dict[str, Any], base_dir: Path, suggestions: list[Suggestion],
                accepted: AcceptedMappings, pipeline: str) -> list[AmountRow]:
    table = _settlements(options, base_dir).role_table()
    chosen = _accepted_for(accepted, "roles", pipeline)
    rows = []
    for (tt, at, desc), count in sorted(staged.amount_rows.items()):
        role = table.role_of(tt, at, desc)
        row = AmountRow(tt, at, desc, count, role.value if role is not None else None)
        row.accepted = chosen.get(compact(row.subject)) if role is None else None
        row.suggestions = [s for s in suggestions if s.kind == "roles" and compact(s.subject) == compact(row.subject)]
        rows.append(row)
    return rows


def sku_rows(staged: Staged, options: dict[str, Any], suggestions: list[Suggestion], accepted: AcceptedMappings,
             pipeline: str) -> list[SkuRow]:
    sku_map = dict(((options.get("items") or {}).get("sku_map") or {}))
    names = {compact(n) for n in staged.ledger_items} | {compact(n) for n in staged.ledger("Item")}
    chosen = _accepted_for(accepted, "items", pipeline)
    rows = []
    for sku, title in sorted(staged.skus.items()):
        if sku not in sku_map and compact(sku) in names:
            continue  # the ledger has an item of that name: it matches by itself
        row = SkuRow(sku, title, sku_map.get(sku))
        row.accepted = None if row.item else chosen.get(compact(sku))
        row.suggestions = [s for s in suggestions if s.kind == "items" and s.subject == sku]
        rows.append(row)
    for sku, item in sorted(sku_map.items()):
        if sku not in staged.skus:
            rows.append(SkuRow(str(sku), None, str(item)))
    return rows


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _role_file(options: dict[str, Any], base_dir: Path, pipeline: str) -> tuple[Path, str | None]:
    """The pipeline's own role file and, when it has none yet, the name to give it in the options."""
    named = (options.get("settlements") or {}).get("roles")
    if named:
        p = Path(str(named))
        return (p if p.is_absolute() else base_dir / p), None
    return base_dir / f"{pipeline}-roles.yaml", f"{pipeline}-roles.yaml"


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    if isinstance(value, list):
        value = value[-1]
    return "" if value is None else str(value).strip()


def role_grid_changes(form: dict[str, Any], options: dict[str, Any], base_dir: Path, pipeline: str) -> FileChanges:
    """The changes a submitted role grid asks for: `account.<role>` fields (the account map, written inline in
    the options as a whole map when any differs) and `rule.<n>.*` rows (new role rules, appended to the
    pipeline's role file). A role or field name the grid does not know is refused, naming the field."""
    changes = FileChanges()
    roles = {r.value for r in Role}
    current = {row.role: row.account for row in role_grid(options, base_dir)}
    wanted = dict(current)
    rules: dict[str, dict[str, str]] = {}
    for key in form:
        if key.startswith("account."):
            role = key[len("account."):]
            if role not in roles:
                raise ConfigError(f"unknown role {role!r}", where=f"form.{key}",
                                  hint=f"roles: {', '.join(sorted(roles))}")
            wanted[role] = _text(form, key)
        elif key.startswith("rule."):
            _, n, part = (key.split(".", 2) + ["", ""])[:3]
            if not n.isdigit() or part not in ("transaction_type", "amount_type", "amount_description", "role"):
                raise ConfigError(f"unknown grid field {key!r}", where=f"form.{key}",
                                  hint="a rule row has transaction_type, amount_type, amount_description and role")
            rules.setdefault(n, {})[part] = _text(form, key)
        elif key not in ("csrf_token", "pipeline", "action"):
            raise ConfigError(f"unknown field {key!r}", where=f"form.{key}",
                              hint="the role grid has account.<role> and rule.<n>.<field> fields")
    if wanted != current:
        missing = [r for r, a in wanted.items() if current.get(r) and not a]
        if missing:
            raise ConfigError(f"the role {missing[0]!r} needs an account", where=f"form.account.{missing[0]}",
                              hint="choose one of the ledger's accounts; nothing was saved")
        mapped = {r: a for r, a in wanted.items() if a}
        named = (options.get("settlements") or {}).get("accounts")
        if isinstance(named, str) and named:  # the pipeline names its own account map file: edit that file
            p = Path(named)
            changes.files[p if p.is_absolute() else base_dir / p] = _edit_account_file(
                p if p.is_absolute() else base_dir / p, mapped)
        else:
            changes.pipeline[(*_OPTIONS, "settlements", "accounts")] = mapped
    new_rules = []
    for n in sorted(rules, key=int):
        row = rules[n]
        if not row.get("role"):
            continue
        if row["role"] not in roles:
            raise ConfigError(f"unknown role {row['role']!r}", where=f"form.rule.{n}.role",
                              hint=f"roles: {', '.join(sorted(roles))}")
        rule = {f: row[f] for f in ("transaction_type", "amount_type", "amount_description") if row.get(f)}
        if not rule:
            raise ConfigError("a rule must name at least one of the row's words", where=f"form.rule.{n}",
                              hint="a rule matching everything would be a guess")
        new_rules.append({**rule, "role": row["role"]})
    if new_rules:
        path, name_it = _role_file(options, base_dir, pipeline)
        if name_it:
            changes.pipeline[(*_OPTIONS, "settlements", "roles")] = name_it
        changes.files[path] = _append_rules(path, new_rules)
    return changes


def _append_rules(path: Path, rules: list[dict[str, str]]) -> str:
    y = _yaml()
    if path.exists():
        tree = y.load(path.read_text(encoding="utf-8")) or CommentedMap()
    else:
        tree = CommentedMap()
        tree.yaml_set_start_comment("Role rules this pipeline's people chose in the console's designer; they go "
                                    "ahead of\nthe shipped table (ledgerlink/settlements/default_roles.yaml).")
    if not isinstance(tree, dict):
        raise ConfigError("a role file is a mapping with `rules:`", where=str(path))
    seq = tree.get("rules")
    if not isinstance(seq, list):
        seq = CommentedSeq()
        tree["rules"] = seq
    for rule in rules:
        m = CommentedMap(rule)
        m.fa.set_flow_style()
        seq.append(m)
    out = io.StringIO()
    y.dump(tree, out)
    text = out.getvalue()
    import yaml as pyyaml

    parse_rules(pyyaml.safe_load(text), str(path))  # what is written is a role file the pipeline reads
    return text


def _edit_account_file(path: Path, mapped: dict[str, str]) -> str:
    y = _yaml()
    tree = y.load(path.read_text(encoding="utf-8")) if path.exists() else CommentedMap()
    if not isinstance(tree, dict):
        raise ConfigError("an account map is a mapping `accounts: {role: account name}`", where=str(path))
    accounts = tree.get("accounts")
    if not isinstance(accounts, dict):
        accounts = CommentedMap()
        tree["accounts"] = accounts
    for role, account in mapped.items():
        current = accounts.get(role)
        if isinstance(current, dict):
            if current.get("name") != account:
                current["name"] = account
                current.pop("id", None)  # an Id belongs to the old account
        elif current != account:
            accounts[role] = account
    out = io.StringIO()
    y.dump(tree, out)
    return out.getvalue()


def sku_grid_changes(form: dict[str, Any], options: dict[str, Any]) -> FileChanges:
    """`sku.<n>.sku` / `sku.<n>.item` rows → `items.sku_map` (an empty item removes the SKU's mapping)."""
    changes = FileChanges()
    rows: dict[str, dict[str, str]] = {}
    for key in form:
        if key.startswith("sku."):
            _, n, part = (key.split(".", 2) + ["", ""])[:3]
            if not n.isdigit() or part not in ("sku", "item"):
                raise ConfigError(f"unknown grid field {key!r}", where=f"form.{key}",
                                  hint="an item row has sku and item")
            rows.setdefault(n, {})[part] = _text(form, key)
        elif key not in ("csrf_token", "pipeline", "action"):
            raise ConfigError(f"unknown field {key!r}", where=f"form.{key}",
                              hint="the item grid has sku.<n>.sku and sku.<n>.item fields")
    current = dict(((options.get("items") or {}).get("sku_map") or {}))
    wanted = dict(current)
    for n, row in rows.items():
        if not row.get("sku"):
            raise ConfigError("is required", where=f"form.sku.{n}.sku", hint="each row names its SKU")
        if row.get("item"):
            wanted[row["sku"]] = row["item"]
        else:
            wanted.pop(row["sku"], None)
    if wanted != current:
        changes.pipeline[(*_OPTIONS, "items", "sku_map")] = dict(sorted(wanted.items()))
    return changes
