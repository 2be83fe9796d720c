"""The `finances` stream (Finances 2024-06-19 listTransactions), its v0 fallback `financial_events`
(listFinancialEvents, config `finances_api: v0`), and their normalisers: refunds → canonical `Refund`.

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
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, Iterable, Iterator

import httpx

from ledgerlink import (
    CHECKPOINT, Checkpoint, HttpClient, HttpStream, Money, Normaliser, PermanentError, RecordError, Refund,
    RefundLine, SourceRef, Stream, json_dumps, protocol, to_decimal,
)

from .client import read_json
from .config import AmazonSPConfig
from .streams import SETTLE_DELAY, format_time, parse_time

__all__ = ["STREAM_CLASSES", "NORMALISERS", "streams", "FinancesStream", "FinancialEventsStream",
           "normalise_transaction", "normalise_financial_event", "STATUSES"]

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


# -------------------------------------------------------------------------------------------------- normalise

_WORD = re.compile(r"[^a-z]")
#: breakdown / charge types (lower case, letters only) that make up what the buyer got back
_AMOUNT = frozenset({"principal", "productcharges", "promotiondiscount", "promotion", "discount", "giftwrap",
                     "giftwrapcharge"})
_TAX = frozenset({"tax", "producttax", "itemtax", "principaltax", "shippingtax", "giftwraptax", "taxdiscount"})
_SHIPPING = frozenset({"shipping", "shippingcharge", "shippingcharges", "shippingdiscount"})
#: breakdown groups that are the seller's costs or Amazon's withholdings, not the buyer's refund
_NOT_BUYER = ("expense", "fee", "withheld", "withholding", "reimbursement")


def _word(text: Any) -> str:
    return _WORD.sub("", str(text or "").lower())


class _Sums:
    """A refund line's amount, tax and shipping as Amazon books them (negative: money leaving the seller)."""

    def __init__(self) -> None:
        self.amount = self.tax = self.shipping = Decimal(0)

    def add(self, kind: str, value: Decimal) -> None:
        if kind in _AMOUNT:
            self.amount += value
        elif kind in _TAX:
            self.tax += value
        elif kind in _SHIPPING:
            self.shipping += value


def _amount(node: Any, currency: str, stream: str, key: str, field: str, *, names: tuple[str, str]) -> Decimal:
    """One Currency object: `currencyAmount`/`currencyCode` (2024-06-19) or `CurrencyAmount`/`CurrencyCode` (v0)."""
    amount_name, code_name = names
    if not isinstance(node, dict) or node.get(amount_name) is None:
        raise RecordError("missing amount", stream=stream, key=key, field=f"{field}.{amount_name}")
    code = node.get(code_name)
    if code and str(code).upper() != currency:
        raise RecordError(f"{code} amount in a {currency} refund", stream=stream, key=key, field=f"{field}.{code_name}")
    try:
        return to_decimal(node[amount_name], field=field)
    except (TypeError, ValueError) as exc:
        raise RecordError(f"unreadable amount {node[amount_name]!r} ({exc})", stream=stream, key=key,
                          field=f"{field}.{amount_name}") from None


def _leaves(breakdowns: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str]]:
    """(types from the top, the breakdown, its index path) for every breakdown without children."""
    for n, b in enumerate(breakdowns or []):
        if not isinstance(b, dict):
            continue
        here = (*path, _word(b.get("breakdownType")))
        if b.get("breakdowns"):
            for inner, leaf, where in _leaves(b["breakdowns"], here):
                yield inner, leaf, f"[{n}].breakdowns{where}"
        else:
            yield here, b, f"[{n}]"


def _refund_id(order_id: str, adjustment_ids: list[str], posted: datetime) -> str:
    """The same for one refund read through either API: the order and its first order-adjustment item."""
    return f"{order_id}/{sorted(adjustment_ids)[0] if adjustment_ids else format_time(posted)}"


