"""The `finances` stream (Finances 2024-06-19 listTransactions), its v0 fallback `financial_events`
(listFinancialEvents, config `finances_api: v0`). Their refunds become canonical `Refund`s in `normalise`.

`finances` records are Amazon's `Transaction` objects unchanged, keyed by `transactionId`, which stays the same
when Amazon releases a deferred transaction (its `transactionStatus` goes DEFERRED → DEFERRED_RELEASED, its
settlement identifiers appear), so the release replaces the staged record: same key, same `postedDate` cursor,
newer row. Windows of postedAfter..postedBefore (at most `finances_window_days`; Amazon answers an *empty* page
beyond 180 days) end two minutes before now. State is `{"postedDate": <end of the last completed window>,
"deferredSince": <posted date of the oldest transaction still DEFERRED>}`: the next run starts at the earlier
of the cursor less `finances_lookback_days` and `deferredSince`, so a release is read however long the
deferral (B2B invoices: 30 days and more).

`financial_events` records are v0 events, one per record, with two additions: `eventType` (the FinancialEvents
list it came from, e.g. `RefundEventList`) and `eventKey` (a digest of the event: v0 events carry no id and
never change, since v0 shows a deferred event only once released). Its state is `{"PostedDate": <end of the
last completed window>}`; the look-back applies too. v0 cannot say what is still deferred, and a released event
appears under its original posted date: with v0, set `finances_lookback_days` to the longest deferral you expect
(7 days for DD7, 30 and more for B2B invoices), or prefer 2024-06-19.

Refunds become `Refund`s with the same natural key from either API (order id / first order-adjustment item
id), so switching APIs posts nothing twice. Shipments, fees, reimbursements and deferrals stay staged: they are
what reconciling a settlement against the orders reads, and have no canonical object of their own.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterable, Iterator

import httpx

from ledgerlink import CHECKPOINT, Checkpoint, HttpClient, HttpStream, PermanentError, json_dumps, protocol

from ..client import read_json
from ..config import AmazonSPConfig
from ..stream_schemas import stream_schema
from ..timestamps import SETTLE_DELAY, format_time, parse_time

__all__ = ["FinancesStream", "FinancialEventsStream", "STATUSES", "event_key"]


#: the model's transactionStatus values
STATUSES = frozenset({"DEFERRED", "RELEASED", "DEFERRED_RELEASED"})
_HINTS = {
    400: "Amazon refused the query: check start_date and finances_window_days in the config",
    403: "check that the app has the Finance and Accounting role for this seller and region",
}


def _get(client: HttpClient, path: str, operation: str, params: dict[str, Any]) -> tuple[httpx.Response, Any]:
    try:
        response = client.get(path, operation=operation, params=params)
    except PermanentError as exc:
        exc.hint = exc.hint or _HINTS.get(exc.status or 0)
        raise
    return response, read_json(response)


class _PostedWindows(HttpStream):
    """Windows of posted dates from the saved cursor (less the look-back) to two minutes before now; pages
    inside a window are not resumable, so the cursor moves when a window is complete."""

    after_param: ClassVar[str]
    before_param: ClassVar[str]
    token_param: ClassVar[str]

    def __init__(self, config: AmazonSPConfig, client: HttpClient, *, now: datetime | None = None):
        super().__init__(config, client)
        self._now = now

    def observe(self, record: dict[str, Any]) -> None:
        """Records do not move the cursor: a window does, once complete."""

    def start_time(self, state: dict[str, Any]) -> datetime:
        saved = state.get(self.cursor_field)  # type: ignore[arg-type]
        if not saved:
            return self.config.start_date
        back = timedelta(days=self.config.finances_lookback_days)
        return max(parse_time(str(saved)) - back, self.config.start_date)

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        end = ((self._now or datetime.now(timezone.utc)) - SETTLE_DELAY).replace(microsecond=0)
        step = timedelta(days=self.config.finances_window_days)
        after = start.astimezone(timezone.utc).replace(microsecond=0)
        while after < end:
            before = min(after + step, end)
            yield after, before
            after = before

    def params(self, after: datetime, before: datetime, token: str | None) -> dict[str, Any]:
        """Amazon wants the arguments that produced a nextToken again with it."""
        params: dict[str, Any] = {self.after_param: format_time(after), self.before_param: format_time(before)}
        if token:
            params[self.token_param] = token
        return params

    def records_of(self, body: Any) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def next_token(self, body: Any) -> str | None:
        raise NotImplementedError

    def window_done(self, before: datetime) -> None:
        self.state = {**self.state, self.cursor_field: format_time(before)}  # type: ignore[dict-item]

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self.state = dict(state)
        for after, before in self.windows(self.start_time(state)):
            token: str | None = None
            while True:
                _, body = _get(self.client, self.path, self.operation, self.params(after, before, token))
                yield from self.records_of(body)
                token = self.next_token(body)
                if token is None:
                    break
                yield CHECKPOINT  # state unchanged: a resumed run restarts this window
            self.window_done(before)
            yield CHECKPOINT


class FinancesStream(_PostedWindows):
    """listTransactions (Finances 2024-06-19): every transaction of the seller's account in the configured
    marketplaces (and account-level ones, which name none). marketplaceId is not sent: Amazon would then leave out
    merchant-fulfilled US orders."""

    name: ClassVar[str] = "finances"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("finances")
    path: ClassVar[str] = "/finances/2024-06-19/transactions"
    operation: ClassVar[str] = "listTransactions"
    primary_key: ClassVar[str] = "transactionId"
    cursor_field: ClassVar[str] = "postedDate"
    after_param, before_param, token_param = "postedAfter", "postedBefore", "nextToken"

    def start_time(self, state: dict[str, Any]) -> datetime:
        start = super().start_time(state)
        deferred = state.get("deferredSince")
        return min(start, parse_time(str(deferred))) if deferred else start

    def read_records(self, state: dict[str, Any]) -> Iterator[dict[str, Any] | Checkpoint | protocol.Message]:
        self._deferred: str | None = None  # oldest postedDate still DEFERRED, among what this run has read
        yield from super().read_records(state)

    def records_of(self, body: Any) -> Iterable[dict[str, Any]]:
        wanted = set(self.config.marketplace_ids)
        for txn in ((body or {}).get("payload") or {}).get("transactions") or []:
            if not isinstance(txn, dict):
                yield {"transactionId": None, "unreadable": txn}  # dead-lettered by the runtime, not dropped
                continue
            market = (txn.get("marketplaceDetails") or {}).get("marketplaceId") or (
                txn.get("sellingPartnerMetadata") or {}).get("marketplaceId")
            if market and market not in wanted:
                continue  # another marketplace of the same account: outside this config
            if txn.get("transactionStatus") == "DEFERRED" and txn.get("postedDate"):
                posted = str(txn["postedDate"])
                if self._deferred is None or posted < self._deferred:
                    self._deferred = posted
            yield txn

    def next_token(self, body: Any) -> str | None:
        return (((body or {}).get("payload") or {}).get("nextToken")) or None

    def window_done(self, before: datetime) -> None:
        """Every window before this one was read in this run, so the oldest DEFERRED seen is the oldest there is."""
        state: dict[str, Any] = {self.cursor_field: format_time(before)}
        if self._deferred:
            state["deferredSince"] = format_time(parse_time(self._deferred))
        self.state = state


class FinancialEventsStream(_PostedWindows):
    """listFinancialEvents (Finances v0), one record per event (config `finances_api: v0`)."""

    name: ClassVar[str] = "financial_events"
    json_schema: ClassVar[dict[str, Any]] = stream_schema("financial_events")
    path: ClassVar[str] = "/finances/v0/financialEvents"
    operation: ClassVar[str] = "listFinancialEvents"
    primary_key: ClassVar[str] = "eventKey"
    cursor_field: ClassVar[str] = "PostedDate"
    after_param, before_param, token_param = "PostedAfter", "PostedBefore", "NextToken"

    def params(self, after: datetime, before: datetime, token: str | None) -> dict[str, Any]:
        return {**super().params(after, before, token), "MaxResultsPerPage": 100}

    def records_of(self, body: Any) -> Iterable[dict[str, Any]]:
        lists = ((body or {}).get("payload") or {}).get("FinancialEvents") or {}
        for list_name in sorted(lists):
            for event in lists[list_name] or []:
                record = dict(event) if isinstance(event, dict) else {"unreadable": event}
                record["eventType"] = list_name
                record["eventKey"] = event_key(list_name, event)
                yield record

    def next_token(self, body: Any) -> str | None:
        return (((body or {}).get("payload") or {}).get("NextToken")) or None


def event_key(list_name: str, event: Any) -> str:
    """A v0 event's identity: its list and a digest of its content (v0 events have no id and never change)."""
    return f"{list_name}:" + hashlib.sha256(json_dumps(event, sort_keys=True).encode()).hexdigest()[:32]
