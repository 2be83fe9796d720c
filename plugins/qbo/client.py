"""The QuickBooks Online v3 API as a handful of calls: read, query, create, update, company settings.

Every call goes through one `ledgerlink.HttpClient` keyed by realm, so one token bucket (500 requests a
minute, Intuit's per-company limit) covers all of a company's calls, and QBO faults are classified by
`faults.classify`. OAuth2 refresh tokens rotate; each new one is handed to `on_rotate` at once.
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import httpx

from ledgerlink import (
    HttpClient, Limit, OAuth2RefreshAuth, RemoteError, RetryPolicy, TransientError, json_dumps, json_loads,
)

from .config import QboConnection
from .faults import classify, describe

__all__ = ["QboApi", "CompanySettings", "escape", "realm_limit", "batch_limit", "REALM_LIMIT", "ENTITY_PATHS",
           "NAME_LIST_ENTITIES", "BATCH_MAX", "batch_request_id", "retry_request_id"]

#: Intuit: 500 requests per minute per realm, and 10 concurrent. The runtime may keep several batches in
#: flight (the destination's `batches_in_flight`), so every call holds one of its realm's `MAX_IN_FLIGHT`
#: places in this process (`_realm_places`) while it is under way. A burst of a fiftieth of the minute's
#: allowance (10 at Intuit's rate) keeps a run from spending the minute in a second.
REALM_LIMIT = Limit(rate=500 / 60, burst=10)
#: Intuit's requests at once per realm: kept in this process by a semaphore per realm, and across processes
#: where a fleet installs an account limiter
MAX_IN_FLIGHT = 10
_places: dict[str, threading.BoundedSemaphore] = {}
_places_lock = threading.Lock()


def _realm_places(realm_id: str) -> threading.BoundedSemaphore:
    """The realm's places for calls under way, shared by every QboApi of this process."""
    with _places_lock:
        places = _places.get(realm_id)
        if places is None:
            places = _places[realm_id] = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        return places


def realm_limit(requests_per_minute: int) -> Limit:
    return Limit(rate=requests_per_minute / 60, burst=max(10, requests_per_minute // 50))


def batch_limit(batch_requests_per_minute: int) -> Limit:
    """Intuit: 40 batch requests a minute per realm, spread evenly (no burst: a sliding window counts every
    call of the last minute, so saved-up calls would be throttled)."""
    return Limit(rate=batch_requests_per_minute / 60, burst=1)


#: one bucket for all of a realm's calls: HttpClient keys buckets by `rate_key/operation`
_OPERATION = "qbo"
_BATCH_BUCKET = "qbo-batch"
#: Intuit: at most 30 operations in one batch request
BATCH_MAX = 30
ENTITY_PATHS = {name: name.lower() for name in (
    "Customer", "Item", "SalesReceipt", "Account", "Vendor", "Employee", "Invoice", "Payment", "CreditMemo",
    "RefundReceipt", "JournalEntry", "Deposit", "InventoryAdjustment", "Class", "Department", "TaxCode",
    "PaymentMethod")}
#: name lists hide inactive objects from queries unless `Active` is named
NAME_LIST_ENTITIES = ("Customer", "Item", "Account", "Vendor", "Employee", "Class", "Department", "TaxCode",
                      "PaymentMethod")


def batch_request_id(item_ids: list[str]) -> str:
    """The requestid of one batch (≤ 36 characters): the same items in the same order get the same id, so a
    batch retried after a lost response is answered from Intuit's replay, not run twice."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ledgerlink-batch:" + ",".join(item_ids)))


def retry_request_id(request_id: str, attempt: int) -> str:
    """A new requestid (36 characters) for the retry after `attempt` of a call QuickBooks answered with an
    error: Intuit answers a repeated requestid with its first response, so the old id would get the error back."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledgerlink-retry:{request_id}#{attempt}"))


def escape(value: str) -> str:
    """A string literal for the QBO query language: single quotes escaped with a backslash (the only
    escape Intuit documents; other backslashes are literal)."""
    return "'" + value.replace("'", "\\'") + "'"


