"""The tools the tests drive web apps with load cleanly: a warning every test run prints is one nobody reads."""

from __future__ import annotations

import subprocess
import sys


def test_starlettes_test_client_loads_without_a_deprecation_warning():
    """The console, connect, alerts and webhook tests drive their apps through starlette's TestClient, which runs
    on httpx2 (the `test` extra installs it); on plain httpx, importing it warns that this use is deprecated."""
    run = subprocess.run([sys.executable, "-W", "error", "-c", "import starlette.testclient"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
