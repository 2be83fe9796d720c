"""What a planner reads once per run (options parsed, a cost book, a history) kept in the plan context's `cache`,
so every document of the run shares it; a context without a cache (a unit test's stand-in) builds it each time."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")


def once_per_run(ctx: object, key: str, build: Callable[[], T]) -> T:
    """`build()` the first time `key` is asked for in this run, the same object after."""
    cache: dict[str, Any] | None = getattr(ctx, "cache", None)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]
