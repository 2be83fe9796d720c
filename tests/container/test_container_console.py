"""The console as the compose file runs it, without a container runtime: `ledgerlink serve` configured by
environment only (workspace, host, port, schedule) in the read-only box as an unprivileged user, logging JSON
lines on stdout; the HEALTHCHECK's `ledgerlink health` passes against it; SIGTERM shuts it down cleanly."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from container_contract import NOBODY, Box, Running, json_lines, run_contract  # noqa: E402
from sandbox_helpers import shipped  # noqa: E402

from ledgerlink.sandbox import free_port  # noqa: E402

pytestmark = pytest.mark.slow


def test_serve_from_the_environment_is_healthy_logs_json_and_stops_on_sigterm():
    box = Box.make()
    try:
        workspace = box.data / "workspace"
        workspace.mkdir()
        (workspace / "amazon-to-qbo.yaml").write_text(shipped("amazon-to-qbo.yaml"))
        import os
        if os.geteuid() == 0:
            for path in (workspace, workspace / "amazon-to-qbo.yaml"):
                os.chown(path, NOBODY, NOBODY)
        box.seal()
        port = free_port()
        env = {"LEDGERLINK_WORKSPACE": str(workspace), "LEDGERLINK_PORT": str(port), "LEDGERLINK_EVERY": "0",
               "LEDGERLINK_HEALTH_URL": f"http://127.0.0.1:{port}"}
        console = Running(box, ["serve"], env)
        try:
            started = console.wait_for_line("ledgerlink serve: 1 pipeline(s)", seconds=120)
            assert started["logger"] == "ledgerlink.serve" and started["level"] == "INFO"
            code, health = run_contract(box, ["health"], env, seconds=120)
            assert code == 0, (health.lines, health.stderr)
            assert any(line.startswith("ok  console: http://127.0.0.1:") for line in health.lines)
        finally:
            console.proc.send_signal(signal.SIGTERM)
        assert console.finish(seconds=120) == 143, console.stderr  # 128 + SIGTERM, after a clean shutdown
        lines = json_lines(console.lines)  # every line the console wrote on stdout is a JSON log line
        assert any(e["message"].startswith("ledgerlink serve stopped (SIGTERM)") for e in lines)
        assert (workspace / ".ledgerlink").is_dir()  # the console's own files are in the volume
        code, down = run_contract(box, ["health"], env, seconds=120)
        assert code == 1 and any(line.startswith("FAILED  console:") for line in down.lines)
    finally:
        box.remove()