@dataclass(frozen=True)
class CompanySettings:
    """What the company's settings decide about posting."""

    company_name: str
    country: str
    home_currency: str
    multicurrency: bool
    using_sales_tax: bool
    automated_sales_tax: bool = False
    inventory_tracking: bool = False
    class_tracking: bool = False
    track_departments: bool = False
    custom_txn_numbers: bool = True


class QboApi:
    """One company's API. Errors are ledgerlink RemoteErrors whose message says what was being done."""

    def __init__(self, config: QboConnection, refresh_token: str, *, on_rotate: Callable[[str], None] | None = None,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None,
                 on_refresh_expiry: Callable[[float], None] | None = None):
        self.config = config
        self.auth = OAuth2RefreshAuth(config.token_url, config.client_id, config.client_secret, refresh_token,
                                      basic_auth=True, on_rotate=on_rotate, transport=transport,
                                      on_refresh_expiry=on_refresh_expiry)
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.http = HttpClient(config.base_url, rate_key=config.realm_id,
                               limits={_OPERATION: realm_limit(config.requests_per_minute),
                                       _BATCH_BUCKET: batch_limit(getattr(config, "batch_requests_per_minute", 40))},
                               retry=retry, timeout=config.timeout_s, headers={"Accept": "application/json"},
                               auth=self.auth, transport=transport, classify=classify, describe=describe,
                               max_in_flight=MAX_IN_FLIGHT, **extra)
        self.batch_calls = 0
        self._places = _realm_places(config.realm_id)
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # -------------------------------------------------------------------------------------------- calls

    def _path(self, tail: str) -> str:
        return f"/v3/company/{self.config.realm_id}/{tail}"

    def _call(self, action: str, method: str, tail: str, params: dict[str, Any] | None = None,
              body: Any = None, renew: str | None = None) -> dict[str, Any]:
        """One call. For a write with a `requestid`, `renew` says which answered errors are retried here under
        a new requestid (the old one would be answered with the same error): "throttled" (a 429 proves nothing
        was committed), "answered" (any retryable answer: safe where a second commit is refused or harmless),
        or None. Other answered errors raise, so the caller looks up what was committed before sending again;
        a lost answer is always retried under the same requestid, which Intuit's replay answers."""
        params = {**(params or {}), "minorversion": str(self.config.minor_version)}
        kwargs: dict[str, Any] = {"params": params}
        if body is not None:
            kwargs["content"] = json_dumps(body).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        first_id = params.get("requestid")
        if renew is not None and first_id:
            def after_answer(error: RemoteError, attempt: int) -> dict[str, Any] | None:
                if renew == "throttled" and error.kind != "throttled":
                    return None
                return {"params": {**params, "requestid": retry_request_id(first_id, attempt)}}
            kwargs["after_answer"] = after_answer
        try:
            with self._places:
                response = self.http.request(method, self._path(tail), operation=f"QuickBooks {action}",
                                             bucket=_OPERATION, **kwargs)
        except RemoteError as exc:
            exc.hint = exc.hint or _hint(exc)
            raise
        try:
            body = json_loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # a proxy's HTML page or a cut-off body: the call may have committed, so only a retry with the
            # same requestid (answered from Intuit's replay) or the next run's look-up can tell
            raise TransientError(f"QuickBooks {action}: HTTP {response.status_code} with a body that is not a JSON "
                                 f"object: {response.text[:120]!r}", status=response.status_code,
                                 operation=f"QuickBooks {action}",
                                 hint="retried on the next sync; if it persists, check base_url points at the "
                                      "QuickBooks API (not a login page or proxy)")
        return body

    @staticmethod
    def _entity(body: dict[str, Any], entity: str, action: str) -> dict[str, Any]:
        obj = body.get(entity)
        if not isinstance(obj, dict):
            raise TransientError(f"QuickBooks {action}: the answer has no {entity} object: {str(body)[:120]}",
                                 operation=f"QuickBooks {action}")
        return obj

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        action = f"read {entity} {entity_id}"
        return self._entity(self._call(action, "GET", f"{ENTITY_PATHS[entity]}/{entity_id}"), entity, action)

    def query(self, statement: str) -> list[dict[str, Any]]:
        """Rows of one `select * from Entity ...` (QBO omits the entity key when nothing matched)."""
        return self.query_page(statement)[0]

    def query_page(self, statement: str) -> tuple[list[dict[str, Any]], str | None]:
        """Rows of one query and the server's `time` of the answer (when QBO had them all)."""
        entity = re.search(r"\bfrom\s+(\w+)", statement, re.I)
        body = self._call(f"query {entity.group(1) if entity else ''}".strip(), "GET", "query",
                          params={"query": statement})
        response = body.get("QueryResponse") or {}
        rows = list(response.get(entity.group(1), [])) if entity else []
        return rows, _text(body.get("time"))

    def find(self, entity: str, field: str, value: str, include_inactive: bool = True) -> list[dict[str, Any]]:
        """Objects whose `field` equals `value`; QBO hides inactive name-list objects unless asked."""
        statement = f"select * from {entity} where {field} = {escape(value)}"
        if include_inactive and entity in NAME_LIST_ENTITIES:
            statement += " and Active in (true, false)"
        return self.query(statement)

    def find_many(self, entity: str, field: str, values: list[str]) -> list[dict[str, Any]]:
        """Objects whose `field` is one of `values` (active or not): 50 values a query, every page of 1000."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(values), 50):
            chunk = ", ".join(escape(v) for v in values[start:start + 50])
            statement = f"select * from {entity} where {field} in ({chunk})"
            if entity in NAME_LIST_ENTITIES:
                statement += " and Active in (true, false)"
            position = 1
            while True:
                page = self.query(f"{statement} startposition {position} maxresults 1000")
                rows.extend(page)
                if len(page) < 1000:
                    break
                position += 1000
        return rows

    def create(self, entity: str, payload: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Create once: QBO answers a repeated `requestid` with the first response, not a second object.

        A name-list object (Customer, Item, Account…) is retried under a new requestid after any answered
        error, since QBO refuses a second object of the same name (6240, and the callers link the first); a
        transaction only after a 429: after a 5xx the caller looks it up before sending it again."""
        action = f"create {entity}"
        renew = "answered" if entity in NAME_LIST_ENTITIES else "throttled"
        return self._entity(self._call(action, "POST", ENTITY_PATHS[entity], params={"requestid": request_id},
                                       body=payload, renew=renew), entity, action)

    def update(self, entity: str, payload: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Full or sparse update: `payload` carries `Id` and the `SyncToken` it was read at (stale → 5010).
        Retried under a new requestid after an answered error: had it committed, the SyncToken is stale."""
        params = {"requestid": request_id} if request_id else {}
        action = f"update {entity} {payload.get('Id')}"
        return self._entity(self._call(action, "POST", ENTITY_PATHS[entity], params=params, body=payload,
                                       renew="answered"), entity, action)

    def void(self, entity: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Void a transaction as Intuit documents it per entity: `invoice?operation=void` ({Id, SyncToken}),
        `salesreceipt?include=void` and `payment?operation=update&include=void` (sparse). The document stays,
        its amounts zero."""
        params: dict[str, str] = {"requestid": request_id}
        body: dict[str, Any] = {"Id": entity_id, "SyncToken": sync_token}
        if entity == "Invoice":
            params["operation"] = "void"
        else:
            params.update({"include": "void", **({"operation": "update"} if entity == "Payment" else {})})
            body["sparse"] = True
        action = f"void {entity} {entity_id}"
        # voiding twice leaves the document as voided once (and a stale SyncToken is refused): a new id is safe
        return self._entity(self._call(action, "POST", ENTITY_PATHS[entity], params=params, body=body,
                                       renew="answered"), entity, action)

    def exchange_rate(self, currency: str, as_of: str) -> dict[str, Any]:
        """QuickBooks' rate for `currency` into the home currency on a date (multicurrency companies)."""
        action = f"read ExchangeRate {currency} {as_of}"
        return self._entity(self._call(action, "GET", "exchangerate",
                                       params={"sourcecurrencycode": currency, "asofdate": as_of}),
                            "ExchangeRate", action)

    def batch(self, items: list[dict[str, Any]], request_id: str) -> dict[str, dict[str, Any]]:
        """One `/batch` call of up to 30 items (`bId`, `operation`, entity payload or `Query`): the answers by
        bId. A whole-call failure raises; an item's own Fault comes back as that item's answer."""
        if not 1 <= len(items) <= BATCH_MAX:
            raise ValueError(f"a QuickBooks batch holds 1 to {BATCH_MAX} items, not {len(items)}")
        # a batch counts against both the realm's 500 a minute (in `_call`) and its 40 batches a minute
        self.http.limiter.acquire(f"{self.config.realm_id}/{_BATCH_BUCKET}", _BATCH_BUCKET)
        with self._count_lock:
            self.batch_calls += 1
        body = self._call(f"batch of {len(items)}", "POST", "batch", params={"requestid": request_id},
                          body={"BatchItemRequest": items}, renew="throttled")
        answers = body.get("BatchItemResponse")
        if not isinstance(answers, list):
            raise TransientError(f"QuickBooks batch: the answer has no BatchItemResponse: {str(body)[:120]}",
                                 operation="QuickBooks batch")
        return {str(a.get("bId")): a for a in answers if isinstance(a, dict)}

    def pause(self, attempt: int) -> None:
        """Back off as between two tries of one call, before a caller's own retry (after its look-up)."""
        self.http.backoff(attempt)

    def cdc(self, entities: list[str], changed_since: datetime) -> dict[str, list[dict[str, Any]]]:
        """Change data capture: objects of `entities` changed since then (deleted ones have `status: Deleted`).
        Intuit looks back 30 days at most and answers 1000 objects at most."""
        return self.changes(entities, changed_since)[0]

    def changes(self, entities: list[str], changed_since: datetime
                ) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
        """`cdc`, with the server's `time` of the answer: everything changed before it was reported (unless
        the answer holds CDC's 1000 objects)."""
        body = self._call("change data capture", "GET", "cdc",
                          params={"entities": ",".join(entities), "changedSince": changed_since.isoformat()})
        out: dict[str, list[dict[str, Any]]] = {e: [] for e in entities}
        for cdc in body.get("CDCResponse") or []:
            for response in cdc.get("QueryResponse") or []:
                for entity in entities:
                    out[entity].extend(response.get(entity) or [])
        return out, _text(body.get("time"))

    def company_info(self) -> dict[str, Any]:
        return self._entity(self._call("read CompanyInfo", "GET", f"companyinfo/{self.config.realm_id}"),
                            "CompanyInfo", "read CompanyInfo")

    def company_settings(self) -> CompanySettings:
        info = self.company_info()
        prefs = self._entity(self._call("read Preferences", "GET", "preferences"), "Preferences", "read Preferences")
        currency = prefs.get("CurrencyPrefs") or {}
        tax = prefs.get("TaxPrefs") or {}
        accounting = prefs.get("AccountingInfoPrefs") or {}
        products = prefs.get("ProductAndServicesPrefs") or {}
        forms = prefs.get("SalesFormsPrefs") or {}
        return CompanySettings(
            company_name=str(info.get("CompanyName", "")), country=str(info.get("Country", "")),
            home_currency=str((currency.get("HomeCurrency") or {}).get("value") or "USD"),
            multicurrency=bool(currency.get("MultiCurrencyEnabled", False)),
            using_sales_tax=bool(tax.get("UsingSalesTax", False)),
            automated_sales_tax=bool(tax.get("PartnerTaxEnabled", False)),
            inventory_tracking=bool(products.get("QuantityOnHand", False)),
            class_tracking=bool(accounting.get("ClassTrackingPerTxn") or accounting.get("ClassTrackingPerTxnLine")),
            track_departments=bool(accounting.get("TrackDepartments", False)),
            custom_txn_numbers=bool(forms.get("CustomTxnNumbers", True)))


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _hint(exc: RemoteError) -> str | None:
    if exc.status == 401:
        return "QuickBooks refused the access token even after a refresh: re-authorise the app for this company"
    if exc.status == 403 and exc.kind == "permanent":
        return "the app or user lacks access to this company (check realm_id and the app's scopes)"
    if exc.code == "5010":
        return "someone changed the object in QuickBooks meanwhile: read it again and retry with its SyncToken"
    return None
