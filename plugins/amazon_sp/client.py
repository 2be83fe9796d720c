"""The SP-API HTTP client: Amazon's usage plans, its rate-limit header and its error shape."""

from __future__ import annotations

from typing import Any

import httpx

from ledgerlink import HttpClient, Limit, RetryPolicy, json_loads

from .config import AmazonSPConfig

__all__ = ["USAGE_PLANS", "sp_client", "classify", "describe", "rate_limit_from", "read_json"]

#: Amazon's published default usage plans (requests/second, burst) for every operation whose model publishes one
#: (`tests/amazon_sp/test_amazon_sp_usage_plans.py` holds this table to Amazon's). Sellers may be granted more;
#: `x-amzn-RateLimit-Limit` then overrides the rate at run time. Written here, not read from the reference, so
#: the plugin needs nothing but itself. FBA Inventory's createInventoryItem, deleteInventoryItem and
#: addInventory exist only in Amazon's sandbox and publish no plan.
USAGE_PLANS: dict[str, Limit] = {
    # Catalog Items 2022-04-01
    "searchCatalogItems": Limit(rate=2, burst=2), "getCatalogItem": Limit(rate=2, burst=2),
    # FBA Inventory v1
    "getInventorySummaries": Limit(rate=2, burst=2),
    # Feeds 2021-06-30
    "getFeeds": Limit(rate=0.0222, burst=10), "createFeed": Limit(rate=0.0083, burst=15),
    "cancelFeed": Limit(rate=2, burst=15), "getFeed": Limit(rate=2, burst=15),
    "createFeedDocument": Limit(rate=0.5, burst=15), "getFeedDocument": Limit(rate=0.0222, burst=10),
    # Finances v0
    "listFinancialEventGroups": Limit(rate=0.5, burst=30), "listFinancialEventsByGroupId": Limit(rate=0.5, burst=30),
    "listFinancialEventsByOrderId": Limit(rate=0.5, burst=30), "listFinancialEvents": Limit(rate=0.5, burst=30),
    # Finances 2024-06-19
    "listTransactions": Limit(rate=0.5, burst=10), "listBalances": Limit(rate=0.5, burst=10),
    "listSummary": Limit(rate=0.5, burst=10),
    # Listings Items 2021-08-01
    "deleteListingsItem": Limit(rate=5, burst=5), "getListingsItem": Limit(rate=5, burst=10),
    "patchListingsItem": Limit(rate=5, burst=5), "putListingsItem": Limit(rate=5, burst=10),
    "searchListingsItems": Limit(rate=5, burst=5),
    # Notifications v1
    "getSubscriptions": Limit(rate=1, burst=5), "getSubscription": Limit(rate=1, burst=5),
    "createSubscription": Limit(rate=1, burst=5), "getSubscriptionById": Limit(rate=1, burst=5),
    "deleteSubscriptionById": Limit(rate=1, burst=5), "sendTestNotification": Limit(rate=1, burst=5),
    "getDestinations": Limit(rate=1, burst=5), "createDestination": Limit(rate=1, burst=5),
    "getDestination": Limit(rate=1, burst=5), "deleteDestination": Limit(rate=1, burst=5),
    # Orders v0 (getOrder: Orders 2026-01-01 publishes the same plan for its getOrder)
    "getOrders": Limit(rate=0.0167, burst=20), "getOrder": Limit(rate=0.5, burst=30),
    "getOrderBuyerInfo": Limit(rate=0.5, burst=30), "getOrderAddress": Limit(rate=0.5, burst=30),
    "getOrderItems": Limit(rate=0.5, burst=30), "getOrderItemsBuyerInfo": Limit(rate=0.5, burst=30),
    "updateShipmentStatus": Limit(rate=5, burst=15), "getOrderRegulatedInfo": Limit(rate=0.5, burst=30),
    "updateVerificationStatus": Limit(rate=0.5, burst=30), "confirmShipment": Limit(rate=2, burst=10),
    # Orders 2026-01-01
    "searchOrders": Limit(rate=0.0056, burst=20),
    # Reports 2021-06-30
    "getReports": Limit(rate=0.0222, burst=10), "createReport": Limit(rate=0.0167, burst=15),
    "cancelReport": Limit(rate=0.0222, burst=10), "getReport": Limit(rate=2, burst=15),
    "getReportSchedules": Limit(rate=0.0222, burst=10), "createReportSchedule": Limit(rate=0.0222, burst=10),
    "cancelReportSchedule": Limit(rate=0.0222, burst=10), "getReportSchedule": Limit(rate=0.0222, burst=10),
    "getReportDocument": Limit(rate=0.0167, burst=15),
    # Sales v1
    "getOrderMetrics": Limit(rate=0.5, burst=15),
    # Tokens 2021-03-01
    "createRestrictedDataToken": Limit(rate=1, burst=10),
    # Transfers 2024-06-01
    "initiatePayout": Limit(rate=0.017, burst=2), "listPayouts": Limit(rate=0.5, burst=10),
    "getPaymentMethods": Limit(rate=0.5, burst=30), "listExpectedPayouts": Limit(rate=0.5, burst=10),
}
#: operations not listed above: conservative until the header tells us better
DEFAULT_PLAN = Limit(rate=0.5, burst=5)


def classify(response: httpx.Response) -> str:
    """429 QuotaExceeded is throttling; 5xx is worth retrying; 400/403/404 will fail the same way again."""
    status = response.status_code
    if status < 400:
        return "ok"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "transient"
    return "permanent"


def describe(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from Amazon's `{"errors": [{"code", "message", "details"}]}` body, or LWA's shape."""
    try:
        body = read_json(response)
    except ValueError:
        return None, response.text[:300]
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        errors = [e for e in body["errors"] if isinstance(e, dict)]
        parts = []
        for e in errors:
            text = str(e.get("message") or "")
            if e.get("details"):
                text += f" ({e['details']})"
            if len(errors) > 1 and e.get("code"):  # the first code is the error's own; say the others'
                text = f"{e['code']}: {text}"
            parts.append(text)
        code = errors[0].get("code") if errors else None
        return (str(code) if code else None), "; ".join(parts)
    if isinstance(body, dict) and ("error" in body or "error_description" in body):
        return str(body.get("error")), str(body.get("error_description") or body.get("error"))
    return None, response.text[:300]


def rate_limit_from(response: httpx.Response) -> Limit | None:
    """The seller's actual rate from `x-amzn-RateLimit-Limit` (absent on throttled/unauthorised replies).
    Burst 0 means "keep the bucket's burst": Amazon only reports the rate."""
    value = response.headers.get("x-amzn-RateLimit-Limit")
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        return None
    return Limit(rate=rate, burst=0) if rate > 0 else None


def read_json(response: httpx.Response) -> Any:
    """Parse a body with Decimal numbers: httpx's `.json()` would turn amounts into floats."""
    return json_loads(response.content) if response.content else None


def sp_client(config: AmazonSPConfig, auth: httpx.Auth | None, *, retry: RetryPolicy | None = None,
              transport: httpx.BaseTransport | None = None) -> HttpClient:
    """One client per seller and region: buckets are keyed `seller/region/operation`."""
    return HttpClient(
        config.endpoint, rate_key=config.rate_key, limits=dict(USAGE_PLANS), default_limit=DEFAULT_PLAN,
        retry=retry, auth=auth, transport=transport, classify=classify, describe=describe,
        rate_limit_from=rate_limit_from, headers={"Accept": "application/json", "User-Agent": "ledgerlink"})
