"""Set-ups the fault tests share: the shipped Amazon → QuickBooks Online pipeline against both sandboxes on
loopback (optionally with QuickBooks' side behind a fault proxy), and what to count afterwards."""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
from click.testing import CliRunner

from ledgerlink.cli import cli
from ledgerlink.pipeline import Pipeline, load_pipeline
from ledgerlink.plugins import host
from ledgerlink.sandbox import running
from ledgerlink.store import Store

REALM = "9341455000000000"


@contextlib.contextmanager
def amazon_to_qbo(tmp_path: Path, orders: int = 12, *,
                  qbo_timeout_s: float | None = None, sandboxes_up: Callable[[str, str], Any] | None = None
                  ) -> Iterator[dict[str, Any]]:
    """Both sandboxes running and the shipped amazon-to-qbo.yaml pointed at them. `sandboxes_up(amazon_url,
    qbo_url)` is called once they run and may return a context manager yielding (amazon_front, qbo_front):
    the URLs the pipeline uses instead (proxies). `qbo_timeout_s` sets the QuickBooks client's timeout."""
    sandboxes = host().sandboxes()
    books = sandboxes["qbo"](time_scale=1000)
    with contextlib.ExitStack() as stack:
        amazon = stack.enter_context(running(sandboxes["amazon_sp"](orders=orders, time_scale=1000)))
        qbo = stack.enter_context(running(books))
        amazon_front, front = (stack.enter_context(sandboxes_up(amazon, qbo)) if sandboxes_up is not None
                               else (amazon, qbo))
        tmp_path.mkdir(parents=True, exist_ok=True)
        pipeline_file = tmp_path / "amazon-to-qbo.yaml"
        text = resources.files("ledgerlink").joinpath("data", "amazon-to-qbo.yaml").read_text()
        if qbo_timeout_s is not None:
            text = text.replace("    batch_requests_per_minute:", f"    timeout_s: {qbo_timeout_s}\n"
                                                                   "    batch_requests_per_minute:", 1)
        pipeline_file.write_text(text)
        env = {"LEDGERLINK_STATE": str(tmp_path / "state.duckdb"), "AMAZON_SP_ENDPOINT": amazon_front,
               "AMAZON_LWA_ENDPOINT": f"{amazon_front}/auth/o2/token", "QBO_BASE_URL": front,
               "QBO_TOKEN_URL": f"{qbo}/oauth2/v1/tokens/bearer", "QBO_REQUESTS_PER_MINUTE": "500000",
               "QBO_BATCH_REQUESTS_PER_MINUTE": "40000"}
        yield {"amazon": amazon, "qbo": qbo, "books": books, "front": front, "file": pipeline_file, "env": env,
               "state": tmp_path / "state.duckdb"}


def pipeline(world: dict[str, Any]) -> Pipeline:
    return load_pipeline(world["file"], env=world["env"])


def inject(qbo_url: str, **fault: Any) -> None:
    httpx.post(f"{qbo_url}/_sandbox/faults", json=fault).raise_for_status()


def clear_faults(qbo_url: str) -> None:
    httpx.delete(f"{qbo_url}/_sandbox/faults").raise_for_status()


def sandbox_stats(qbo_url: str) -> dict[str, Any]:
    return httpx.get(f"{qbo_url}/_sandbox/stats").json()


def receipts_in_qbo(sandbox: Any) -> list[str]:
    """The DocNumbers of every SalesReceipt in the sandbox company (duplicates kept)."""
    return sorted(str(o.get("DocNumber")) for o in sandbox.company.entities["SalesReceipt"].values())


def outbox_and_letters(state: Path) -> tuple[dict[str, dict[str, int]], int]:
    store = Store(state)
    try:
        return store.outbox.counts(), store.dead_letters.count_open()
    finally:
        store.close()


def dlq_retry_all(state: Path) -> str:
    result = CliRunner().invoke(cli, ["dlq", "retry", str(state), "--all"])
    assert result.exit_code == 0, result.output
    return result.output