def _posted(value: Any, stream: str, key: str, field: str) -> datetime:
    try:
        return parse_time(str(value))
    except ValueError:
        raise RecordError(f"{value!r} is not an ISO 8601 time", stream=stream, key=key, field=field,
                          hint="Amazon always sends the posted date of a financial event") from None


def normalise_transaction(txn: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Refund]:
    """A 2024-06-19 Transaction → a `Refund` when it is one (transactionType Refund), with a line per item (SKU,
    quantity, amount, tax; shipping refunded on the Refund). Other types stay staged (nothing returned).

    An unknown transactionStatus is a dead letter: DEFERRED vs released decides when money arrives."""
    stream, key = FinancesStream.name, str(txn.get("transactionId") or "")
    status = txn.get("transactionStatus")
    if status not in STATUSES:
        raise RecordError(f"unknown transactionStatus {status!r}", stream=stream, key=key, field="transactionStatus",
                          hint=f"expected one of {', '.join(sorted(STATUSES))}; Amazon may have added one: "
                               "upgrade ledgerlink_amazon_sp, or override the finances normaliser")
    if _word(txn.get("transactionType")) != "refund":
        return []
    identifiers = {}
    for n, ident in enumerate(txn.get("relatedIdentifiers") or []):
        if isinstance(ident, dict):
            identifiers.setdefault(str(ident.get("relatedIdentifierName")), str(ident.get("relatedIdentifierValue")))
    order_id = identifiers.get("ORDER_ID")
    if not order_id:
        raise RecordError("refund names no order", stream=stream, key=key, field="relatedIdentifiers",
                          hint="a refund transaction carries relatedIdentifierName ORDER_ID")
    posted = _posted(txn.get("postedDate"), stream, key, "postedDate")
    currency = str((txn.get("totalAmount") or {}).get("currencyCode") or "").upper()
    if not currency:
        raise RecordError("no currency", stream=stream, key=key, field="totalAmount.currencyCode")
    lines, adjustments = [], []
    shipping = Decimal(0)
    items = txn.get("items") or []
    if not items:
        raise RecordError("refund without items", stream=stream, key=key, field="items",
                          hint="Amazon lists the refunded items; without them there is no SKU to credit")
    for n, item in enumerate(items):
        where = f"items[{n}]"
        product = next((c for c in item.get("contexts") or [] if isinstance(c, dict) and c.get("sku")), None)
        if product is None:
            raise RecordError("refunded item has no SKU", stream=stream, key=key, field=f"{where}.contexts",
                              hint="expected a ProductContext with sku and quantityShipped")
        quantity = product.get("quantityShipped")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise RecordError(f"{quantity!r} is not a quantity", stream=stream, key=key,
                              field=f"{where}.contexts.quantityShipped")
        sums = _Sums()
        for path, leaf, at in _leaves(item.get("breakdowns")):
            if any(g in part for part in path[:-1] for g in _NOT_BUYER):
                continue
            sums.add(path[-1], _amount(leaf.get("breakdownAmount"), currency, stream, key,
                                       f"{where}.breakdowns{at}.breakdownAmount",
                                       names=("currencyAmount", "currencyCode")))
        for ident in item.get("relatedIdentifiers") or []:
            if isinstance(ident, dict) and ident.get("itemRelatedIdentifierName") == "ORDER_ADJUSTMENT_ITEM_ID":
                adjustments.append(str(ident.get("itemRelatedIdentifierValue")))
        shipping += sums.shipping
        lines.append(RefundLine(sku=str(product["sku"]), quantity=Decimal(abs(quantity)),
                                amount=Money(amount=-sums.amount, currency=currency),
                                tax=Money(amount=-sums.tax, currency=currency)))
    return [Refund(source="amazon_sp", source_refs=[SourceRef(stream=stream, key=key)],
                   refund_id=_refund_id(order_id, adjustments, posted), order_id=order_id, refunded_at=posted,
                   currency=currency, lines=lines,
                   shipping=Money(amount=-shipping, currency=currency) if shipping else None,
                   reason=txn.get("description") or None)]


