"""Whether `ledgerlink serve` holds a pipeline, for commands (plugins' too) that must ask serve's API instead of
opening a state file another process owns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .console.client import ServedClient

__all__ = ["served_client"]


def served_client(pipeline_or_state: str | Path) -> "ServedClient | None":
    """A client of the `serve` holding this pipeline file (or state file), found through the endpoint note serve
    leaves beside the state file; None when no live serve holds it. Its `.get(path)` reads
    `/api/v1/pipelines/{pipeline}{path}` (e.g. "/status"), `.post(path, body)` acts; errors arrive as
    LedgerlinkError with the API's wording."""
    from .console.client import served_client as find  # late: the console (Starlette) loads only when asked

    return find(str(pipeline_or_state))
