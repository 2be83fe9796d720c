"""Start a built-in sandbox in its own process, so a benchmark's client and server each get a core."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from ledgerlink.sandbox import free_port


def start_sandbox(name: str, *args: str, wait_s: float = 120) -> tuple[subprocess.Popen[bytes], str]:
    """`ledgerlink sandbox NAME --port P ARGS…`; returns the process and its URL once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ledgerlink", "sandbox", name, "--port", str(port), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"sandbox exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            httpx.get(f"{url}/_sandbox/stats", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"sandbox did not answer within {wait_s:.0f} s")
