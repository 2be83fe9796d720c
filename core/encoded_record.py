"""A record a stream hands over as the JSON text the remote sent, so staging stores that text as is.

Decoding every order of a page into Python objects (each amount an exact Decimal) only to write it back as JSON
for staging was most of a read's CPU (docs/reference/performance.md, "amzread"). A stream that can cut its page
into each record's own text (msgspec's `Raw`) yields `EncodedRecord`s instead: the text, plus the few top-level
fields staging reads (the primary key, the cursor), already decoded. Everything else reads it as the mapping it
stands for, decoded on first use; written as JSON (an Airbyte RECORD line, a dead letter) it is its own text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import jsonutil
from .store.record_text import stageable_text

__all__ = ["EncodedRecord"]


class EncodedRecord(jsonutil.JsonText, Mapping[str, Any]):
    """One record as the remote's JSON text (an object) and `fields`: the values of the top-level fields
    staging reads (key, cursor, join key), decoded as `jsonutil.loads` would. A field not in `fields` is read
    from the decoded record."""

    __slots__ = ("fields", "_data")

    def __init__(self, text: str, fields: dict[str, Any]):
        self.text = text
        self.fields = fields
        self._data: dict[str, Any] | None = None

    @classmethod
    def of(cls, raw: Any, fields: dict[str, Any]) -> EncodedRecord | None:
        """The record whose JSON is `raw` (bytes, or a msgspec `Raw` of a page), or None when staging cannot
        store that text as it is (not UTF-8, a lone surrogate, nesting too deep, not an object): then decode it
        and hand over the object, whose checks name the field at fault."""
        text = stageable_text(raw)
        return None if text is None else cls(text, fields)

    def field(self, name: str) -> Any:
        """A top-level field's value (None when absent), from `fields` when it is there."""
        fields = self.fields
        if name in fields:
            return fields[name]
        return self.decode().get(name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """As a mapping's `get`, without decoding the record for a field in `fields` (a stream's cursor is read
        this way for every record)."""
        fields = self.fields
        if name in fields:
            value = fields[name]
            return default if value is None and name not in self.decode() else value
        return self.decode().get(name, default)

    def decode(self) -> dict[str, Any]:
        """The record as objects (exact Decimals), decoded once."""
        data = self._data
        if data is None:
            data = self._data = jsonutil.loads(self.text)
        return data

    def __getitem__(self, name: str) -> Any:
        return self.decode()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.decode())

    def __len__(self) -> int:
        return len(self.decode())

    def __repr__(self) -> str:
        return f"EncodedRecord({self.text[:80]!r}{'…' if len(self.text) > 80 else ''})"
