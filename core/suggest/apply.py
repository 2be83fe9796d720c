"""Writing suggestions a person confirmed to where the pipeline's mappings live, and remembering them.

Roles go into the pipeline's own role file (`destination.options.settlements.roles`; one beside the pipeline,
`<name>-roles.yaml`, is created and named when there is none), appended as text so its comments stay. Items and
payment methods go into the pipeline file's `destination.options.items.sku_map` / `payment_methods`, rewritten
with PyYAML in its key order (PyYAML drops comments: the old file is kept beside it as `.bak`). Tax codes and
duplicate customers have no pipeline option yet: they are recorded as accepted (later suggestions use them) and
the report says so."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import ConfigError
from ..settlements.role_table import parse_rules
from .accepted import AcceptedMappings, accepted_path
from .model import Suggestion

__all__ = ["apply_suggestions"]


def _flow(value: str | None) -> str:
    return "null" if value is None else yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True).strip().removesuffix("\n...").removesuffix("...").strip()


def _append_roles(path: Path, chosen: list[Suggestion]) -> None:
    lines = []
    for s in chosen:
        c = s.context
        fields = ", ".join(f"{f}: {_flow(c.get(f))}" for f in ("transaction_type", "amount_type", "amount_description")
                           if c.get(f))
        lines.append(f"  - {{{fields}, role: {s.target}}}  # suggested: {s.reason[:120]}")
    if not path.exists():
        path.write_text("# Role rules this pipeline's people accepted (`ledgerlink suggest --apply`); they go ahead of\n"
                        "# the shipped table (ledgerlink/settlements/default_roles.yaml).\nrules:\n")
    text = path.read_text()
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError("a role file is a mapping with `rules:`", where=str(path))
    if data.get("rules") is None and "rules:" not in text:
        text += ("" if text.endswith("\n") else "\n") + "rules:\n"
    elif data.get("rules") and not text.rstrip().splitlines()[-1].lstrip().startswith(("-", "#")):
        raise ConfigError("cannot append: `rules:` is not the last section of the role file", where=str(path),
                          hint="move `rules:` to the end of the file, or add the rules by hand")
    text = re.sub(r"^rules:\s*\[\s*\]\s*$", "rules:", text, flags=re.MULTILINE)
    new = text + ("" if text.endswith("\n") else "\n") + "\n".join(lines) + "\n"
    parse_rules(yaml.safe_load(new), str(path))  # what is written must be a role file the pipeline reads
    path.write_text(new)


def apply_suggestions(pipeline_file: str | Path, chosen: Iterable[Suggestion]) -> list[str]:
    """Apply the confirmed suggestions; returns what was done, one line each."""
    from ..pipeline import load_pipeline

    path = Path(pipeline_file)
    pipeline = load_pipeline(path)
    chosen = list(chosen)
    done: list[str] = []
    raw: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    options = raw.setdefault("destination", {}).setdefault("options", None) or {}
    raw["destination"]["options"] = options
    rewrite = False
    roles = [s for s in chosen if s.kind == "roles"]
    if roles:
        settlements = options.setdefault("settlements", {}) or {}
        options["settlements"] = settlements
        if not settlements.get("roles"):
            settlements["roles"] = f"{pipeline.name}-roles.yaml"
            rewrite = True
        role_file = Path(settlements["roles"])
        role_file = role_file if role_file.is_absolute() else pipeline.base_dir / role_file
        _append_roles(role_file, roles)
        done += [f"role {s.target} for {s.subject} → {role_file}" for s in roles]
    for s in chosen:
        if s.kind == "items":
            items = options.setdefault("items", {}) or {}
            options["items"] = items
            items.setdefault("sku_map", {})[s.subject] = s.target
            done.append(f"SKU {s.subject!r} → item {s.target!r} (destination.options.items.sku_map)")
            rewrite = True
        elif s.kind == "payments" and s.context.get("deposit_for"):
            channel = s.context["deposit_for"]
            channels = options.setdefault("channels", {}) or {}
            options["channels"] = channels
            entry = channels.get(channel) or {}
            entry["deposit_account"] = s.target
            channels[channel] = entry
            done.append(f"{channel} deposits → account {s.target!r} (destination.options.channels.{channel}"
                        ".deposit_account)")
            rewrite = True
        elif s.kind == "payments":
            options.setdefault("payment_methods", {})[s.subject] = s.target
            done.append(f"payment method {s.subject!r} → {s.target!r} (destination.options.payment_methods)")
            rewrite = True
        elif s.kind in ("tax", "customers"):
            done.append(f"{s.kind}: {s.subject!r} → {s.target!r} recorded as accepted (no pipeline option takes "
                        "it yet; set it in QuickBooks or the mapping by hand)")
    if rewrite:
        shutil.copy2(path, path.with_name(path.name + ".bak"))
        path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=120))
    accepted = AcceptedMappings.load(accepted_path(pipeline.base_dir))
    for s in chosen:
        accepted.record(pipeline.name, s.kind, s.subject, s.target, {k: v for k, v in s.context.items() if k != "rows"})
    accepted.save()
    return done
