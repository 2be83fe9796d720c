"""Running `ledgerlink` as the container runs it, without a container runtime: the same entry point in a
subprocess with a read-only root file system (a private mount namespace where `/` and `/dev/shm` are remounted
read-only and only the data folder stays writable), as an unprivileged user (`nobody`, through `setpriv`), with
an unwritable home and working directory, configured by environment variables only.

Where this process is not root (no mount namespace, no user switch), the same command runs with the home and
working directories made unwritable instead; `ISOLATION` says which applies.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the user the container's `ledgerlink` user stands for here
NOBODY = 65534

#: remount `/` and `/dev/shm` read-only in a private mount namespace, keep the data folder ($1) writable, then
#: become `nobody` and run the command ("$@" after the data folder)
_READ_ONLY_ROOT = r"""
set -e
data="$1"; shift
mount --rbind / / && mount -o remount,bind,ro /
mount -o remount,ro /dev/shm 2>/dev/null || mount -t tmpfs -o ro tmpfs /dev/shm
mount --bind "$data" "$data" && mount -o remount,bind,rw "$data"
cd "$LL_TEST_CWD"
exec setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
"""


def _can_isolate() -> bool:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            "mount --rbind / / && mount -o remount,bind,ro / && ! touch /.ll-probe 2>/dev/null"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


#: "read-only root, user nobody" or "unwritable home and cwd" (not root here)
ISOLATION = "read-only root, user nobody" if _can_isolate() else "unwritable home and cwd"


@dataclass
class Box:
    """The folders of one contract run: a read-only config folder (the mounted pipeline files, also the working
    directory), an unwritable home, and the data folder (the container's one volume)."""

    root: Path
    config: Path = field(init=False)
    home: Path = field(init=False)
    data: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config, self.home, self.data = self.root / "config", self.root / "home", self.root / "data"
        for folder in (self.config, self.home, self.data):
            folder.mkdir()
        if os.geteuid() == 0:
            os.chown(self.data, NOBODY, NOBODY)
        self.data.chmod(0o700)

    def seal(self) -> None:
        """The config folder and the home folder become unwritable (their files stay readable)."""
        for folder in (self.config, self.home):
            for path in folder.rglob("*"):
                path.chmod(0o444 if path.is_file() else 0o555)
            folder.chmod(0o555)

    def files_outside_data(self) -> list[Path]:
        return sorted(p for folder in (self.config, self.home) for p in folder.rglob("*"))

    @classmethod
    def make(cls) -> "Box":
        # not under pytest's tmp_path: its parent is private to root, and `nobody` must reach the data folder
        root = Path(tempfile.mkdtemp(prefix="ll-container-"))
        root.chmod(0o755)
        return cls(root)

    def remove(self) -> None:
        for folder in (self.config, self.home):
            if folder.exists():
                folder.chmod(0o755)
        shutil.rmtree(self.root, ignore_errors=True)


def contract_env(box: Box, extra: dict[str, str]) -> dict[str, str]:
    """Only what a container would get: PATH, HOME, the data folder, JSON logs, and the pipeline's variables."""
    venv_bin = str(Path(sys.executable).parent)
    return {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": str(box.home), "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "LEDGERLINK_DATA_DIR": str(box.data), "LEDGERLINK_LOG_FORMAT": "json",
            "LL_TEST_CWD": str(box.config), **extra}


def contract_command(box: Box, args: list[str]) -> list[str]:
    """`ledgerlink ARGS` as the container's entry point runs it, isolated as `ISOLATION` says."""
    entry = [str(Path(sys.executable).parent / "ledgerlink"), *args]
    if ISOLATION.startswith("read-only"):
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", _READ_ONLY_ROOT, "sh", str(box.data), *entry]
    return entry


class Running:
    """A started contract process whose stdout lines are collected as they come (to wait for a log line)."""

    def __init__(self, box: Box, args: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(contract_command(box, args), env=contract_env(box, env), cwd=box.config,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr = ""

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)

    def wait_for_line(self, needle: str, seconds: float = 60) -> dict[str, Any]:
        """The first JSON log line whose message contains `needle` (fails after `seconds` or when the process
        ends first)."""
        deadline = time.monotonic() + seconds
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                seen += 1
                entry = json.loads(line)
                if needle in str(entry.get("message", "")):
                    return entry
            if self.proc.poll() is not None and seen >= len(self.lines) and not self._reader.is_alive():
                break
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        raise AssertionError(f"no log line with {needle!r}; exit {self.proc.poll()}; lines {self.lines[-5:]}; "
                             f"stderr {self.stderr or self._stderr_so_far()}")

    def _stderr_so_far(self) -> str:
        return "(still running)" if self.proc.poll() is None else (self.proc.stderr.read() if self.proc.stderr else "")

    def finish(self, seconds: float = 180) -> int:
        try:
            code = self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise
        self._reader.join(timeout=30)
        self.stderr = self.proc.stderr.read() if self.proc.stderr else ""
        return code


def run_contract(box: Box, args: list[str], env: dict[str, str], seconds: float = 180) -> tuple[int, Running]:
    running = Running(box, args, env)
    return running.finish(seconds), running


def json_lines(lines: list[str]) -> list[dict[str, Any]]:
    """Every stdout line as JSON (fails naming the first line that is not one object)."""
    out = []
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"stdout line {number} is not JSON ({exc}): {line[:300]!r}") from None
        assert isinstance(entry, dict), f"stdout line {number} is not a JSON object: {line[:300]!r}"
        out.append(entry)
    return out
