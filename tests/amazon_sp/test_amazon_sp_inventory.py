"""fba_inventory: getInventorySummaries against the sandbox over loopback (paging, nextToken life, incremental
reads, throttling), the sandbox checked against Amazon's FBA Inventory model, and the InventoryLevel normaliser."""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from ledgerlink import InventoryLevel, PermanentError, RecordError, protocol
from ledgerlink_amazon_sp.inventory.normalise import location_of, normalise_inventory
from ledgerlink_amazon_sp.inventory.streams import FbaInventoryStream
from ledgerlink_amazon_sp.sandbox.seed import SKUS

MARKETS = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
PATH = "/fba/inventory/v1/summaries"
#: Amazon's 30 s at time_scale 1000 are 30 ms, which a loaded CI machine can spend on one 429 backoff: tests that
#: are not about a token's life give it 30 real seconds (the expiry tests use the scaled life)
LONG_TOKENS = {"next_token_life_s": 30_000}


def catalog(*names: str) -> protocol.ConfiguredCatalog:
    return protocol.ConfiguredCatalog.model_validate({"streams": [
        {"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
         "sync_mode": "incremental", "destination_sync_mode": "append_dedup"} for n in names]})


def read(source: Any, config: dict[str, Any], state: Any = None) -> list[protocol.Message]:
    return list(source.read(config, catalog("fba_inventory"), state))


