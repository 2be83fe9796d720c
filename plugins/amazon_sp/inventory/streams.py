"""The `fba_inventory` stream (FBA Inventory getInventorySummaries); `normalise` makes its `InventoryLevel`s.

One read per marketplace (Marketplace granularity takes one at a time), `details=true`. Records are Amazon's
`InventorySummary` objects with one addition, `marketplaceId` (the granularity they were read at), which
with `sellerSku` is the primary key.

Incremental: `startDateTime` returns only summaries changed since then, but Amazon does not detect changes of
the inbound quantities that way, so every `inventory_full_read_hours` a marketplace is read in full. State is
`{"startDateTime": {marketplace: time the last read began}, "fullReadAt": {marketplace: ...}}`.

Paging never pauses. A nextToken dies 30 s after Amazon issues it, so the pages of one marketplace are
fetched back to back on a helper thread into an unbounded queue: however slowly the runtime consumes records
(staging, a DuckDB flush), the next request goes out as soon as the previous answer is in. The only waits
between pages are the client's own: the token bucket (2 requests/s, burst 2: 0.5 s a page, sixty times inside
a token's life, and the bucket is this stream's alone, as marketplaces are read one after the other) and, on
a 429, the retry policy's backoff (by default 0.5+1+2+4+8 s at most, still inside the life). Should a token
die anyway (an outage, a seller's tiny plan), Amazon's 400 restarts that marketplace from its first page,
skipping the summaries already emitted, at most twice: nothing is lost or emitted twice, and the state has
not moved.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

from ledgerlink import CHECKPOINT, Checkpoint, HttpClient, HttpStream, PermanentError, protocol

from ..client import read_json
from ..config import AmazonSPConfig
from ..stream_schemas import stream_schema
from ..timestamps import format_time, parse_time

__all__ = ["FbaInventoryStream", "CLOCK_SKEW"]

#: a read by startDateTime starts this much before the previous read began (clock skew between us and Amazon)
CLOCK_SKEW = timedelta(minutes=5)
#: Amazon refuses a startDateTime older than 18 months; older state means a full read
_OLDEST = timedelta(days=540)
#: restarts of one marketplace after Amazon refused a dead nextToken
_RESTARTS = 2
_HINTS = {
    400: "Amazon refused the query: check marketplace_ids (one FBA marketplace each) in the config",
    403: "check that the app has the Amazon Fulfillment (FBA inventory) role for this seller and region",
}
_DONE = object()


class FbaInventoryStream(HttpStream):
    """getInventorySummaries per marketplace, every page fetched back to back (see the module docstring)."""

    name: ClassVar[str] = "fba_inventory"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("fba_inventory")
    path: ClassVar[str] = "/fba/inventory/v1/summaries"
    operation: ClassVar[str] = "getInventorySummaries"
    records_path: ClassVar[tuple[str, ...]] = ("payload", "inventorySummaries")
    primary_key: ClassVar[list[str]] = ["marketplaceId", "sellerSku"]
    cursor_field: ClassVar[str] = "lastUpdatedTime"

    def __init__(self, config: AmazonSPConfig, client: HttpClient, *, now: datetime | None = None):
        super().__init__(config, client)
        self._now = now
        self.restarts = 0

    def observe(self, record: dict[str, Any]) -> None:
        """The state is per marketplace and moves when a marketplace is read (see `read_records`)."""

    def params(self, market: str, since: str | None, token: str | None) -> dict[str, Any]:
        """Amazon wants the whole query again with nextToken (startDateTime included)."""
        params: dict[str, Any] = {"details": "true", "granularityType": "Marketplace", "granularityId": market,
                                  "marketplaceIds": market}
        if since:
            params["startDateTime"] = since
        if token:
            params["nextToken"] = token
        return params

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = {"startDateTime": dict(state.get("startDateTime") or {}),
                      "fullReadAt": dict(state.get("fullReadAt") or {})}
        for market in self.config.marketplace_ids:
            began = self._now or datetime.now(timezone.utc)
            since, full = self._since(market, began)
            yield from self._pages(market, since)
            # new dicts, not updates: a STATE already emitted holds the old ones
            self.state = {"startDateTime": {**self.state["startDateTime"], market: format_time(began)},
                          "fullReadAt": {**self.state["fullReadAt"], **({market: format_time(began)} if full else {})}}
            yield CHECKPOINT

    def _since(self, market: str, began: datetime) -> tuple[str | None, bool]:
        """(startDateTime or None for a full read, whether this read is full)."""
        last = self.state["startDateTime"].get(market)
        full_at = self.state["fullReadAt"].get(market)
        every = timedelta(hours=self.config.inventory_full_read_hours)
        if not last or not full_at or began - parse_time(str(full_at)) >= every:
            return None, True
        since = parse_time(str(last)) - CLOCK_SKEW
        if since < began - _OLDEST:
            return None, True
        return format_time(since), False

    def _pages(self, market: str, since: str | None) -> Iterator[dict[str, Any]]:
        """Records of one marketplace, from a helper thread that fetches the pages without waiting on us."""
        out: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()

        def fetch() -> None:
            try:
                for batch in self._fetch(market, since, stop):
                    out.put(batch)
                out.put(_DONE)
            except BaseException as exc:  # handed to the consumer, raised there
                out.put(exc)

        # in the run's log context, so the lines it logs name the pipeline and run
        worker = threading.Thread(target=contextvars.copy_context().run, args=(fetch,), name=f"fba-inventory-{market}",
                                  daemon=True)
        worker.start()
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            stop.set()
            worker.join(timeout=60)

    def _fetch(self, market: str, since: str | None, stop: threading.Event) -> Iterator[list[dict[str, Any]]]:
        """Pages back to back; on a dead nextToken, the marketplace again from the start, minus what was sent."""
        sent: set[str] = set()
        restarts = 0
        token: str | None = None
        while not stop.is_set():
            try:
                response = self.client.get(self.path, operation=self.operation,
                                           params=self.params(market, since, token))
            except PermanentError as exc:
                if token is not None and exc.status == 400 and restarts < _RESTARTS:
                    restarts += 1
                    self.restarts += 1
                    token = None  # Amazon refused the token (it died): begin again, skip what was emitted
                    continue
                exc.hint = exc.hint or _HINTS.get(exc.status or 0)
                raise
            body = read_json(response)
            token = _next_token(body)
            batch = []
            for summary in self.parse_response(response, body):
                record = {**summary, "marketplaceId": market} if isinstance(summary, dict) else summary
                key = str(record.get("sellerSku")) if isinstance(record, dict) else repr(record)
                if key in sent:
                    continue
                sent.add(key)
                batch.append(record)
            yield batch
            if token is None:
                return


def _next_token(body: Any) -> str | None:
    pagination = body.get("pagination") if isinstance(body, dict) else None
    return (pagination or {}).get("nextToken") or None
