"""Helpers for checking sandbox bodies against Amazon's Swagger models (imported by the schema tests)."""

from __future__ import annotations

from typing import Any

__all__ = ["strict"]


def strict(node: Any) -> Any:
    """The model's schemas with `additionalProperties: false` on every object that lists its properties and says
    nothing else, so a sandbox cannot add a field Amazon's model does not have."""
    if isinstance(node, dict):
        out = {k: strict(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node
