"""The runtime, by pipeline stage: extract (read → stage), normalise (+ plan into the outbox), load (drain
the outbox into the destination), and `sync`, which runs them in order."""

from .check import check_pipeline
from .status import status_lines
from .sync import SyncReport, sync

__all__ = ["sync", "SyncReport", "check_pipeline", "status_lines"]
