"""`qbo` as a source: a QuickBooks Online company's customers, items, accounts, its other name lists (tax codes,
payment methods, classes, departments — the designer's pick-lists) and sales documents.

Fourteen streams (see `streams.py`), each read incrementally by `Metadata.LastUpdatedTime`, by query on the first
run and by change data capture after it, deleted transactions flagged. Calls go through the destination's
`QboApi`: one company's calls share one rate limit (500 a minute) and are made one at a time, so Intuit's 10
concurrent requests per company are never approached. A rotated refresh token is handed to the runtime as a
CONTROL message before the next record, and the runtime stores it encrypted at once; Intuit's new expiry for it
(`x_refresh_token_expires_in`, a rolling 100 days) is stored beside it (`read_context`), as the destination's
refresh stores it, so a pipeline that only reads from QuickBooks keeps the `token_expiring` alert true.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, ClassVar, Iterator

import httpx

from ledgerlink import Normaliser, RetryPolicy, Source, Stream, expiry_name, protocol

from .auth import QboConnect, credential_name
from .client import QboApi
from .config import QboSourceConfig
from .streams import STREAMS
from .inventory_levels import NORMALISERS

__all__ = ["QuickBooksOnlineSource"]


class QuickBooksOnlineSource(Source):
    """Reads one QuickBooks Online company (realm). `transport`, `retry`, `sleep` and `now` are for tests and
    embedding; the runtime constructs it with no arguments."""

    name: ClassVar[str] = "qbo"
    #: connected from the console through Intuit's consent page (auth.py)
    connect_flow: ClassVar[QboConnect] = QboConnect()
    config_model: ClassVar[type[QboSourceConfig]] = QboSourceConfig
    documentation_url: ClassVar[str | None] = ("https://developer.intuit.com/app/developer/qbo/docs/learn/"
                                               "explore-the-quickbooks-online-api/change-data-capture")

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None, now: Callable[[], datetime] | None = None):
        self._http_options: dict[str, Any] = {"transport": transport, "retry": retry, "sleep": sleep}
        self._now = now
        self._rotated: list[str] = []
        #: Intuit's expiry of the newest refresh token (Unix time), from each refresh, until it is stored
        self._expiries: list[float] = []

    def api(self, config: QboSourceConfig) -> QboApi:
        # a refresh may run on a page-prefetch thread: both are kept here and handed on from `read`'s own thread
        return QboApi(config, config.refresh_token, on_rotate=self._rotated.append,
                      on_refresh_expiry=self._expiries.append, **self._http_options)

    def stream_classes(self) -> list[type[Stream]]:
        return list(STREAMS)

    def streams(self, config: QboSourceConfig) -> list[Stream]:
        api = self.api(config)
        return [cls(config, api, now=self._now) for cls in STREAMS]

    def normalisers(self) -> list[Normaliser]:
        """Inventory items → stock levels, for QuickBooks → channel pipelines (see inventory_levels.py)."""
        return list(NORMALISERS)

    def store_id(self, config: QboSourceConfig) -> str:
        """The company (realm): its ids are per company, and its rotated refresh token is stored by it."""
        return config.realm_id

    def check_connection(self, config: QboSourceConfig) -> None:
        """Reading CompanyInfo proves the base URL, the realm and the OAuth2 credentials."""
        api = self.api(config)
        try:
            api.company_info()
        finally:
            api.close()
            if self._rotated:  # the old refresh token no longer works: store the new one now
                self.check_context.rotated("refresh_token", self._rotated[-1])
                self._rotated.clear()
            self._store_expiry(config, self.check_context.save_credential)

    def read(self, config: dict[str, Any], catalog: protocol.ConfiguredCatalog | None = None,
             state: Any = None) -> Iterator[protocol.Message]:
        parsed: QboSourceConfig = self.parse_config(config)  # type: ignore[assignment]
        selected = None if catalog is None else {c.stream.name for c in catalog.streams}
        api = self.api(parsed)
        try:
            streams: list[Stream] = [cls(parsed, api, now=self._now) for cls in STREAMS]
            for message in self.read_streams(streams, selected, state):
                yield from self._rotations(config, parsed)
                yield message
            yield from self._rotations(config, parsed)
        finally:
            api.close()

    def _rotations(self, config: dict[str, Any], parsed: QboSourceConfig) -> Iterator[protocol.Message]:
        """Intuit rotates refresh tokens: the newest goes to the runtime before anything else is read, and its
        expiry is stored beside it."""
        if self._rotated:
            latest = self._rotated[-1]
            self._rotated.clear()
            yield protocol.control_config({**config, "refresh_token": latest})
        self._store_expiry(parsed, self.read_context.save_credential)

    def _store_expiry(self, config: QboSourceConfig, save: Callable[[str, str], None]) -> None:
        """The newest refresh token's expiry, where the destination's refresh and Connect keep it."""
        count = len(self._expiries)  # one a prefetch thread appends meanwhile waits for the next call
        if count:
            at = self._expiries[count - 1]
            del self._expiries[:count]
            save(expiry_name(credential_name(config.realm_id)), f"{at:.0f}")
