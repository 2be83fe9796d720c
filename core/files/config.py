"""The `files` connector's configuration: which files make which stream, how to read them, how to normalise."""

from __future__ import annotations

import codecs
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["FilesConfig", "FileStreamConfig", "NORMALISED_FIELDS", "COLUMN_TYPES"]

#: the canonical fields each normaliser reads
NORMALISED_FIELDS: dict[str, tuple[str, ...]] = {
    "shipments": ("order_id", "tracking_number", "carrier", "shipped_at", "sku", "quantity", "line_id"),
    "costs": ("sku", "cost", "currency", "name"),
}
#: what `discover` infers, and what a `schema` override may say
ColumnType = Literal["string", "integer", "number", "boolean", "date", "date-time"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)


class FileStreamConfig(BaseModel):
    """One stream: the files a glob matches, read the same way, optionally normalised."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$",
                      description="the stream's name (a staging table is named after it), e.g. shipments_3pl")
    path: str = Field(min_length=1, description=(
        "a file or a glob (`exports/*.csv`, `drop/**/*.tsv`), relative to the working directory or absolute"))
    format: Literal["csv", "tsv", "jsonl", "auto"] = Field("auto", description=(
        "csv, tsv (tab-separated, no quoting), jsonl (one JSON object a line), or auto: by extension "
        "(.csv; .tsv/.tab/.txt; .jsonl/.ndjson)"))
    delimiter: str | None = Field(None, min_length=1, max_length=1,
                                  description="one character between values (default: `,` for csv, tab for tsv)")
    encoding: str = Field("utf-8", description=(
        "the files' text encoding, ASCII-compatible (utf-8, cp1252, latin-1…); a UTF-8 byte-order mark is "
        "always tolerated"))
    primary_key: list[str] | None = Field(None, description=(
        "the column(s) that identify a row across files and runs; default: the file and line (`_file`, `_line`)"))
    cursor_field: str | None = Field(None, description=(
        "a column that orders versions of a row (e.g. `Updated At`): a row never replaces a newer one"))
    schema_: dict[str, ColumnType] = Field(
        default_factory=dict, alias="schema", description=(
            "column → type, overriding what `discover` infers (string, integer, number, boolean, date, date-time)"))
    sample_rows: int = Field(1000, ge=1, le=1_000_000,
                             description="rows `discover` reads to infer the column types")
    normalise: Literal["shipments", "costs"] | None = Field(None, description=(
        "what the rows are: shipments (a 3PL export → Shipment, rows grouped by order and tracking number), "
        "costs (→ Product with its cost, for COGS), or none (rows are staged for look-ups only)"))
    columns: dict[str, str] = Field(default_factory=dict, description=(
        "canonical field → the file's header, for the normaliser, e.g. {order_id: 'Order #', tracking_number: "
        "Tracking, carrier: Carrier, shipped_at: 'Ship Date', sku: SKU, quantity: Qty}; costs: sku, cost, "
        "currency, name. An unmapped field is read from a column of its own name"))
    default_currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$", description=(
        "costs: the currency when the file has no currency column (ISO 4217, e.g. USD)"))
    date_format: str | None = Field(None, description=(
        "shipments: how `shipped_at` is written, as a strftime pattern (e.g. %m/%d/%Y); default: ISO 8601"))

    @field_validator("encoding")
    @classmethod
    def _ascii_compatible(cls, v: str) -> str:
        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown encoding {v!r}") from None
        if not "ab\n".encode(info.name).endswith(b"ab\n"):  # lines are split on the byte \n
            raise ValueError(f"encoding {v!r} is not ASCII-compatible; convert the files to UTF-8")
        return v

    @model_validator(mode="after")
    def _columns_fit(self) -> "FileStreamConfig":
        if self.columns and self.normalise is None:
            raise ValueError("`columns` maps fields for a normaliser: set `normalise` to shipments or costs")
        if self.normalise:
            allowed = NORMALISED_FIELDS[self.normalise]
            unknown = sorted(set(self.columns) - set(allowed))
            if unknown:
                raise ValueError(f"{self.normalise} has no field(s) {', '.join(unknown)}; fields: {', '.join(allowed)}")
        if self.primary_key is not None and not self.primary_key:
            raise ValueError("primary_key lists at least one column (leave it out to key rows by file and line)")
        return self

    def column(self, canonical: str) -> str:
        """The file's header for a canonical field."""
        return self.columns.get(canonical, canonical)

    @property
    def key_columns(self) -> list[str]:
        return self.primary_key or ["_file", "_line"]


class FilesConfig(BaseModel):
    """Files on disk (CSV, TSV, JSON lines) read as streams: a 3PL's shipment export, a cost file, a report."""

    model_config = ConfigDict(extra="forbid", title="Files on disk")

    streams: list[FileStreamConfig] = Field(min_length=1, description="one entry per stream")

    @model_validator(mode="after")
    def _unique_names(self) -> "FilesConfig":
        names = [s.name for s in self.streams]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stream name(s) used twice: {', '.join(dupes)}")
        return self
