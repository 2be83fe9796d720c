"""The role table: a settlement row's own words (transaction type, amount type, description) → its Role.

Rules come from `default_roles.yaml` (shipped) and, ahead of them, the user's own file. A row no rule names has
no role, and the caller puts the settlement on hold naming it: a guess here would be a wrong number in the books.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..errors import ConfigError
from ..safe_yaml import load_yaml
from .roles import Role

__all__ = ["RoleRule", "RoleTable", "default_role_table", "normalise_word"]

_NOT_ALNUM = re.compile(r"[\W_]+")  # keeps letters of every script: 返金 and Rückerstattung are words too
_FIELDS = ("transaction_type", "amount_type", "amount_description")


def normalise_word(value: str | None) -> str:
    """How the table compares words: case, spaces, hyphens and underscores do not matter."""
    return _NOT_ALNUM.sub("", (value or "").casefold())


@dataclass(frozen=True)
class RoleRule:
    """One line of a role table; None in a field matches anything."""

    transaction_type: str | None
    amount_type: str | None
    amount_description: str | None
    role: Role
    where: str = ""

    @property
    def specificity(self) -> int:
        return sum(1 for f in _FIELDS if getattr(self, f) is not None)

    def describe(self) -> str:
        return " / ".join(getattr(self, f) or "*" for f in _FIELDS) + f" → {self.role.value}"


class RoleTable:
    """Looks roles up; the user's rules first, then the defaults, each by specificity then file order."""

    def __init__(self, rules: Iterable[RoleRule], aliases: dict[str, str] | None = None,
                 user_rules: Iterable[RoleRule] = ()):
        self.aliases = dict(aliases or {})
        self.rules = list(rules)
        self.user_rules = list(user_rules)
        self._tiers = [self._index(self.user_rules), self._index(self.rules)]
        self._memo: dict[tuple[str, str, str], Role | None] = {}

    @staticmethod
    def _index(rules: list[RoleRule]) -> list[tuple[tuple[str | None, ...], Role]]:
        ordered = sorted(enumerate(rules), key=lambda ir: (-ir[1].specificity, ir[0]))
        return [(tuple(None if getattr(r, f) is None else normalise_word(getattr(r, f)) for f in _FIELDS), r.role)
                for _, r in ordered]

    def amount_type(self, value: str | None) -> str:
        word = normalise_word(value)
        return self.aliases.get(word, word)

    def role_of(self, transaction_type: str | None, amount_type: str | None,
                amount_description: str | None) -> Role | None:
        """The row's role, or None when no rule names it."""
        raw = (transaction_type or "", amount_type or "", amount_description or "")
        if raw in self._memo:  # a report repeats a few dozen combinations over thousands of rows
            return self._memo[raw]
        key = (normalise_word(transaction_type), self.amount_type(amount_type), normalise_word(amount_description))
        found: Role | None = None
        for tier in self._tiers:
            for pattern, role in tier:
                if all(p is None or p == k for p, k in zip(pattern, key)):
                    found = role
                    break
            if found is not None:
                break
        self._memo[raw] = found
        return found

    def with_user_rules(self, rules: Iterable[RoleRule]) -> "RoleTable":
        return RoleTable(self.rules, {**self.aliases}, [*rules, *self.user_rules])


def parse_rules(data: Any, where: str) -> tuple[list[RoleRule], dict[str, str]]:
    """Rules and amount-type aliases from a role file's YAML; a ConfigError naming the file and entry."""
    if not isinstance(data, dict):
        raise ConfigError("a role file is a mapping with `rules:` (and optionally `amount_type_aliases:`)",
                          where=where)
    aliases: dict[str, str] = {}
    for target, names in (data.get("amount_type_aliases") or {}).items():
        for name in names if isinstance(names, list) else [names]:
            aliases[normalise_word(str(name))] = normalise_word(str(target))
    rules = []
    roles = {r.value for r in Role}
    for n, entry in enumerate(data.get("rules") or []):
        here = f"{where}: rules[{n}]"
        if not isinstance(entry, dict) or "role" not in entry:
            raise ConfigError("each rule needs a `role` and at least one of transaction_type, amount_type, "
                              "amount_description", where=here)
        unknown = set(entry) - {*_FIELDS, "role"}
        if unknown:
            raise ConfigError(f"unknown field {sorted(unknown)[0]!r}", where=here,
                              hint=f"a rule has {', '.join(_FIELDS)} and role")
        role = str(entry["role"])
        if role not in roles:
            raise ConfigError(f"unknown role {role!r}", where=here, hint=f"roles: {', '.join(sorted(roles))}")
        choices = [_field_values(entry.get(f), here, f) for f in _FIELDS]
        if all(c == [None] for c in choices):
            raise ConfigError("a rule must name at least one field (a rule matching everything is a guess)",
                              where=here)
        for combination in itertools.product(*choices):  # a list in a field: one rule per value
            rules.append(RoleRule(*combination, role=Role(role), where=here))
    return rules, aliases


def _field_values(value: Any, where: str, field: str) -> list[str | None]:
    """A rule field's values: None for "*" or absent, else one word or a list of words (each a rule)."""
    if value is None or value == "*":
        return [None]
    if isinstance(value, list):
        words = [str(v) for v in value if v not in (None, "")]
        if not words or "*" in words:
            raise ConfigError(f"{field} lists no words (or lists \"*\")", where=where,
                              hint="list the words this rule names, or leave the field out to match anything")
        return words
    if not normalise_word(str(value)):
        raise ConfigError(f"{field} {value!r} has no letters or digits", where=where)
    return [str(value)]


def load_rules(path: str | Path) -> list[RoleRule]:
    """A user's role file (same shape as default_roles.yaml); its rules go ahead of the defaults."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"role file {p} does not exist", where="destination.options.settlements.roles")
    # bounded: a user's file (size, nesting, aliases, duplicate keys), refusals name file:line
    rules, _ = parse_rules(load_yaml(p) or {}, str(p))
    return rules


_DEFAULT: RoleTable | None = None


def default_role_table() -> RoleTable:
    """The shipped table (read once per process)."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("ledgerlink.settlements").joinpath("default_roles.yaml").read_text()
        rules, aliases = parse_rules(yaml.safe_load(text), "default_roles.yaml")
        _DEFAULT = RoleTable(rules, aliases)
    return _DEFAULT
