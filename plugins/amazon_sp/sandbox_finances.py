"""Placeholder: the sandbox's finances endpoints (filled in by the finances work).

`routes(api)` returns Starlette routes served next to the Orders API; `PLANS` adds usage plans
(operation -> (rate/s, burst)) to the sandbox's throttling, scaled by its time_scale like the rest.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

PLANS: dict[str, tuple[float, int]] = {}


def routes(api: Any) -> list[Route]:
    return []
