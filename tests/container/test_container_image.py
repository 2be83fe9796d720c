"""Where a container runtime can run here (`docker info` answers), build the image and run its entry point the
way compose does: read-only, as its own user, healthy, JSON logs. Skipped where none can (no daemon)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

pytestmark = pytest.mark.slow


def _docker() -> str:
    docker = shutil.which("docker") or shutil.which("podman")
    if docker is None:
        pytest.skip("no docker or podman client")
    try:
        info = subprocess.run([docker, "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip(f"{docker} info did not answer")
    if info.returncode != 0:
        pytest.skip(f"no container runtime answers here ({docker} info exited {info.returncode})")
    return docker


def test_the_image_builds_runs_read_only_as_ledgerlink_and_reports_healthy(repo_root):
    docker = _docker()
    tag = f"ledgerlink-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run([docker, "build", "-t", tag, str(repo_root)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        volume = f"ll-test-{uuid.uuid4().hex[:8]}"
        run = [docker, "run", "--rm", "--read-only", "-v", f"{volume}:/data", tag]
        whoami = subprocess.run([*run[:-1], "--entrypoint", "id", tag, "-u"], capture_output=True, text=True,
                                timeout=300)
        assert whoami.returncode == 0 and whoami.stdout.strip() != "0"
        health = subprocess.run([*run, "health", "--json"], capture_output=True, text=True, timeout=300)
        assert health.returncode == 0, health.stderr
        assert json.loads(health.stdout.splitlines()[-1])["ok"] is True
        plugins = subprocess.run([*run, "plugins"], capture_output=True, text=True, timeout=300)
        assert plugins.returncode == 0 and "amazon_sp" in plugins.stdout
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=300)
        subprocess.run([docker, "volume", "rm", "-f", volume], capture_output=True, timeout=300)
