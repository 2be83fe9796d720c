"""JSON with Decimal numbers both ways (simplejson), so amounts never pass through float."""

from __future__ import annotations

from enum import Enum
from typing import Any

import simplejson
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["dumps", "loads"]


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="python")
    if isinstance(obj, Enum):
        return obj.value
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    try:  # URLs, UUIDs, paths, bytes…: whatever pydantic knows how to write as JSON
        return to_jsonable_python(obj)
    except PydanticSerializationError:
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable") from None


def dumps(obj: Any, *, sort_keys: bool = False, indent: int | None = None) -> str:
    return simplejson.dumps(obj, use_decimal=True, default=_default, sort_keys=sort_keys, indent=indent,
                            ensure_ascii=False, separators=None if indent else (",", ":"))


def loads(text: str | bytes) -> Any:
    return simplejson.loads(text, use_decimal=True)
