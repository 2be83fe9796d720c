"""What the console's real-browser tests share (a module name unique in the suite): a real `ledgerlink serve
--workspace` subprocess on a free loopback port, a settlements state file seeded as a sync leaves it, and signing
in through the page. The `shots` and `chromium` fixtures live in this folder's conftest."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
from click.testing import CliRunner

from ledgerlink.cli import cli
from sandbox_helpers import wait_for

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a long enough password"
#: the seeded settlements: one planned (two monthly journals), one on hold (its total disagrees with its rows)
SETTLEMENT = "24288684721"
HELD = "30000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.1)
        return False


def add_user(ws: Path, name: str = "betty", role: str = "bookkeeper") -> None:
    added = CliRunner().invoke(cli, ["users", "add", name, "--role", role, "--workspace", str(ws)],
                               input=f"{PASSWORD}\n")
    assert added.exit_code == 0, added.output


def payout(sid: str, total: str | None = None, currency: str = "USD") -> Any:
    """A two-month payout (orders either side of 1 September, a storage fee) as the posting engine reads one."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlements"))
    from settlement_helpers import line, order_rows, settlement

    return settlement([*order_rows(1, "111-1", "20.00", posted="2025-08-30", currency=currency),
                       line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00",
                            posted="2025-08-31", currency=currency),
                       *order_rows(10, "111-2", "50.00", posted="2025-09-02", currency=currency)],
                      start="2025-08-25", end="2025-09-08", sid=sid, total=total, currency=currency)


def seed_settlements(state: Path, pipeline: str = "amazon-settlements-to-qbo",
                     planned: list[tuple[str, dict[str, Any]]] | None = None, held: str | None = HELD) -> None:
    """A settlements pipeline's state file as a sync leaves it: each `(settlement id, settlements options)` in
    `planned` planned by the QuickBooks Online destination, and `held` on hold because the report's total
    disagrees with its rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlements"))
    import pytest
    from settlement_helpers import PlanCtx

    from ledgerlink.settlements import SettlementOnHold
    from ledgerlink.store import Store
    from ledgerlink_qbo.destination import QuickBooksOnlineDestination

    state.parent.mkdir(parents=True, exist_ok=True)
    store = Store(state)
    run = store.runs.start(pipeline, False)
    for sid, options in planned if planned is not None else [(SETTLEMENT, {})]:
        currency = "CAD" if options.get("exchange_rates", {}).get("CAD") else "USD"
        writes = QuickBooksOnlineDestination().plan(payout(sid, currency=currency),
                                                    PlanCtx(options={"settlements": options} if options else {}))
        store.outbox.add("qbo", writes, run)
    if held:
        bad = payout(held, total="1.00")
        with pytest.raises(SettlementOnHold) as info:
            QuickBooksOnlineDestination().plan(bad, PlanCtx())
        store.dead_letters.add(stage="plan", stream="settlements", record_key=bad.natural_key, record=None,
                               error=info.value, run_id=run)
    store.runs.finish(run, "succeeded", {"read_total": 2, "plan_dead_letters": 1 if held else 0}, {})
    store.close()


@contextlib.contextmanager
def serving(ws: Path, env: dict[str, str]) -> Iterator[str]:
    """`ledgerlink serve --workspace .` in `ws` (no schedule: syncs run when asked), its base URL while it runs;
    stopped with Ctrl-C (SIGINT) as a person would."""
    port = free_port()
    serve = subprocess.Popen([str(Path(sys.executable).parent / "ledgerlink"), "serve", "--workspace", ".",
                              "--port", str(port), "--every", "0"], cwd=ws, env={**os.environ, **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: serve.poll() is None and _answers(f"http://127.0.0.1:{port}/healthz"), 60), \
            serve.stderr.read() if serve.poll() is not None else "serve did not answer"
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.communicate(timeout=10)


def sign_in(page: Any, base: str, name: str = "betty") -> dict[str, str]:
    """Sign in through the page; the session's cookies (for checking the API beside the browser)."""
    page.goto(f"{base}/signin")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Overview")
    return {c["name"]: c["value"] for c in page.context.cookies()}


def run_finished(base: str, cookies: dict[str, str], pipeline: str, runs_before: int) -> bool:
    """Whether the pipeline has finished a run since it had `runs_before` of them."""
    runs = httpx.get(f"{base}/api/v1/pipelines/{pipeline}/runs?limit=100", cookies=cookies).json()
    return len(runs) > runs_before and runs[0]["status"] not in ("running", None)


#: a real Amazon settlement report (Flat File V2, crossing a month end) the settlements pipeline reads from a file
SETTLEMENT_FILE = (Path(__file__).parents[1] / "amazon_sp" / "settlement_files"
                   / "v2_month_crossing_USD_19837462011.txt")
SETTLEMENT_FILE_ID = "19837462011"


def settlements_pipeline(folder: Path, qbo: str, *, name: str = "settlements", state: Path | None = None,
                         accounts: dict[str, str] | None = None, report: Path = SETTLEMENT_FILE,
                         options: dict[str, Any] | None = None) -> Path:
    """A settlements pipeline reading `report` (SETTLEMENT_FILE unless given; no Amazon calls) into the QuickBooks Online sandbox at
    `qbo`, with the account map `accounts` (role → account name; the defaults when None) and further
    settlement `options`."""
    import yaml

    from ledgerlink.settlements import BALANCE_SHEET_ROLES, Role, default_account_map

    income = {Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.REIMBURSEMENTS}
    chart: dict[str, dict[str, str]] = {}
    for role, account in default_account_map().accounts.items():
        kind = ("Bank" if role == Role.BANK else "Other Current Liability" if role in BALANCE_SHEET_ROLES
                else "Income" if role in income else "Expense")
        chart.setdefault(account.name, {"AccountType": kind})
    chart["Amazon Fulfilment Costs"] = {"AccountType": "Expense"}
    mapped = accounts or {role.value: acc.name for role, acc in default_account_map().accounts.items()}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "name": name, "state": str(state or folder / ".ledgerlink" / f"{name}.duckdb"),
        "source": {"connector": "amazon_sp", "streams": ["settlements"], "config": {
            "client_id": "c", "client_secret": "s", "refresh_token": "Atzr|r", "marketplace_ids": ["ATVPDKIKX0DER"],
            "start_date": "2026-01-01T00:00:00Z", "settlement_files": [str(report)],
            "settlement_reports": False}},
        "destination": {"connector": "qbo", "config": {
            "base_url": qbo, "token_url": f"{qbo}/oauth2/v1/tokens/bearer", "realm_id": "9341455000000000",
            "client_id": "sandbox-qbo-client", "client_secret": "sandbox-qbo-client-secret",
            "refresh_token": "sandbox-qbo-refresh-token", "requests_per_minute": 500000,
            "batch_requests_per_minute": 40000, "create_missing_accounts": True, "accounts": chart},
            "options": {"settlements": {"mode": "summary", "accounts": {"accounts": mapped}, **(options or {})}}}}))
    return path
