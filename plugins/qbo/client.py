"""The QuickBooks Online v3 API as a handful of calls: read, query, create, update, company settings.

Every call goes through one `ledgerlink.HttpClient` keyed by realm, so one token bucket (500 requests a
minute, Intuit's per-company limit) covers all of a company's calls, and QBO faults are classified by
`faults.classify`. OAuth2 refresh tokens rotate; each new one is handed to `on_rotate` at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from ledgerlink import HttpClient, Limit, OAuth2RefreshAuth, RemoteError, RetryPolicy, json_dumps, json_loads

from .config import QboConfig
from .faults import classify, describe

__all__ = ["QboApi", "CompanySettings", "escape", "realm_limit", "REALM_LIMIT", "ENTITY_PATHS"]

#: Intuit: 500 requests per minute per realm (and 10 concurrent; this client is sequential). A burst of a
#: fiftieth of the minute's allowance (10 at Intuit's rate) keeps a run from spending the minute in a second.
REALM_LIMIT = Limit(rate=500 / 60, burst=10)


def realm_limit(requests_per_minute: int) -> Limit:
    return Limit(rate=requests_per_minute / 60, burst=max(10, requests_per_minute // 50))
#: one bucket for all of a realm's calls: HttpClient keys buckets by `rate_key/operation`
_OPERATION = "qbo"
ENTITY_PATHS = {"Customer": "customer", "Item": "item", "SalesReceipt": "salesreceipt", "Account": "account",
                "Vendor": "vendor", "Employee": "employee"}


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


class QboApi:
    """One company's API. Errors are ledgerlink RemoteErrors whose message says what was being done."""

    def __init__(self, config: QboConfig, refresh_token: str, *, on_rotate: Callable[[str], None] | None = None,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None):
        self.config = config
        self.auth = OAuth2RefreshAuth(config.token_url, config.client_id, config.client_secret, refresh_token,
                                      basic_auth=True, on_rotate=on_rotate, transport=transport)
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.http = HttpClient(config.base_url, rate_key=config.realm_id, default_limit=realm_limit(config.requests_per_minute), retry=retry,
                               timeout=config.timeout_s, headers={"Accept": "application/json"}, auth=self.auth,
                               transport=transport, classify=classify, describe=describe, **extra)

    def close(self) -> None:
        self.http.close()

    # -------------------------------------------------------------------------------------------- calls

    def _path(self, tail: str) -> str:
        return f"/v3/company/{self.config.realm_id}/{tail}"

    def _call(self, action: str, method: str, tail: str, params: dict[str, Any] | None = None,
              body: Any = None) -> dict[str, Any]:
        params = {**(params or {}), "minorversion": str(self.config.minor_version)}
        kwargs: dict[str, Any] = {"params": params}
        if body is not None:
            kwargs["content"] = json_dumps(body).encode()
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            response = self.http.request(method, self._path(tail), operation=f"QuickBooks {action}",
                                         bucket=_OPERATION, **kwargs)
        except RemoteError as exc:
            exc.hint = exc.hint or _hint(exc)
            raise
        return json_loads(response.content)

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        return self._call(f"read {entity} {entity_id}", "GET", f"{ENTITY_PATHS[entity]}/{entity_id}")[entity]

    def query(self, statement: str) -> list[dict[str, Any]]:
        """Rows of one `select * from Entity ...` (QBO omits the entity key when nothing matched)."""
        entity = re.search(r"\bfrom\s+(\w+)", statement, re.I)
        body = self._call(f"query {entity.group(1) if entity else ''}".strip(), "GET", "query",
                          params={"query": statement})
        response = body.get("QueryResponse") or {}
        return list(response.get(entity.group(1), [])) if entity else []

    def find(self, entity: str, field: str, value: str, include_inactive: bool = True) -> list[dict[str, Any]]:
        """Objects whose `field` equals `value`; QBO hides inactive name-list objects unless asked."""
        statement = f"select * from {entity} where {field} = {escape(value)}"
        if include_inactive and entity in ("Customer", "Item", "Account", "Vendor", "Employee"):
            statement += " and Active in (true, false)"
        return self.query(statement)

    def find_many(self, entity: str, field: str, values: list[str]) -> list[dict[str, Any]]:
        """Objects whose `field` is one of `values` (active or not), a page of up to 1000 per 50 values."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(values), 50):
            chunk = ", ".join(escape(v) for v in values[start:start + 50])
            statement = f"select * from {entity} where {field} in ({chunk})"
            if entity in ("Customer", "Item", "Account", "Vendor", "Employee"):
                statement += " and Active in (true, false)"
            rows.extend(self.query(statement + " maxresults 1000"))
        return rows

    def create(self, entity: str, payload: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Create once: QBO answers a repeated `requestid` with the first response, not a second object."""
        return self._call(f"create {entity}", "POST", ENTITY_PATHS[entity], params={"requestid": request_id},
                          body=payload)[entity]

    def update(self, entity: str, payload: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Full or sparse update: `payload` carries `Id` and the `SyncToken` it was read at (stale → 5010)."""
        params = {"requestid": request_id} if request_id else {}
        return self._call(f"update {entity} {payload.get('Id')}", "POST", ENTITY_PATHS[entity], params=params,
                          body=payload)[entity]

    def company_info(self) -> dict[str, Any]:
        return self._call("read CompanyInfo", "GET", f"companyinfo/{self.config.realm_id}")["CompanyInfo"]

    def company_settings(self) -> CompanySettings:
        info = self.company_info()
        prefs = self._call("read Preferences", "GET", "preferences")["Preferences"]
        currency = prefs.get("CurrencyPrefs") or {}
        return CompanySettings(
            company_name=str(info.get("CompanyName", "")), country=str(info.get("Country", "")),
            home_currency=str((currency.get("HomeCurrency") or {}).get("value") or "USD"),
            multicurrency=bool(currency.get("MultiCurrencyEnabled", False)),
            using_sales_tax=bool((prefs.get("TaxPrefs") or {}).get("UsingSalesTax", False)))


def _hint(exc: RemoteError) -> str | None:
    if exc.status == 401:
        return "QuickBooks refused the access token even after a refresh: re-authorise the app for this company"
    if exc.status == 403 and exc.kind == "permanent":
        return "the app or user lacks access to this company (check realm_id and the app's scopes)"
    if exc.code == "5010":
        return "someone changed the object in QuickBooks meanwhile: read it again and retry with its SyncToken"
    return None
