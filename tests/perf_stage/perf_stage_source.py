"""A source of many biggish records, paged, entirely in memory: what staging's bulk path and memory limits are
tested with (no vendor, no network)."""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from pydantic import BaseModel

from ledgerlink import CHECKPOINT, Destination, Source, Stream, WriteResult, hookimpl


class BulkConfig(BaseModel):
    records: int = 100
    #: characters of filler in each record
    size: int = 100
    page: int = 25
    #: added to every record's `updated` (a later run sends newer versions)
    revision: int = 0


def bulk_record(i: int, size: int, revision: int = 0) -> dict[str, Any]:
    return {"id": i, "updated": f"2026-02-01T00:{revision:02d}:00Z", "blob": ("x" * size), "n": i % 7}


class Things(Stream):
    name = "things"
    primary_key = "id"
    cursor_field = "updated"

    def read_records(self, state: dict[str, Any]) -> Iterator[Any]:
        self.state = dict(state)
        cfg: BulkConfig = self.config
        for i in range(cfg.records):
            rec = bulk_record(i, cfg.size, cfg.revision)
            self.observe(rec)
            yield rec
            if (i + 1) % cfg.page == 0:
                yield CHECKPOINT


class BulkSource(Source):
    name: ClassVar[str] = "perf_stage_bulk"
    config_model: ClassVar[type[BaseModel]] = BulkConfig

    def stream_classes(self) -> list[type[Stream]]:
        return [Things]

    def streams(self, config: Any) -> list[Stream]:
        return [Things(config)]


class NothingConfig(BaseModel):
    pass


class NothingDestination(Destination):
    name: ClassVar[str] = "perf_stage_nothing"
    config_model: ClassVar[type[BaseModel]] = NothingConfig

    def write_batch(self, stream: str, records: list[Any]) -> list[WriteResult]:
        return []


class _Plugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(BulkSource)
        register(NothingDestination)


plugin = _Plugin()


class ScriptedConfig(BaseModel):
    #: pages of records, sent in order, a CHECKPOINT after each page
    pages: list[list[dict[str, Any]]] = []
    #: raise after sending this many records (a source crashing mid-read)
    fail_after: int | None = None


class Scripted(Stream):
    name = "things"
    primary_key = "id"
    cursor_field = "updated"

    def read_records(self, state: dict[str, Any]) -> Iterator[Any]:
        self.state = dict(state)
        cfg: ScriptedConfig = self.config
        sent = 0
        for page in cfg.pages:
            for rec in page:
                if cfg.fail_after is not None and sent == cfg.fail_after:
                    raise RuntimeError("scripted: connection reset")
                self.observe(rec)
                yield rec
                sent += 1
            yield CHECKPOINT


class ScriptedSource(Source):
    """Sends exactly the pages it is given: what equivalence tests compare the staging paths on."""

    name: ClassVar[str] = "perf_stage_scripted"
    config_model: ClassVar[type[BaseModel]] = ScriptedConfig

    def stream_classes(self) -> list[type[Stream]]:
        return [Scripted]

    def streams(self, config: Any) -> list[Stream]:
        return [Scripted(config)]
