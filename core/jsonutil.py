"""JSON with exact Decimal numbers both ways, so amounts never pass through float.

Writing uses orjson (fast: the outbox writes every planned document) with Decimals emitted as raw number
text; reading uses the standard library with `parse_float=Decimal`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
from pydantic_core import PydanticSerializationError, to_jsonable_python

__all__ = ["dumps", "dumps_bytes", "loads"]


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        if not obj.is_finite():
            raise TypeError(f"{obj} is not a JSON number")
        return orjson.Fragment(str(obj))
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


def dumps_bytes(obj: Any, *, sort_keys: bool = False, indent: int | None = None) -> bytes:
    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(obj, default=_default, option=option)


def dumps(obj: Any, *, sort_keys: bool = False, indent: int | None = None) -> str:
    return dumps_bytes(obj, sort_keys=sort_keys, indent=indent).decode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
