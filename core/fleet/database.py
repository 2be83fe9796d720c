"""The fleet's Postgres: one database holds DBOS's system tables and ledgerlink's own (tenants, pipelines, runs,
leases, account limits). Every fleet command and worker talks to it through this module."""

from __future__ import annotations

import contextlib
import threading
from importlib import resources
from typing import Any, Iterator, Sequence

from ..errors import LedgerlinkError

__all__ = ["FleetDatabase", "FleetUnavailable", "fleet_database"]


class FleetUnavailable(LedgerlinkError):
    """The fleet's Postgres cannot be reached (down, wrong URL, wrong password): nothing was changed."""


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the fleet extra is not installed
        raise LedgerlinkError("the fleet needs Postgres drivers and DBOS: pip install 'ledgerlink[fleet]'") from None
    return psycopg


def _where(url: str) -> str:
    """The URL without its password, for error messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{parts.username + '@' if parts.username else ''}{host}" \
           f"{':' + str(parts.port) if parts.port else ''}{parts.path}"


class FleetDatabase:
    """Autocommit connections to the fleet's Postgres, one kept per thread (a request's rate-limit check must not
    pay for a new connection); a connection that broke is dropped and the next use connects again."""

    def __init__(self, url: str, *, connect_timeout: float = 5.0):
        if not url.startswith(("postgresql://", "postgres://")):
            raise LedgerlinkError(f"the fleet database URL must start with postgresql:// (got {_where(url)!r})",
                                  hint="e.g. postgresql://ledgerlink:ledgerlink@127.0.0.1:5432/ledgerlink_fleet")
        self.url = url
        self.connect_timeout = connect_timeout
        self._local = threading.local()

    @property
    def where(self) -> str:
        return _where(self.url)

    def _open(self) -> Any:
        psycopg = _driver()
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)),
                                   options="-c search_path=ledgerlink_fleet,public")
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FleetUnavailable(f"cannot reach the fleet database at {self.where}: {first}",
                                   hint="start Postgres (`pg_ctlcluster 15 main start`) or check --database-url / "
                                        "LEDGERLINK_FLEET_DATABASE_URL") from None
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """This thread's connection (reentrant use is not supported: one statement or transaction at a time)."""
        psycopg = _driver()
        conn = self._open()
        try:
            yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:  # the server went away mid-use
            self.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FleetUnavailable(f"lost the fleet database at {self.where}: {first}",
                                   hint="Postgres restarted or the network dropped: the work is retried") from None

    def close(self) -> None:
        """Close this thread's connection (the next use opens another)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in its own connection; the rows it returned (none: [])."""
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def create_schema(self) -> None:
        """The fleet's tables (idempotent: `fleet init` may run again after an upgrade)."""
        text = resources.files("ledgerlink.fleet").joinpath("schema.sql").read_text()
        with self.connect() as conn:
            conn.execute(text)

    def schema_ready(self) -> bool:
        return bool(self.execute("SELECT to_regclass('ledgerlink_fleet.tenants') IS NOT NULL")[0][0])


def fleet_database(url: str | None) -> FleetDatabase:
    """The database named by `url`, else by LEDGERLINK_FLEET_DATABASE_URL: a clear error when neither is set."""
    import os

    url = url or os.environ.get("LEDGERLINK_FLEET_DATABASE_URL")
    if not url:
        raise LedgerlinkError("no fleet database: pass --database-url or set LEDGERLINK_FLEET_DATABASE_URL",
                              hint="create one with `ledgerlink fleet init --database-url postgresql://…`")
    return FleetDatabase(url)
