"""Where a container runtime can run here (`docker info` answers), build the image and run its entry point the
way compose does: read-only, as its own user, healthy, JSON logs. Skipped where none can (no daemon)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import uuid

import pytest

pytestmark = pytest.mark.slow


def _runtime() -> list[str]:
    """The container command to use: LEDGERLINK_TEST_CONTAINER (e.g. `podman --runtime runc`), else the first
    of docker and podman whose `info` answers; skipped when none does."""
    configured = os.environ.get("LEDGERLINK_TEST_CONTAINER")
    candidates = [shlex.split(configured)] if configured else \
        [[exe] for exe in (shutil.which("docker"), shutil.which("podman")) if exe]
    if not candidates:
        pytest.skip("no docker or podman client")
    reasons = []
    for command in candidates:
        try:
            info = subprocess.run([*command, "info"], capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            reasons.append(f"{command[0]} info did not answer")
            continue
        if info.returncode == 0:
            return command
        reasons.append(f"{command[0]} info exited {info.returncode}")
    pytest.skip(f"no container runtime answers here ({'; '.join(reasons)})")


def _base_image(command: list[str]) -> str:
    """The Python base (LEDGERLINK_TEST_PYTHON_IMAGE, else the Dockerfile's default), present or pullable;
    skipped when it is neither (no registry can be reached and no local base was made)."""
    base = os.environ.get("LEDGERLINK_TEST_PYTHON_IMAGE", "python:3.12-slim")
    if subprocess.run([*command, "image", "inspect", base], capture_output=True, timeout=60).returncode == 0:
        return base
    pulled = subprocess.run([*command, "pull", base], capture_output=True, text=True, timeout=600)
    if pulled.returncode != 0:
        pytest.skip(f"the base image {base} is not here and cannot be pulled: "
                    f"{(pulled.stderr.strip().splitlines() or ['?'])[-1][:200]}")
    return base


def test_the_image_builds_runs_read_only_as_ledgerlink_and_reports_healthy(repo_root):
    docker = _runtime()
    base = _base_image(docker)
    # LEDGERLINK_TEST_CONTAINER_ARGS: what this host's runtime needs on build and run (e.g. lower --ulimit values)
    extra = shlex.split(os.environ.get("LEDGERLINK_TEST_CONTAINER_ARGS", ""))
    tag = f"ledgerlink-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run([*docker, "build", *extra, "--build-arg", f"PYTHON_IMAGE={base}", "-t", tag,
                            str(repo_root)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        volume = f"ll-test-{uuid.uuid4().hex[:8]}"
        run = [*docker, "run", *extra, "--rm", "--read-only", "-v", f"{volume}:/data", tag]
        whoami = subprocess.run([*run[:-1], "--entrypoint", "id", tag, "-u"], capture_output=True, text=True,
                                timeout=300)
        assert whoami.returncode == 0 and whoami.stdout.strip() != "0"
        health = subprocess.run([*run, "health", "--json"], capture_output=True, text=True, timeout=300)
        assert health.returncode == 0, health.stderr
        assert json.loads(health.stdout.splitlines()[-1])["ok"] is True
        plugins = subprocess.run([*run, "plugins"], capture_output=True, text=True, timeout=300)
        assert plugins.returncode == 0 and "amazon_sp" in plugins.stdout
        # compose's workers run `fleet worker` from this image: the fleet extra is in it
        fleet = subprocess.run([*run[:-1], "--entrypoint", "python3", tag, "-c", "import dbos, psycopg"],
                               capture_output=True, text=True, timeout=300)
        assert fleet.returncode == 0, fleet.stderr
    finally:
        subprocess.run([*docker, "rmi", "-f", tag], capture_output=True, timeout=300)
        subprocess.run([*docker, "volume", "rm", "-f", volume], capture_output=True, timeout=300)
