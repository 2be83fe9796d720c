"""Helpers for the fleet tests: the test Postgres, tenants' workspaces pointed at the sandboxes, worker processes,
and what the QBO sandbox companies hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox_helpers import shipped

__all__ = ["ADMIN_URL", "database_url", "postgres_problem", "write_workspace", "WorkerPool", "lease_overlaps"]

#: the role .ci/run creates (and docs/concepts/fleet.md tells developers to create)
ADMIN_URL = os.environ.get("LEDGERLINK_TEST_POSTGRES_URL",
                           "postgresql://ledgerlink:ledgerlink@127.0.0.1:5432/postgres")
PIPELINE = "bigcommerce-two-stores-a-to-qbo.yaml"


def database_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def postgres_problem() -> str | None:
    """None when the test Postgres answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def write_workspace(root: Path, tenant: str, *, bc: str, store: str, qbo: str, realm: str,
                    requests_per_minute: int = 500000, refresh_token: str | None = None,
                    broken_file: bool = False) -> Path:
    """A tenant's folder: the shipped one-store-of-many pipeline and a tenant.env pointing it at the sandboxes."""
    folder = root / tenant
    folder.mkdir(parents=True)
    text = shipped(PIPELINE)
    if broken_file:
        raw = yaml.safe_load(text)
        raw["destination"]["optionz"] = raw["destination"].pop("options")
        text = yaml.safe_dump(raw)
    (folder / PIPELINE).write_text(text)
    env = {"BIGCOMMERCE_BASE_URL": bc, "BIGCOMMERCE_STORE_HASH_A": store, "BIGCOMMERCE_REQUESTS_PER_SECOND": "1000",
           "QBO_BASE_URL": qbo, "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REALM_ID": realm,
           "QBO_REQUESTS_PER_MINUTE": str(requests_per_minute), "QBO_BATCH_REQUESTS_PER_MINUTE": "500000"}
    if refresh_token:
        env["QBO_REFRESH_TOKEN"] = refresh_token
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


@dataclass
class WorkerPool:
    """`ledgerlink fleet worker` processes on one fleet database, each stopped (or killed) by the test."""

    url: str
    log_dir: Path
    lease_seconds: float = 5.0
    concurrency: int = 3
    #: more `fleet worker` options, e.g. ("--wait-in-run-seconds", "1")
    extra_args: tuple[str, ...] = ()
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, worker_id: str, url: str | None = None, max_seconds: float = 300) -> subprocess.Popen[bytes]:
        env = {**os.environ, "LEDGERLINK_RETRY_BASE_DELAY": "0.01", "LEDGERLINK_RETRY_MAX_DELAY": "0.05"}
        log = open(self.log_dir / f"{worker_id}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledgerlink", "fleet", "worker", "--database-url", url or self.url,
             "--worker-id", worker_id, "--concurrency", str(self.concurrency),
             "--lease-seconds", str(self.lease_seconds), "--max-seconds", str(max_seconds), *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs[worker_id] = proc
        return proc

    def pause(self, worker_id: str) -> None:
        """Freeze a worker (SIGSTOP) so what the database says it is doing cannot change while the test looks."""
        self.procs[worker_id].send_signal(signal.SIGSTOP)

    def resume(self, worker_id: str) -> None:
        self.procs[worker_id].send_signal(signal.SIGCONT)

    def kill(self, worker_id: str) -> None:
        proc = self.procs[worker_id]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def log(self, worker_id: str) -> str:
        return (self.log_dir / f"{worker_id}.log").read_text(errors="replace")


def lease_overlaps(db: Any) -> list[tuple[Any, ...]]:
    """Pairs of lease takings of one pipeline by two holders whose valid times overlapped (should be none)."""
    return db.execute(
        "SELECT a.tenant, a.pipeline, a.holder, b.holder, a.acquired_at, a.valid_until, b.acquired_at "
        "FROM lease_log a JOIN lease_log b ON a.tenant = b.tenant AND a.pipeline = b.pipeline AND a.id < b.id "
        "AND a.holder <> b.holder AND b.acquired_at < a.valid_until AND a.acquired_at < b.valid_until")


def company_documents(sandbox: Any) -> list[dict[str, Any]]:
    """Every sales receipt and invoice in a QBO sandbox company, read straight from its store."""
    company = sandbox.company
    with company._lock:
        return [dict(o) for entity in ("SalesReceipt", "Invoice") for o in company.entities[entity].values()]


def document_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The ledgerlink key on the first line of each document's PrivateNote."""
    return [str(r.get("PrivateNote") or "").split("\n", 1)[0].removeprefix("ledgerlink ") for r in rows]


# -- a Postgres of the test's own, to restart mid-run without disturbing other tests --------------------------------

@dataclass
class PrivatePostgres:
    """A throw-away cluster (Debian's initdb/pg_ctl) on a free loopback port, trusting local connections."""

    folder: Path
    port: int
    bin: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql://ledgerlink@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://ledgerlink@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # Postgres refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def ctl(self, action: str) -> None:
        opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", opts, "-l", str(self.folder / "log"), "-w",
                  "-m", "fast", action)


def private_postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def start_private_postgres() -> PrivatePostgres:
    import shutil
    import tempfile

    from ledgerlink.sandbox import free_port

    bin_dir = private_postgres_bin()
    if bin_dir is None:
        raise RuntimeError("Debian's postgresql is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    folder = Path(tempfile.mkdtemp(prefix="ll-fleet-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pg = PrivatePostgres(folder, free_port(), bin_dir)
    pg._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "ledgerlink", "--no-sync")
    pg.ctl("start")
    return pg


def stop_private_postgres(pg: PrivatePostgres) -> None:
    import shutil

    try:
        pg.ctl("stop")
    finally:
        shutil.rmtree(pg.folder, ignore_errors=True)
