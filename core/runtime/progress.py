"""Progress reporting: a callback the stages call; the CLI turns it into bars or JSON log lines."""

from __future__ import annotations

from typing import Callable, Protocol

__all__ = ["Progress", "NO_PROGRESS"]


class Progress(Protocol):
    def __call__(self, stage: str, advance: int = 1, total: int | None = None) -> None: ...


def _nothing(stage: str, advance: int = 1, total: int | None = None) -> None:
    return None


NO_PROGRESS: Callable[..., None] = _nothing
