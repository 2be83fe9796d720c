"""The account map: which of the company's accounts each role posts to, from a YAML file the user edits.

A settlement needing a role the file does not map is refused with the role and the file named; nothing is
posted to a default the bookkeeper never chose.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from ..errors import ConfigError
from ..safe_yaml import load_yaml
from .roles import ROLE_LABELS, Role

__all__ = ["AccountRef", "EntityRef", "AccountMap", "load_account_map", "default_account_map"]


class EntityRef(BaseModel):
    """The name a line is posted against (QBO Entity / qbXML EntityRef): accounts payable needs a vendor."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str = "Vendor"
    name: str


class AccountRef(BaseModel):
    """An account as the destination names it: its name, and its QBO Id when the user gave one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    id: str | None = None
    entity: EntityRef | None = None


class AccountMap:
    """Role → AccountRef for one company, remembering the file it came from (for error messages)."""

    def __init__(self, accounts: dict[Role, AccountRef], where: str):
        self.accounts, self.where = accounts, where

    def account(self, role: Role) -> AccountRef:
        found = self.accounts.get(role)
        if found is None:
            raise ConfigError(f"no account for the role {role.value!r} ({ROLE_LABELS[role]})", where=self.where,
                              hint=f"add `{role.value}: <account name>` under `accounts:` in {self.where}")
        return found

    def missing(self, roles: set[Role]) -> list[Role]:
        return sorted((r for r in roles if r not in self.accounts), key=lambda r: r.value)


def parse_account_map(data: Any, where: str) -> AccountMap:
    if isinstance(data, dict) and "accounts" in data:
        data = data["accounts"]
    if not isinstance(data, dict):
        raise ConfigError("an account map is a mapping `accounts: {role: account name}`", where=where)
    known = {r.value: r for r in Role}
    out: dict[Role, AccountRef] = {}
    for key, value in data.items():
        role = known.get(str(key))
        if role is None:
            raise ConfigError(f"unknown role {key!r}", where=where, hint=f"roles: {', '.join(sorted(known))}")
        if isinstance(value, (str, int)) and str(value).strip():
            out[role] = AccountRef(name=str(value).strip())
        elif isinstance(value, dict) and value.get("name"):
            try:
                out[role] = AccountRef.model_validate({**value, "id": None if value.get("id") is None
                                                       else str(value["id"])})
            except ValueError as exc:
                raise ConfigError(f"the account for {key!r} is not valid: {exc}", where=where) from None
        else:
            raise ConfigError(f"the account for {key!r} needs a name", where=where,
                              hint=f"`{key}: Account name` or `{key}: {{name: Account name, id: '42'}}`")
    return AccountMap(out, where)


def load_account_map(path: str | Path) -> AccountMap:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"account map {p} does not exist", where="destination.options.settlements.accounts",
                          hint="copy ledgerlink/settlements/default_accounts.yaml and edit the account names")
    # bounded: a user's file (size, nesting, aliases, duplicate keys), refusals name file:line
    return parse_account_map(load_yaml(p) or {}, str(p))


def default_account_map() -> AccountMap:
    text = resources.files("ledgerlink.settlements").joinpath("default_accounts.yaml").read_text()
    return parse_account_map(yaml.safe_load(text), "ledgerlink/settlements/default_accounts.yaml")