def records(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    return [m.record.data for m in messages if m.type == protocol.MessageType.RECORD]


def last_state(messages: list[protocol.Message]) -> list[dict[str, Any]]:
    states = [m.state for m in messages if m.type == protocol.MessageType.STATE]
    return [states[-1].model_dump(mode="json", by_alias=True, exclude_none=True)]


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    return {"x-amz-access-token": body["access_token"]}


def query(market: str, **extra: str) -> dict[str, str]:
    return {"details": "true", "granularityType": "Marketplace", "granularityId": market, "marketplaceIds": market,
            **extra}


# ------------------------------------------------------------------------------------------------ reading


def test_reads_every_summary_of_every_marketplace_once(sandbox, make_config, make_source):
    with sandbox(orders=120, inventory_page_size=5, **LONG_TOKENS) as (url, sb):
        messages = read(make_source(), make_config(url))
        calls = sb.api.calls
        expected = {(m, s.summary(True)["sellerSku"]): s.summary(True) for m in MARKETS
                    for s in sb.api.inventory.book.levels[m]}
    got = records(messages)
    assert len(got) == len(expected) == 2 * len(SKUS)
    assert {(r["marketplaceId"], r["sellerSku"]): {k: v for k, v in r.items() if k != "marketplaceId"}
            for r in got} == expected  # Amazon's objects, plus only the marketplace they were read at
    assert calls["getInventorySummaries"]["200"] == 6  # 12 SKUs in pages of 5, per marketplace
    state = last_state(messages)[0]["stream"]["stream_state"]
    assert set(state["startDateTime"]) == set(state["fullReadAt"]) == set(MARKETS)
    assert FbaInventoryStream.key_paths() == [["marketplaceId"], ["sellerSku"]]


def test_reserved_units_agree_with_the_open_fba_orders(sandbox, make_config, make_source):
    with sandbox(orders=200, **LONG_TOKENS) as (url, sb):
        got = records(read(make_source(), make_config(url)))
        book = sb.api.book
        pending: dict[tuple[str, str], int] = {}
        for i in range(book.count):
            order, items = book.order_and_items(i)
            if order["FulfillmentChannel"] == "AFN" and order["OrderStatus"] in ("Pending", "Unshipped"):
                for item in items:
                    key = (order["MarketplaceId"], item["SellerSKU"])
                    pending[key] = pending.get(key, 0) + item["QuantityOrdered"]
    assert sum(pending.values()) > 0
    for r in got:
        reserved = r["inventoryDetails"]["reservedQuantity"]
        assert reserved["pendingCustomerOrderQuantity"] == pending.get((r["marketplaceId"], r["sellerSku"]), 0)


def test_incremental_reads_only_what_changed_and_full_reads_catch_inbound(sandbox, make_config, make_source):
    with sandbox(orders=30, **LONG_TOKENS) as (url, sb):
        config = make_config(url)
        first = read(make_source(), config)
        assert len(records(first)) == 24
        quiet = read(make_source(), config, last_state(first))
        assert records(quiet) == []  # nothing changed since the first read

        httpx.post(f"{url}/_sandbox/inventory", json={"marketplaceId": "A2EUQ1WTGCTBG2", "sellerSku": "LL-MUG-11OZ",
                                                      "fulfillableQuantity": 77})
        httpx.post(f"{url}/_sandbox/inventory", json={"marketplaceId": "ATVPDKIKX0DER", "sellerSku": "LL-TIN-500",
                                                      "inboundShippedQuantity": 48})
        changed = read(make_source(), config, last_state(quiet))
        full = read(make_source(), make_config(url, inventory_full_read_hours=0), last_state(quiet))
    got = records(changed)
    assert [(r["marketplaceId"], r["sellerSku"]) for r in got] == [("A2EUQ1WTGCTBG2", "LL-MUG-11OZ")]
    assert got[0]["inventoryDetails"]["fulfillableQuantity"] == 77
    # Amazon does not report inbound changes to startDateTime: the periodic full read does
    tin = [r for r in records(full) if (r["marketplaceId"], r["sellerSku"]) == ("ATVPDKIKX0DER", "LL-TIN-500")]
    assert len(records(full)) == 24 and tin[0]["inventoryDetails"]["inboundShippedQuantity"] == 48


# ------------------------------------------------------------------------------------ nextToken life


def test_sandbox_refuses_a_stale_or_foreign_next_token(sandbox):
    # time_scale 1000: Amazon's 30 s are 0.03 s here (a fresh token working: see the model test's paging)
    with sandbox(orders=5, time_scale=1000, inventory_page_size=3) as (url, sb), httpx.Client(base_url=url) as http:
        headers = token(url)
        first = http.get(PATH, params=query("ATVPDKIKX0DER"), headers=headers).json()
        next_token = first["pagination"]["nextToken"]
        other = http.get(PATH, headers=headers, params=query(
            "ATVPDKIKX0DER", nextToken=next_token, startDateTime="2026-01-01T00:00:00Z"))
        time.sleep(0.1)
        stale = http.get(PATH, params=query("ATVPDKIKX0DER", nextToken=next_token), headers=headers)
    assert other.status_code == 400 and "startDateTime" in other.json()["errors"][0]["message"]
    assert stale.status_code == 400
    assert stale.json()["errors"][0]["code"] == "InvalidInput" and "expired" in stale.json()["errors"][0]["message"]


def test_paging_never_waits_for_a_slow_consumer(sandbox, make_config, make_source):
    """A consumer that stalls longer than a token's life (staging, a DuckDB flush) costs no token: the pages
    of a marketplace are fetched back to back while it stalls."""
    stall = 0.2
    with sandbox(orders=5, inventory_page_size=2, **LONG_TOKENS) as (url, sb):  # a token lives 30 s
        got = []
        for message in make_source().read(make_config(url), catalog("fba_inventory")):
            if message.type == protocol.MessageType.RECORD:
                if len(got) in (0, 12):  # the first record of each marketplace
                    time.sleep(stall)
                got.append(message.record.data)
        calls, ages = sb.api.calls, sb.api.inventory.token_ages
    # a page loop that waited for its consumer would send 2 tokens at least `stall` old
    assert len(ages) == 10 and max(ages) < stall
    assert calls["getInventorySummaries"]["200"] == 12 and "400" not in calls["getInventorySummaries"]
    assert len({(r["marketplaceId"], r["sellerSku"]) for r in got}) == len(got) == 24


class _StallOnce(httpx.HTTPTransport):
    """Holds back the first request that carries a nextToken past the token's life (an outage, a long backoff):
    the sandbox is told to let its tokens die first."""

    stalled = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.stalled and "nextToken" in request.url.params:
            self.stalled = True
            httpx.post(f"{request.url.scheme}://{request.url.netloc.decode()}/_sandbox/inventory/expire_tokens")
        return super().handle_request(request)


def test_a_dead_token_restarts_the_marketplace_without_loss_or_duplicates(sandbox, make_config, make_source):
    with sandbox(orders=5, inventory_page_size=5, **LONG_TOKENS) as (url, sb):
        got = records(read(make_source(_StallOnce()), make_config(url, marketplace_ids=["ATVPDKIKX0DER"])))
        calls = sb.api.calls
    calls = calls["getInventorySummaries"]
    assert (calls["200"], calls["400"]) == (4, 1)  # page 1, refused page 2, then the 3 pages again
    assert sorted(r["sellerSku"] for r in got) == sorted(s.sku for s in SKUS)  # each once


class _AlwaysStale(httpx.HTTPTransport):
    """Every nextToken is dead by the time it arrives."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "nextToken" in request.url.params:
            httpx.post(f"{request.url.scheme}://{request.url.netloc.decode()}/_sandbox/inventory/expire_tokens")
        return super().handle_request(request)


def test_tokens_that_always_die_stop_the_read_with_amazons_reason(sandbox, make_config, make_source):
    with sandbox(orders=5, inventory_page_size=5, **LONG_TOKENS) as (url, sb):
        with pytest.raises(PermanentError) as caught:
            read(make_source(_AlwaysStale()), make_config(url, marketplace_ids=["ATVPDKIKX0DER"]))
        calls = sb.api.calls["getInventorySummaries"]
    assert (calls["200"], calls["400"]) == (3, 3)  # the first page, then two restarts, then it gives up
    assert caught.value.status == 400 and "expired" in str(caught.value)


def test_throttled_pages_are_retried_without_loss_or_duplicates(sandbox, make_config, make_source):
    with sandbox(orders=5, inventory_page_size=4, **LONG_TOKENS) as (url, sb):
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getInventorySummaries", "status": 429, "count": 2})
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getInventorySummaries", "status": 503, "count": 1})
        got = records(read(make_source(), make_config(url)))
        calls = sb.api.calls
    assert calls["getInventorySummaries"]["429"] >= 2 and calls["getInventorySummaries"]["503"] == 1
    assert calls["getInventorySummaries"]["200"] == 6
    assert len({(r["marketplaceId"], r["sellerSku"]) for r in got}) == len(got) == 24


def test_sandbox_refuses_what_amazon_refuses(sandbox):
    with sandbox(orders=1) as (url, sb):
        headers = token(url)

        def get(**params: str) -> httpx.Response:
            return httpx.get(f"{url}{PATH}", params=params, headers=headers)

        no_granularity = get(marketplaceIds="ATVPDKIKX0DER")
        two_markets = get(**query("ATVPDKIKX0DER", marketplaceIds="ATVPDKIKX0DER,A2EUQ1WTGCTBG2"))
        bad_type = get(**query("ATVPDKIKX0DER", granularityType="FulfillmentCenter"))
        too_old = get(**query("ATVPDKIKX0DER", startDateTime="2020-01-01T00:00:00Z"))
        unknown_token = get(**query("ATVPDKIKX0DER", nextToken="bm9wZQ"))
        details_off = get(granularityType="Marketplace", granularityId="ATVPDKIKX0DER", marketplaceIds="ATVPDKIKX0DER")
    for response in (no_granularity, two_markets, bad_type, too_old, unknown_token):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["code"] == "InvalidInput"
    assert details_off.status_code == 200
    assert all("inventoryDetails" not in s for s in details_off.json()["payload"]["inventorySummaries"])


# ------------------------------------------------------------------------------------------- the model


def strict(node: Any, in_all_of: bool = False) -> Any:
    """`additionalProperties: false` on every object schema that lists its properties (not on allOf parts,
    which each list only some of the properties)."""
    if isinstance(node, dict):
        out = {k: [strict(v, True) for v in val] if k == "allOf" else strict(val) for k, val in node.items()}
        if "properties" in out and "additionalProperties" not in out and not in_all_of:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


@pytest.fixture(scope="module")
def inventory_model(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "fbaInventory.json").read_text())


def test_sandbox_replies_match_the_fba_inventory_model(sandbox, inventory_model):
    definitions = strict(copy.deepcopy(inventory_model["definitions"]))
    responses = inventory_model["paths"][PATH]["get"]["responses"]

    def validate(status: int, body: Any) -> None:
        schema = {"$ref": responses[str(status)]["schema"]["$ref"], "definitions": definitions}
        jsonschema.Draft4Validator(schema).validate(body)

    with sandbox(orders=60, inventory_page_size=5, **LONG_TOKENS) as (url, sb):
        headers = token(url)
        seen = 0
        for market in MARKETS:
            params = query(market)
            while True:
                response = httpx.get(f"{url}{PATH}", params=params, headers=headers)
                assert response.status_code == 200, response.text
                validate(200, response.json())
                seen += len(response.json()["payload"]["inventorySummaries"])
                next_token = (response.json().get("pagination") or {}).get("nextToken")
                if not next_token:
                    break
                params = query(market, nextToken=next_token)
        bad = httpx.get(f"{url}{PATH}", params={"marketplaceIds": "ATVPDKIKX0DER"}, headers=headers)
        denied = httpx.get(f"{url}{PATH}", params=query("ATVPDKIKX0DER"))
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getInventorySummaries", "status": 429})
        throttled = httpx.get(f"{url}{PATH}", params=query("ATVPDKIKX0DER"), headers=headers)
    assert seen == 24
    for response, status in ((bad, 400), (denied, 403), (throttled, 429)):
        assert response.status_code == status
        validate(status, response.json())


# ----------------------------------------------------------------------------------------- normalise


def summary(**details: Any) -> dict[str, Any]:
    inventory = {"fulfillableQuantity": 40, "inboundWorkingQuantity": 3, "inboundShippedQuantity": 5,
                 "inboundReceivingQuantity": 2, "reservedQuantity": {"totalReservedQuantity": 6},
                 "researchingQuantity": {"totalResearchingQuantity": 1},
                 "unfulfillableQuantity": {"totalUnfulfillableQuantity": 4}}
    inventory.update(details)
    return {"asin": "B07QXZ1M4K", "sellerSku": "LL-MUG-11OZ", "marketplaceId": "A2EUQ1WTGCTBG2",
            "inventoryDetails": inventory, "lastUpdatedTime": "2026-05-01T10:00:00Z", "totalQuantity": 61}


def test_normalises_a_summary_to_an_inventory_level():
    [level] = normalise_inventory(summary(), {})
    assert isinstance(level, InventoryLevel)
    assert level.natural_key == "amazon_sp/inventory_level/amazon_fba/A2EUQ1WTGCTBG2/LL-MUG-11OZ"
    assert level.location == location_of("A2EUQ1WTGCTBG2")
    assert (level.available, level.inbound, level.reserved, level.unfulfillable, level.on_hand) == (
        Decimal(40), Decimal(10), Decimal(6), Decimal(4), Decimal(51))
    assert level.as_of.isoformat() == "2026-05-01T10:00:00+00:00"


@pytest.mark.parametrize("change, field", [
    ({"inventoryDetails": None}, "inventoryDetails"),
    ({"sellerSku": None}, "sellerSku"),
    ({"lastUpdatedTime": "yesterday"}, "lastUpdatedTime"),
    ({"inventoryDetails": {"inboundShippedQuantity": 1}}, "fulfillableQuantity"),
    ({"inventoryDetails": {"fulfillableQuantity": -3}}, "fulfillableQuantity"),
    ({"inventoryDetails": {"fulfillableQuantity": 2.5}}, "fulfillableQuantity"),
])
def test_unreadable_summaries_are_clear_record_errors(change, field):
    record = summary()
    record.update(change)
    with pytest.raises(RecordError) as caught:
        normalise_inventory(record, {})
    assert caught.value.field == field and caught.value.stream == "fba_inventory"
    assert "A2EUQ1WTGCTBG2/" in str(caught.value)


def test_end_to_end_summaries_become_inventory_levels(sandbox, make_config, make_source):
    with sandbox(orders=40, **LONG_TOKENS) as (url, sb):
        got = records(read(make_source(), make_config(url)))
    levels = [lvl for r in got for lvl in normalise_inventory(r, {})]
    assert len({lvl.natural_key for lvl in levels}) == 24
    for r, lvl in zip(got, levels):
        assert lvl.available == r["inventoryDetails"]["fulfillableQuantity"]
        assert lvl.reserved == r["inventoryDetails"]["reservedQuantity"]["totalReservedQuantity"]
