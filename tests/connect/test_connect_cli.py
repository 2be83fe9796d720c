"""`ledgerlink connect PIPELINE` against a real `ledgerlink serve` subprocess: the consent URL printed, the
address the browser came back to pasted, the company connected, and the pipeline's next run posting with it;
without a serve holding the pipeline, a clear error and exit 2."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "console"))

from connect_helpers import qbo_pipeline  # noqa: E402
from ledgerlink import served_client  # noqa: E402
from ledgerlink.cli import cli  # noqa: E402
from sandbox_helpers import sandbox_running, wait_for  # noqa: E402

pytestmark = pytest.mark.slow
LEDGERLINK = str(Path(sys.executable).parent / "ledgerlink")


def _free_port() -> int:
    from console_browser import free_port as free  # the console browser tests' helper
    return free()


def test_connect_from_a_terminal_through_serve(tmp_path: Path) -> None:
    with sandbox_running("qbo") as (qbo_url, qbo), sandbox_running("amazon_sp", orders=2) as (amazon_url, _):
        pipeline = qbo_pipeline(tmp_path, "shop", qbo_url, amazon_url)
        idle = CliRunner().invoke(cli, ["connect", str(pipeline)])
        assert idle.exit_code == 2 and "no `ledgerlink serve` holds" in idle.output

        port = _free_port()
        serve = subprocess.Popen([LEDGERLINK, "serve", "--workspace", ".", "--port", str(port), "--every", "0"],
                                 cwd=tmp_path, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_for(lambda: serve.poll() is None and _up(f"{base}/healthz"), 60)
            command = subprocess.Popen([LEDGERLINK, "connect", str(pipeline)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            url = command.stdout.readline().strip()
            assert url.startswith(f"{qbo_url}/connect/oauth2?") and f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}" in url
            # the browser, not signed in to the console: the callback page shows the address to paste
            with httpx.Client(timeout=30) as browser:
                page = browser.get(url)
                form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
                back = browser.post(f"{qbo_url}/connect/oauth2", data={**form, "decision": "allow"}).headers["location"]
                shown = browser.get(back)
            assert shown.status_code == 401 and "paste this page" in shown.text
            out, err = command.communicate(back + "\n", timeout=60)
            assert command.returncode == 0, err
            assert "QuickBooks company 9341455000000000 is connected; pipelines using it: shop" in out

            assert qbo.tokens.exchanges == 1
            report = served_client(str(pipeline)).run_now(wait_s=90)  # the next run posts with the stored token
            assert report["status"] == "succeeded", report
            assert qbo.stats["saved.SalesReceipt"] == 2
        finally:
            serve.send_signal(signal.SIGINT)
            try:
                serve.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.communicate(timeout=10)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
