"""The endpoint note `serve` leaves beside each state file it holds (`NAME.serve.json`, owner-only): where the
console listens and a token for this machine's CLI, so `ledgerlink dlq` and friends talk to `serve` instead of
answering "pipeline is busy". It is removed when `serve` stops; a note whose process is gone is ignored."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["note_path", "write_note", "read_note", "remove_note"]


def note_path(state_path: str | Path) -> Path:
    return Path(state_path).with_suffix(".serve.json")


def write_note(state_path: str | Path, *, url: str, token: str, pipeline: str) -> Path:
    path = note_path(state_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": url, "token": token, "pipeline": pipeline, "pid": os.getpid()}, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def read_note(state_path: str | Path) -> dict[str, Any] | None:
    """The note of a live `serve` holding this state file, or None."""
    path = note_path(state_path)
    try:
        note = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(note, dict) or not {"url", "token", "pipeline"} <= note.keys() or not _alive(note.get("pid")):
        return None
    return note


def remove_note(state_path: str | Path) -> None:
    try:
        note = json.loads(note_path(state_path).read_text())
        if note.get("pid") == os.getpid():  # never another process's note
            note_path(state_path).unlink()
    except (OSError, ValueError, AttributeError):
        pass
