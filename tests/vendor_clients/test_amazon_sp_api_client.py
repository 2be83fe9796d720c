"""python-amazon-sp-api — the client Amazon sellers' own scripts use — pointed at the Amazon sandbox: the LWA
token exchange, orders and order items page by page, a report created, polled and downloaded, financial events,
and FBA inventory summaries. Whatever it sends that the sandbox refused but Amazon accepts was a sandbox bug
(fixed: createReport now ignores the `MarketplaceIds` the client adds beside `marketplaceIds`, as Amazon does).

Two things in the harness are the client's, not the sandbox's, and only matter on plain http: its LWA host and
scheme are class attributes (a subclass points them at the sandbox), and it derives the `host` header by cutting
`https://` off the endpoint, so an `http://` endpoint needs that header set from the URL."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

sp_api = pytest.importorskip("sp_api", reason="python-amazon-sp-api is in the test extra")

from sp_api.api import Finances, Inventories, Orders, Reports  # noqa: E402
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client  # noqa: E402
from sp_api.base import Marketplaces  # noqa: E402
from sp_api.base.exceptions import SellingApiBadRequestException  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox_helpers import sandbox_running, wait_for  # noqa: E402

US = "ATVPDKIKX0DER"
#: the sandbox seller's LWA app and grant (what the shipped pipelines use)
CREDENTIALS = {"lwa_app_id": "amzn1.application-oa2-client.sandbox", "lwa_client_secret": "sandbox-lwa-client-secret"}
REFRESH_TOKEN = "Atzr|sandbox-refresh-token"


class SandboxClients:
    """Builds python-amazon-sp-api clients whose SP-API endpoint and LWA token URL are the sandbox's."""

    def __init__(self, url: str):
        self.url = url
        netloc = urlsplit(url).netloc

        class LwaAtTheSandbox(AccessTokenClient):
            scheme = "http://"
            host = netloc

        self.lwa = LwaAtTheSandbox

    def __call__(self, api: type, *, client_secret: str | None = None) -> Any:
        credentials = {**CREDENTIALS, **({"lwa_client_secret": client_secret} if client_secret else {})}
        client = api(Marketplaces.US, refresh_token=REFRESH_TOKEN, credentials=credentials,
                     auth_token_client_class=self.lwa)
        client.endpoint = self.url
        netloc = urlsplit(self.url).netloc

        def host_from_the_url(request: Any) -> None:
            request.headers["host"] = netloc

        client._transport._client.event_hooks["request"].append(host_from_the_url)
        return client


@pytest.fixture
def amazon() -> Iterator[tuple[SandboxClients, Any]]:
    access_token_client.cache.clear()  # the client caches access tokens per refresh token, process-wide
    # the sandbox checks the app's credentials and the grant as LWA does
    with sandbox_running("amazon_sp", orders=150, client_id=CREDENTIALS["lwa_app_id"],
                         client_secret=CREDENTIALS["lwa_client_secret"], refresh_token=REFRESH_TOKEN) as (url, sandbox):
        yield SandboxClients(url), sandbox
    access_token_client.cache.clear()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_lwa_token_exchange_then_orders_page_by_page_and_their_items(amazon):
    clients, sandbox = amazon
    orders = clients(Orders)
    after = datetime(2025, 1, 1, tzinfo=timezone.utc)
    page = orders.get_orders(CreatedAfter=_iso(after))
    pages, seen = 1, [o["AmazonOrderId"] for o in page.payload["Orders"]]
    while page.next_token and pages < 50:
        page = orders.get_orders(NextToken=page.next_token)
        pages += 1
        seen += [o["AmazonOrderId"] for o in page.payload["Orders"]]
    assert pages > 1 and len(seen) == len(set(seen))
    # every order the sandbox holds in that window, once
    expected = {sandbox.api.book.order(i)["AmazonOrderId"]
                for i in sandbox.api.book.select([US], int(after.timestamp()), 2**40, created=True)}
    assert set(seen) == expected
    # the access token came from the sandbox's LWA endpoint (one exchange, cached by the client)
    assert access_token_client.cache and all(v["access_token"] in sandbox.api.tokens for v in
                                               access_token_client.cache.values())
    items = orders.get_order_items(seen[0]).payload
    assert items["AmazonOrderId"] == seen[0] and items["OrderItems"]
    assert {i["OrderItemId"] for i in items["OrderItems"]} == {
        i["OrderItemId"] for i in sandbox.api.book.items(sandbox.api.book.index_of(seen[0]))}


def test_a_wrong_client_secret_is_refused_by_the_token_exchange(amazon):
    clients, _ = amazon
    from sp_api.auth.exceptions import AuthorizationError

    with pytest.raises(AuthorizationError) as refused:
        clients(Orders, client_secret="not-the-secret").get_orders(CreatedAfter="2026-01-01T00:00:00Z")
    assert refused.value.status_code == 401


def test_a_report_is_created_polled_and_downloaded(amazon):
    clients, _ = amazon
    reports = clients(Reports)
    # the client adds MarketplaceIds beside marketplaceIds: Amazon ignores the extra field, and so does the sandbox
    created = reports.create_report(reportType="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
                                    dataStartTime="2026-01-01T00:00:00Z")
    report_id = created.payload["reportId"]
    status: dict[str, Any] = {}

    def done() -> bool:
        status.update(reports.get_report(report_id).payload)
        return status["processingStatus"] in ("DONE", "CANCELLED", "FATAL")

    assert wait_for(done, 60), status
    assert status["processingStatus"] == "DONE" and status["marketplaceIds"] == [US]
    document = reports.get_report_document(status["reportDocumentId"], download=True).payload
    rows = document["document"].splitlines()
    assert rows[0].startswith("amazon-order-id\t") and len(rows) > 1
    # what Amazon refuses the sandbox refuses too: a report type that does not exist
    with pytest.raises(SellingApiBadRequestException):
        reports.create_report(reportType="GET_NO_SUCH_REPORT", dataStartTime="2026-01-01T00:00:00Z")


def test_financial_events_and_fba_inventory(amazon):
    clients, sandbox = amazon
    now = datetime.now(timezone.utc)
    events = clients(Finances).list_financial_events(PostedAfter=_iso(now - timedelta(days=170)),
                                                      PostedBefore=_iso(now - timedelta(minutes=5))).payload
    lists = events["FinancialEvents"]
    assert {"ShipmentEventList", "RefundEventList"} <= set(lists)
    assert lists["ShipmentEventList"], "the sandbox seller shipped orders in the last 170 days"
    shipped = lists["ShipmentEventList"][0]
    assert shipped["AmazonOrderId"] and shipped["ShipmentItemList"]
    summaries = clients(Inventories).get_inventory_summary_marketplace(details=True).payload
    assert summaries["granularity"] == {"granularityType": "Marketplace", "granularityId": US}
    first = summaries["inventorySummaries"][0]
    assert first["sellerSku"] and "fulfillableQuantity" in first["inventoryDetails"]
