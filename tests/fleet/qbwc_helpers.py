"""Helpers for the fleet's Web Connector tests: a tenant whose BigCommerce store posts into a QuickBooks Desktop
company file, the QuickBooks Desktop simulator (a company file and the Web Connector that polls for it), and the
fleet's endpoint served on loopback by a console or, to be killed mid-session, by a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from sandbox_helpers import host, shipped

__all__ = ["PIPELINE", "qbd_workspace", "simulator", "endpoint", "EndpointProcess", "receipt_keys", "document_keys"]

PIPELINE = "bigcommerce-to-qbd"


def qbd_workspace(root: Path, tenant: str, *, bc: str, store: str = "abc123", username: str, password: str,
                  company_file: str = "") -> Path:
    """A tenant's folder: the shipped bigcommerce-to-qbd pipeline, its Web Connector user and password hash (and
    the store) in tenant.env."""
    from ledgerlink_qb_desktop.passwords import hash_password

    folder = root / tenant
    folder.mkdir(parents=True)
    (folder / f"{PIPELINE}.yaml").write_text(shipped(f"{PIPELINE}.yaml"))
    env = {"BIGCOMMERCE_BASE_URL": bc, "BIGCOMMERCE_STORE_HASH": store, "QBD_USERNAME": username,
           # a cheap hash keeps the tests fast; the check is the same
           "QBD_PASSWORD_HASH": hash_password(password, iterations=1000), "QBD_COMPANY_FILE": company_file}
    (folder / "tenant.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return folder


def simulator(xsd: Path, *, username: str, password: str, company_file: str = "") -> Any:
    """A QuickBooks Desktop company file (validating every request against Intuit's XSD) and its Web Connector."""
    return host().sandboxes()["qb_desktop"](xsd=str(xsd), poll_every_s=0, username=username, password=password,
                                            company_file=company_file)


def endpoint(base: str, tenant: str, pipeline: str = PIPELINE) -> str:
    return f"{base}/fleet/qbwc/{tenant}/{pipeline}/"


def receipt_keys(company: Any) -> list[str]:
    """The ledgerlink key in each sales receipt's Memo, in the simulated company file."""
    return [str(r.get("Memo") or "").split("\n", 1)[0] for r in company.txns.get("SalesReceipt", [])]


def document_keys(company: Any) -> list[str]:
    """The ledgerlink key in the Memo of every transaction of the simulated company file (receipts, invoices…)."""
    return [str(r.get("Memo") or "").split("\n", 1)[0] for rows in company.txns.values() for r in rows
            if str(r.get("Memo") or "").startswith("ledgerlink ")]


_SERVE = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from ledgerlink.fleet import FleetDatabase
from ledgerlink.fleet.sessions import FleetSessions
from ledgerlink.plugins import host
url, port, ttl = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sessions = FleetSessions(FleetDatabase(url), host(), lease_ttl_s=ttl)
app = Starlette(routes=[Route("/fleet/{service}/{tenant}/{pipeline}/", sessions, methods=["GET", "POST"])])
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
"""


class EndpointProcess:
    """The fleet's session endpoint in a process of its own (so a test can kill it mid-session)."""

    def __init__(self, url: str, log: Path, lease_ttl_s: float = 2.0):
        from ledgerlink.sandbox import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVE, url, str(self.port), str(lease_ttl_s)],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the endpoint process stopped: {log.read_text(errors='replace')[-2000:]}")
            try:
                httpx.get(self.base + "/", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the endpoint process did not start within 60 s")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._log.close()
