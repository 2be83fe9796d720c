"""The glossary: each vendor's codes in words (shipped YAML files in `glossary/`). A malformed file is a
ConfigError naming the file and the line, so a user's own glossary is as easy to fix as a pipeline file."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import ConfigError
from .text import compact

__all__ = ["GlossaryEntry", "Glossary", "load_glossary", "shipped_glossary", "yaml_with_lines"]


@dataclass(frozen=True)
class GlossaryEntry:
    """One code: `target` is a role (roles glossary) or a concept (payments, tax); `names` the code and its
    other spellings; `where` the file and line it came from."""

    code: str
    target: str
    words: str
    names: tuple[str, ...]
    amount_type: str | None = None
    where: str = ""


@dataclass
class Glossary:
    kind: str
    entries: list[GlossaryEntry] = field(default_factory=list)
    refund_transaction_types: frozenset[str] = frozenset()
    #: compacted amount type → the role it decides (roles glossary only)
    deciding_amount_types: dict[str, str] = field(default_factory=dict)
    #: compacted container words (Order, other-transaction) that are not looked up
    neutral_words: frozenset[str] = frozenset()

    def exact(self) -> dict[str, GlossaryEntry]:
        """Every name, compacted, → its entry (the first file line wins)."""
        out: dict[str, GlossaryEntry] = {}
        for entry in self.entries:
            for name in entry.names:
                out.setdefault(compact(name), entry)
        return out


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers each mapping's line (1-based) under the key `__line__`."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def yaml_with_lines(text: str, where: str) -> Any:
    """Parse YAML keeping each mapping's line; a syntax error is a ConfigError at `where:line`."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", where=f"{where}{line}") from None


def _text_list(value: Any, where: str, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise ConfigError(f"`{what}` is a word or a list of words", where=where)


def load_glossary(text: str, where: str, *, targets: Iterable[str] | None = None) -> Glossary:
    """A glossary from YAML text; `targets`: the allowed `role`/`concept` values (None: any)."""
    data = yaml_with_lines(text, where)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ConfigError("a glossary is a mapping with `kind:` and a list `entries:`",
                          where=f"{where}:{data.get('__line__', 1) if isinstance(data, dict) else 1}")
    kind = str(data.get("kind") or "")
    allowed = set(targets) if targets is not None else None
    glossary = Glossary(kind, refund_transaction_types=frozenset(
        compact(t) for t in _text_list(data.get("refund_transaction_types"), where, "refund_transaction_types")))
    glossary.neutral_words = frozenset(compact(t) for t in _text_list(data.get("neutral_words"), where, "neutral_words"))
    deciding = data.get("deciding_amount_types") or {}
    if not isinstance(deciding, dict):
        raise ConfigError("`deciding_amount_types` maps a role to a list of amount types", where=where)
    for target, names in deciding.items():
        if target == "__line__":
            continue
        if allowed is not None and str(target) not in allowed:
            raise ConfigError(f"unknown role {target!r} in deciding_amount_types", where=f"{where}:{deciding['__line__']}")
        for name in _text_list(names, where, "deciding_amount_types"):
            glossary.deciding_amount_types[compact(name)] = str(target)
    for n, item in enumerate(data["entries"]):
        here = f"{where}:{item.get('__line__', '?')}" if isinstance(item, dict) else f"{where}: entries[{n}]"
        if not isinstance(item, dict):
            raise ConfigError("each entry is a mapping with code, words and role (or concept)", where=here)
        unknown = set(item) - {"code", "words", "role", "concept", "also", "amount_type", "__line__"}
        if unknown:
            raise ConfigError(f"unknown field {sorted(unknown)[0]!r}", where=here,
                              hint="an entry has code, words, role or concept, also, amount_type")
        target = item.get("role", item.get("concept"))
        if not item.get("code") or not target or not item.get("words"):
            raise ConfigError("an entry needs `code`, `words` and a `role` (or `concept`)", where=here)
        if allowed is not None and str(target) not in allowed:
            raise ConfigError(f"unknown role {target!r}", where=here, hint=f"roles: {', '.join(sorted(allowed))}")
        names = (str(item["code"]), *_text_list(item.get("also"), here, "also"))
        glossary.entries.append(GlossaryEntry(str(item["code"]), str(target), str(item["words"]), names,
                                              str(item["amount_type"]) if item.get("amount_type") else None, here))
    return glossary


def load_glossary_file(path: str | Path, *, targets: Iterable[str] | None = None) -> Glossary:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the glossary: {exc.strerror}", where=str(p)) from None
    return load_glossary(text, str(p), targets=targets)


_SHIPPED: dict[str, Glossary] = {}
_FILES = {"roles": "amazon_settlement.yaml", "payments": "payment_methods.yaml", "tax": "tax_names.yaml"}


def shipped_glossary(kind: str) -> Glossary:
    """The glossary shipped for `kind` (roles, payments, tax), read once per process."""
    if kind not in _SHIPPED:
        from ..settlements.roles import Role

        name = _FILES[kind]
        text = resources.files("ledgerlink.suggest").joinpath("glossary").joinpath(name).read_text(encoding="utf-8")
        targets = [r.value for r in Role] if kind == "roles" else None
        _SHIPPED[kind] = load_glossary(text, f"ledgerlink/suggest/glossary/{name}", targets=targets)
    return _SHIPPED[kind]
