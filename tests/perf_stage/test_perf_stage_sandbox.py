"""The Amazon sandbox serves searchOrders pages from orders encoded once: the same text as encoding them anew,
an update shows at once, and `pre_encode` refuses an includedData Amazon does not have."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from ledgerlink.sandbox import running
from ledgerlink_amazon_sp.orders.streams import INCLUDED_DATA
from ledgerlink_amazon_sp.sandbox import AmazonSandbox
from ledgerlink_amazon_sp.sandbox.server import _dumps

ANCHOR = datetime(2026, 3, 1, tzinfo=timezone.utc)


def test_an_order_encoded_once_is_the_order_encoded_anew_and_an_update_shows():
    sandbox = AmazonSandbox(orders=40, anchor=ANCHOR, pre_encode=",".join(INCLUDED_DATA))
    book, wanted = sandbox.api.book, frozenset(INCLUDED_DATA)
    for i in range(book.total):
        assert book.order_2026_json(i, wanted, _dumps) == _dumps(book.order_2026(i, wanted))
    before = book.order_2026_json(3, wanted, _dumps)
    book.update(3, int(ANCHOR.timestamp()), OrderStatus="Canceled")
    after = book.order_2026_json(3, wanted, _dumps)
    assert after != before and after == _dumps(book.order_2026(3, wanted))


def test_pages_served_from_the_cache_are_the_same_pages():
    fresh, cached = AmazonSandbox(orders=120, anchor=ANCHOR), AmazonSandbox(orders=120, anchor=ANCHOR,
                                                                              pre_encode=",".join(INCLUDED_DATA))
    pages = []
    for sandbox in (fresh, cached):
        with running(sandbox) as url, httpx.Client(base_url=url, timeout=10) as client:
            token = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|x",
                                                       "client_id": "c", "client_secret": "s"}).json()["access_token"]
            params = {"lastUpdatedAfter": "2025-01-01T00:00:00Z", "lastUpdatedBefore": "2026-02-28T00:00:00Z",
                      "maxResultsPerPage": 50, "includedData": ",".join(INCLUDED_DATA)}
            got = []
            for _ in range(10):
                body = client.get("/orders/2026-01-01/orders", params=params,
                                  headers={"x-amz-access-token": token}).json()
                got.append(body["orders"])
                token_next = (body.get("pagination") or {}).get("nextToken")
                if not token_next:
                    break
                params = {**params, "paginationToken": token_next}
            pages.append(got)
    assert pages[0] == pages[1] and sum(len(p) for p in pages[0]) > 0


def test_pre_encode_refuses_an_unknown_included_data():
    with pytest.raises(ValueError, match="NOT_A_SET"):
        AmazonSandbox(orders=5, anchor=ANCHOR, pre_encode="BUYER,NOT_A_SET")
