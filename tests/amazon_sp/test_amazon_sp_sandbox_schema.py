"""The sandbox's replies validate against Amazon's official Orders v0 model, so it cannot drift into
agreeing with our own bugs. Objects are checked strictly: a field the model does not define fails."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import jsonschema
import pytest

from ledgerlink_amazon_sp.timestamps import format_time
from amazon_models import strict  # noqa: E402



@pytest.fixture(scope="module")
def response_validator(orders_model):
    """validate(operation path, status, body): against the schema the model names for that reply."""
    definitions = strict(copy.deepcopy(orders_model["definitions"]))

    def validate(path: str, status: int, body: Any) -> None:
        ref = orders_model["paths"][path]["get"]["responses"][str(status)]["schema"]["$ref"]
        schema = {"$ref": ref, "definitions": definitions}
        jsonschema.Draft4Validator(schema).validate(body)

    return validate


def token(url: str) -> dict[str, str]:
    body = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                    "client_id": "c", "client_secret": "s"}).json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["access_token"].startswith("Atza|")
    return {"x-amz-access-token": body["access_token"]}


def test_get_orders_and_items_match_the_model(sandbox, response_validator):
    orders_path, items_path = "/orders/v0/orders", "/orders/v0/orders/{orderId}/orderItems"
    after = format_time(datetime.now(timezone.utc) - timedelta(days=61))
    # This test is about the replies' shape, not the usage plans: at the fixture's time_scale (500 item calls a
    # second, burst 30) a fast moment on a quiet machine outran the bucket and got a 429 (CI, stop 25).
    with sandbox(orders=150, defects=3, items_page_size=2, time_scale=1_000_000) as (url, sb):
        headers = token(url)
        with httpx.Client(base_url=url, headers=headers) as client:
            seen = 0
            for params in ({"MarketplaceIds": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2", "LastUpdatedAfter": after},
                           {"MarketplaceIds": "A2EUQ1WTGCTBG2", "CreatedAfter": after, "MaxResultsPerPage": 7}):
                while True:
                    response = client.get(orders_path, params=params)
                    assert response.status_code == 200, response.text
                    body = response.json()
                    response_validator(orders_path, 200, body)
                    for order in body["payload"]["Orders"]:
                        seen += 1
                        item_params: dict[str, str] = {}
                        while True:
                            items = client.get(f"/orders/v0/orders/{order['AmazonOrderId']}/orderItems",
                                               params=item_params)
                            assert items.status_code == 200, items.text
                            response_validator(items_path, 200, items.json())
                            if "NextToken" not in items.json()["payload"]:
                                break
                            item_params = {"NextToken": items.json()["payload"]["NextToken"]}
                    if "NextToken" not in body["payload"]:
                        break
                    params = {"MarketplaceIds": params["MarketplaceIds"], "NextToken": body["payload"]["NextToken"]}
    assert seen > 150  # every order once, the CA ones twice


def test_error_replies_match_the_model(sandbox, response_validator):
    orders_path, items_path = "/orders/v0/orders", "/orders/v0/orders/{orderId}/orderItems"
    with sandbox(orders=3) as (url, sb):
        headers = token(url)
        bad = httpx.get(f"{url}{orders_path}", params={"MarketplaceIds": "ATVPDKIKX0DER"}, headers=headers)
        denied = httpx.get(f"{url}{orders_path}", params={"MarketplaceIds": "ATVPDKIKX0DER"})
        missing = httpx.get(f"{url}/orders/v0/orders/111-0000000-0000000/orderItems", headers=headers)
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getOrderItems", "status": 429, "count": 1})
        httpx.post(f"{url}/_sandbox/faults", json={"operation": "getOrders", "status": 503, "count": 1})
        throttled = httpx.get(f"{url}/orders/v0/orders/{sb.api.book.order_id(0)}/orderItems", headers=headers)
        unavailable = httpx.get(f"{url}{orders_path}", params={"MarketplaceIds": "ATVPDKIKX0DER"}, headers=headers)
    for path, response, status in ((orders_path, bad, 400), (orders_path, denied, 403), (items_path, missing, 404),
                                   (items_path, throttled, 429), (orders_path, unavailable, 503)):
        assert response.status_code == status
        response_validator(path, status, response.json())
        assert response.headers["x-amzn-RequestId"]


def test_lwa_refuses_what_lwa_refuses(sandbox):
    with sandbox(orders=1, client_id="amzn1.app", client_secret="right", refresh_token="Atzr|right") as (url, _):
        lwa = f"{url}/auth/o2/token"
        form = {"grant_type": "refresh_token", "refresh_token": "Atzr|right", "client_id": "amzn1.app",
                "client_secret": "right"}
        assert httpx.post(lwa, data=form).status_code == 200
        wrong_grant = httpx.post(lwa, data={**form, "grant_type": "password"})
        no_code = httpx.post(lwa, data={**form, "grant_type": "authorization_code"})  # consent's grant, no code
        wrong_refresh = httpx.post(lwa, data={**form, "refresh_token": "Atzr|wrong"})
        wrong_client = httpx.post(lwa, data={**form, "client_secret": "wrong"})
    assert (wrong_grant.status_code, wrong_grant.json()["error"]) == (400, "unsupported_grant_type")
    assert (no_code.status_code, no_code.json()["error"]) == (400, "invalid_request")
    assert (wrong_refresh.status_code, wrong_refresh.json()["error"]) == (400, "invalid_grant")
    assert (wrong_client.status_code, wrong_client.json()["error"]) == (401, "invalid_client")
