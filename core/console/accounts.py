"""People who may sign in to a workspace's console, each with one role: viewer reads; bookkeeper also retries and
discards dead letters, applies revisions, approves reviews and triggers syncs; admin also manages users, tokens
and pipelines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .db import ConsoleDB
from .passwords import MIN_PASSWORD_LENGTH, dummy_hash, hash_password, verify_password

__all__ = ["ROLES", "Accounts", "User", "check_role", "role_allows"]

#: roles from least to most trusted; each can do what the ones before it can
ROLES = ("viewer", "bookkeeper", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"no role named {role!r}", where="role", hint=f"roles: {', '.join(ROLES)}")
    return role


def role_allows(role: str, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "created_at": self.created_at}


class Accounts:
    def __init__(self, db: ConsoleDB):
        self.db = db

    def add(self, name: str, role: str, password: str) -> User:
        if not _NAME.match(name or ""):
            raise ConfigError(f"user name {name!r} is not allowed", where="name",
                              hint="letters, digits and . _ @ -, starting with a letter or digit, at most 64")
        check_role(role)
        if len(password or "") < MIN_PASSWORD_LENGTH:
            raise ConfigError(f"the password is shorter than {MIN_PASSWORD_LENGTH} characters", where="password",
                              hint="use a passphrase of a few words")
        if self.get(name) is not None:
            raise ConfigError(f"user {name!r} already exists", where="name",
                              hint=f"`ledgerlink users remove {name}` first to replace it")
        created = self.db.now()
        self.db.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, hash_password(password), created))
        return User(name, role, created)

    def get(self, name: str) -> User | None:
        row = self.db.fetchone("SELECT name, role, created_at FROM users WHERE name = ?", (name,))
        return User(*row) if row else None

    def list(self) -> list[User]:
        return [User(*r) for r in self.db.fetchall("SELECT name, role, created_at FROM users ORDER BY name")]

    def remove(self, name: str) -> None:
        if self.get(name) is None:
            raise ConfigError(f"no user named {name!r}", where="name", hint="`ledgerlink users list` shows them")
        with self.db.transaction():
            self.db.execute("DELETE FROM users WHERE name = ?", (name,))
            self.db.execute("DELETE FROM sessions WHERE user_name = ?", (name,))  # signed out everywhere

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right; None otherwise (an unknown name costs the same time)."""
        row = self.db.fetchone("SELECT password_hash FROM users WHERE name = ?", (name,))
        ok = verify_password(password, row[0] if row else dummy_hash())
        return self.get(name) if ok and row else None