def normalise_financial_event(event: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> list[Refund]:
    """A v0 RefundEventList event → the same `Refund` the 2024-06-19 transaction gives. Others stay staged."""
    stream, key = FinancialEventsStream.name, str(event.get("eventKey") or "")
    if event.get("eventType") != "RefundEventList":
        return []
    order_id = event.get("AmazonOrderId")
    if not order_id:
        raise RecordError("refund names no order", stream=stream, key=key, field="AmazonOrderId")
    posted = _posted(event.get("PostedDate"), stream, key, "PostedDate")
    rows = event.get("ShipmentItemAdjustmentList") or []
    if not rows:
        raise RecordError("refund without items", stream=stream, key=key, field="ShipmentItemAdjustmentList")
    currency = next((str(c["ChargeAmount"]["CurrencyCode"]).upper() for r in rows
                     for c in r.get("ItemChargeAdjustmentList") or []
                     if isinstance(c, dict) and isinstance(c.get("ChargeAmount"), dict)
                     and c["ChargeAmount"].get("CurrencyCode")), None)
    if currency is None:
        raise RecordError("no currency", stream=stream, key=key,
                          field="ShipmentItemAdjustmentList.ItemChargeAdjustmentList")
    lines, adjustments = [], []
    shipping = Decimal(0)
    for n, row in enumerate(rows):
        where = f"ShipmentItemAdjustmentList[{n}]"
        if not row.get("SellerSKU"):
            raise RecordError("refunded item has no SellerSKU", stream=stream, key=key, field=f"{where}.SellerSKU")
        quantity = row.get("QuantityShipped")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise RecordError(f"{quantity!r} is not a quantity", stream=stream, key=key,
                              field=f"{where}.QuantityShipped")
        sums = _Sums()
        for m, charge in enumerate(row.get("ItemChargeAdjustmentList") or []):
            sums.add(_word(charge.get("ChargeType")), _amount(
                charge.get("ChargeAmount"), currency, stream, key, f"{where}.ItemChargeAdjustmentList[{m}]",
                names=("CurrencyAmount", "CurrencyCode")))
        for m, promo in enumerate(row.get("PromotionAdjustmentList") or []):
            sums.add("promotion", _amount(promo.get("PromotionAmount"), currency, stream, key,
                                          f"{where}.PromotionAdjustmentList[{m}]",
                                          names=("CurrencyAmount", "CurrencyCode")))
        if row.get("OrderAdjustmentItemId"):
            adjustments.append(str(row["OrderAdjustmentItemId"]))
        shipping += sums.shipping
        lines.append(RefundLine(sku=str(row["SellerSKU"]), quantity=Decimal(abs(quantity)),
                                amount=Money(amount=-sums.amount, currency=currency),
                                tax=Money(amount=-sums.tax, currency=currency)))
    return [Refund(source="amazon_sp", source_refs=[SourceRef(stream=stream, key=key)],
                   refund_id=_refund_id(str(order_id), adjustments, posted), order_id=str(order_id),
                   refunded_at=posted, currency=currency, lines=lines,
                   shipping=Money(amount=-shipping, currency=currency) if shipping else None, reason="Refund Order")]


#: stream classes this module adds to the source (for discover)
STREAM_CLASSES: list[type[Stream]] = [FinancesStream, FinancialEventsStream]
#: normalisers of those streams
NORMALISERS: list[Normaliser] = [Normaliser(stream=FinancesStream.name, function=normalise_transaction),
                                 Normaliser(stream=FinancialEventsStream.name, function=normalise_financial_event)]


def streams(config: Any, client: HttpClient) -> list[Stream]:
    """The configured Finances API's stream only (a catalog may list both)."""
    if config.finances_api == "v0":
        return [FinancialEventsStream(config, client)]
    return [FinancesStream(config, client)]
