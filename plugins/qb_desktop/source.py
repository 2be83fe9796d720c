"""`qb_desktop` as a source: QuickBooks Desktop's inventory quantities, for QuickBooks → channel stock pipelines.

QuickBooks Desktop cannot be called, so this source reads the stock snapshot the served qb_desktop pipeline's
Web Connector sessions write (see `stock.py`). One stream, `items`: every row of the newest snapshot, each
carrying the snapshot's time (`snapshot_at`, the cursor); a snapshot not newer than the last one read yields
nothing, so a sync between two Web Connector polls writes nothing to the channel.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink import CHECKPOINT, Checkpoint, Normaliser, Source, Stream, protocol

from .stock import NORMALISERS, SNAPSHOT_AT, read_snapshot

__all__ = ["QuickBooksDesktopSource", "QbdSourceConfig", "StockItemsStream"]


class QbdSourceConfig(BaseModel):
    """Where the served qb_desktop pipeline writes QuickBooks' stock (its destination config's stock_snapshot)."""

    model_config = ConfigDict(extra="forbid")

    stock_snapshot: str = Field(description="the stock snapshot file the served qb_desktop pipeline writes (the "
                                            "same path as its destination config's stock_snapshot)", min_length=1)

    @field_validator("stock_snapshot")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must name a file")
        return v.strip()


class StockItemsStream(Stream):
    """QuickBooks Desktop inventory items with their QuantityOnHand, as of the newest snapshot."""

    name: ClassVar[str] = "items"
    primary_key: ClassVar[str] = "ListID"
    cursor_field: ClassVar[str] = SNAPSHOT_AT
    json_schema: ClassVar[dict[str, Any]] = {
        "type": "object", "additionalProperties": True, "required": ["ListID"],
        "properties": {
            "ListID": {"type": "string"}, "Name": {"type": "string"}, "FullName": {"type": "string"},
            "QuantityOnHand": {"type": "string", "description": "QuickBooks' on-hand quantity, as text"},
            "TimeModified": {"type": "string"}, "IsActive": {"type": "boolean"},
            SNAPSHOT_AT: {"type": "string", "format": "date-time",
                          "description": "when the Web Connector session read it (added by ledgerlink; the cursor)"},
        }}

    def __init__(self, config: QbdSourceConfig):
        super().__init__(config)
        self.config: QbdSourceConfig = config

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        snapshot = read_snapshot(self.config.stock_snapshot)
        taken = snapshot["taken_at"]
        if self.state.get(SNAPSHOT_AT) is not None and taken <= str(self.state[SNAPSHOT_AT]):
            return  # already read: QuickBooks has not been asked again since
        for row in snapshot["items"]:
            record = {**row, SNAPSHOT_AT: taken} if isinstance(row, dict) else {"row": row, SNAPSHOT_AT: taken}
            yield record
        self.state[SNAPSHOT_AT] = taken
        yield CHECKPOINT


class QuickBooksDesktopSource(Source):
    """Reads the stock snapshot a served QuickBooks Desktop pipeline keeps (named `qb_desktop`, like the
    destination: the host keys connectors by name and role)."""

    name: ClassVar[str] = "qb_desktop"
    config_model: ClassVar[type[QbdSourceConfig]] = QbdSourceConfig
    documentation_url: ClassVar[str | None] = ("https://developer.intuit.com/app/developer/qbdesktop/docs/"
                                               "get-started/get-started-with-quickbooks-web-connector")

    def stream_classes(self) -> list[type[Stream]]:
        return [StockItemsStream]

    def streams(self, config: QbdSourceConfig) -> list[Stream]:
        return [StockItemsStream(config)]

    def normalisers(self) -> list[Normaliser]:
        return list(NORMALISERS)

    def check_connection(self, config: QbdSourceConfig) -> None:
        """The snapshot exists and reads (the Web Connector has polled the served pipeline at least once)."""
        read_snapshot(config.stock_snapshot)
