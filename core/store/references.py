"""Destination reference look-ups and encrypted credentials, both kept in the pipeline's state file."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..errors import ConfigError
from ..secrets import register_secret, secret_key
from .database import Database

__all__ = ["References", "Credentials"]


class References:
    """A ReferenceCache (see ledgerlink.ReferenceCache) for one destination, persisted in DuckDB."""

    def __init__(self, db: Database, destination: str):
        self.db, self.destination = db, destination
        self._memo: dict[tuple[str, str], str] = {}

    def get(self, kind: str, name: str) -> str | None:
        hit = self._memo.get((kind, name))
        if hit is not None:
            return hit
        with self.db.lock:
            row = self.db.fetchone("SELECT ref_id FROM refs WHERE destination = ? AND kind = ? AND name = ?",
                                   [self.destination, kind, name])
        if row:
            self._memo[(kind, name)] = row[0]
            return row[0]
        return None

    def put(self, kind: str, name: str, ref_id: str, version: str | None = None) -> None:
        """Remember `ref_id` for (kind, name); a note on the entry stays."""
        with self.db.lock:
            self.db.execute("INSERT INTO refs (destination, kind, name, ref_id, version, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, now()) ON CONFLICT (destination, kind, name) DO UPDATE SET "
                            "ref_id = excluded.ref_id, version = excluded.version, updated_at = excluded.updated_at",
                            [self.destination, kind, name, ref_id, version])
        self._memo[(kind, name)] = ref_id

    # issue 18 (QBO posting): one statement for a batch's entries; a put per document cost a commit each
    def put_many(self, kind: str, entries: list[tuple[str, str, str | None]]) -> None:
        """`put` for many (name, ref_id, version) entries of one kind at once (the last of a repeated name wins)."""
        latest = {name: (ref_id, version) for name, ref_id, version in entries}
        if not latest:
            return
        names = list(latest)
        with self.db.lock:
            self.db.execute("INSERT INTO refs (destination, kind, name, ref_id, version, updated_at) "
                            "SELECT ?, ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), now() "
                            "ON CONFLICT (destination, kind, name) DO UPDATE SET ref_id = excluded.ref_id, "
                            "version = excluded.version, updated_at = excluded.updated_at",
                            [self.destination, kind, names, [latest[n][0] for n in names],
                             [latest[n][1] for n in names]])
        for name in names:
            self._memo[(kind, name)] = latest[name][0]

    def delete(self, kind: str, name: str) -> bool:
        """Forget an entry (the remote object was deleted or merged, a request was answered); True if it existed."""
        self._memo.pop((kind, name), None)
        with self.db.lock:
            found = self.db.fetchone("DELETE FROM refs WHERE destination = ? AND kind = ? AND name = ? RETURNING 1",
                                     [self.destination, kind, name])
        return found is not None

    def annotate(self, kind: str, name: str, note: str | None) -> bool:
        """Attach a short note to an existing entry (None clears it); False when there is no such entry."""
        with self.db.lock:
            found = self.db.fetchone("UPDATE refs SET note = ? WHERE destination = ? AND kind = ? AND name = ? "
                                     "RETURNING 1", [note, self.destination, kind, name])
        return found is not None

    def note(self, kind: str, name: str) -> str | None:
        """The note `annotate` left on an entry, if any."""
        with self.db.lock:
            row = self.db.fetchone("SELECT note FROM refs WHERE destination = ? AND kind = ? AND name = ?",
                                   [self.destination, kind, name])
        return row[0] if row else None

    def count(self) -> int:
        return int(self.db.fetchone("SELECT count(*) FROM refs WHERE destination = ?", [self.destination])[0])


class Credentials:
    """Rotated secrets (refresh tokens), encrypted with Fernet.

    The key comes from LEDGERLINK_SECRET_KEY, else a key file beside the state file, created 0600.
    """

    def __init__(self, db: Database, key_file: Path | None):
        self.db = db
        self._fernet = Fernet(self._key(key_file))

    @staticmethod
    def _key(key_file: Path | None) -> bytes:
        return secret_key(key_file)  # checked: a key of the wrong shape is a ConfigError saying how to make one

    def save(self, name: str, value: str) -> None:
        register_secret(value)
        token = self._fernet.encrypt(value.encode()).decode()
        with self.db.lock:
            self.db.execute("INSERT OR REPLACE INTO credentials VALUES (?, ?, now())", [name, token])

    def load(self, name: str) -> str | None:
        with self.db.lock:
            row = self.db.fetchone("SELECT value_encrypted FROM credentials WHERE name = ?", [name])
        if not row:
            return None
        try:
            value = self._fernet.decrypt(row[0].encode()).decode()
        except InvalidToken:
            raise ConfigError(f"stored credential {name!r} cannot be decrypted with this key",
                              hint="set LEDGERLINK_SECRET_KEY to the key it was stored with, "
                                   "or delete the credential and re-authorise") from None
        register_secret(value)
        return value
