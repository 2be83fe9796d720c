"""What changed between a posted document and its held new version: one entry per differing leaf, by path, so a
page can highlight it and a script can read it."""

from __future__ import annotations

from typing import Any

__all__ = ["payload_diff"]

_MISSING = object()


def payload_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            out += payload_diff(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            out += payload_diff(old[i] if i < len(old) else _MISSING, new[i] if i < len(new) else _MISSING,
                                f"{path}[{i}]")
        return out
    if old is _MISSING and new is _MISSING or old == new:
        return []
    return [{"path": path, "old": None if old is _MISSING else old, "new": None if new is _MISSING else new,
             "change": "added" if old is _MISSING else "removed" if new is _MISSING else "changed"}]
