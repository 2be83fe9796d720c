"""The sandbox's Notifications API v1 answers as Amazon's model says (every reply validated strictly against
the reference notifications.json), refuses what Amazon refuses (a seller's token on a grantless operation, a
grantless token acting for a seller, a malformed destination, the wrong payload version, a type sent to the
wrong workflow's destination, a second subscription), and `ledgerlink amazon notifications` subscribes, lists
and unsubscribes through the pipeline's SP-API client with the token each operation needs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from amazon_models import strict  # noqa: E402

import click

from ledgerlink.plugins import host
from ledgerlink_amazon_sp.subscriptions import Destinations, NotificationsClient
from ledgerlink_amazon_sp.config import AmazonSPConfig

SQS_ARN = "arn:aws:sqs:us-east-1:123456789012:sp-api-notifications"


@pytest.fixture(scope="module")
def notifications_model(reference_dir: Path) -> dict[str, Any]:
    return json.loads((reference_dir / "amazon-sp-api" / "models" / "notifications.json").read_text())


def strict_parts(definitions: dict[str, Any]) -> dict[str, Any]:
    """`strict`, except for the definitions an `allOf` combines (each lists only its own fields: EventFilter's
    parts), which Draft 4 cannot close without refusing the other parts' fields."""
    out = strict(definitions)
    for definition in out.values():
        for part in definition.get("allOf", []):
            ref = part.get("$ref", "")
            if ref.startswith("#/definitions/"):
                out[ref.split("/")[-1]].pop("additionalProperties", None)
            part.pop("additionalProperties", None)
    return out


@pytest.fixture(scope="module")
def validate(notifications_model):
    """validate(path, method, status, body): against the schema the model names for that reply."""
    definitions = strict_parts(copy.deepcopy(notifications_model["definitions"]))
    seen: set[tuple[str, str, int]] = set()

    def check(path: str, method: str, status: int, body: Any) -> None:
        ref = notifications_model["paths"][path][method]["responses"][str(status)]["schema"]["$ref"]
        jsonschema.Draft4Validator({"$ref": ref, "definitions": definitions}).validate(body)
        seen.add((path, method, status))

    check.seen = seen  # type: ignore[attr-defined]
    return check


def tokens(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the seller's headers, the application's grantless headers)."""
    seller = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|r",
                                                      "client_id": "c", "client_secret": "s"}).json()
    grantless = httpx.post(f"{url}/auth/o2/token", data={"grant_type": "client_credentials", "client_id": "c",
                                                         "client_secret": "s",
                                                         "scope": "sellingpartnerapi::notifications"}).json()
    assert grantless["token_type"] == "bearer" and grantless["scope"] == "sellingpartnerapi::notifications"
    return {"x-amz-access-token": seller["access_token"]}, {"x-amz-access-token": grantless["access_token"]}


def test_destinations_and_subscriptions_match_the_model_and_refuse_what_amazon_refuses(sandbox, validate):
    dest, dest_id = "/notifications/v1/destinations", "/notifications/v1/destinations/{destinationId}"
    sub, sub_id = ("/notifications/v1/subscriptions/{notificationType}",
                   "/notifications/v1/subscriptions/{notificationType}/{subscriptionId}")
    with sandbox(orders=1) as (url, _sb), httpx.Client(base_url=url) as http:
        seller, grantless = tokens(url)
        # LWA refuses a client-credentials grant without the notifications scope
        wrong_scope = http.post("/auth/o2/token", data={"grant_type": "client_credentials", "client_id": "c",
                                                        "client_secret": "s", "scope": "sellingpartnerapi::other"})
        assert wrong_scope.status_code == 400 and wrong_scope.json()["error"] == "invalid_scope"

        # createDestination is grantless: the seller's token is refused, as is no token
        body = {"name": "books", "resourceSpecification": {"sqs": {"arn": SQS_ARN}}}
        for headers in (seller, {}):
            denied = http.post("/notifications/v1/destinations", json=body, headers=headers)
            assert denied.status_code == 403
            validate(dest, "post", 403, denied.json())
        assert "grantless" in http.post("/notifications/v1/destinations", json=body,
                                        headers=seller).json()["errors"][0]["details"]
        created = http.post("/notifications/v1/destinations", json=body, headers=grantless)
        assert created.status_code == 200, created.text
        validate(dest, "post", 200, created.json())
        sqs_id = created.json()["payload"]["destinationId"]
        assert created.json()["payload"]["resource"] == {"sqs": {"arn": SQS_ARN}}
        again = http.post("/notifications/v1/destinations", json=body, headers=grantless)
        assert again.status_code == 409 and sqs_id in again.json()["errors"][0]["details"]
        validate(dest, "post", 409, again.json())
        bridge = http.post("/notifications/v1/destinations", headers=grantless, json={
            "name": "listings", "resourceSpecification": {"eventBridge": {"region": "us-east-1",
                                                                          "accountId": "123456789012"}}})
        assert bridge.status_code == 200, bridge.text
        validate(dest, "post", 200, bridge.json())
        assert bridge.json()["payload"]["resource"]["eventBridge"]["name"].startswith(
            "aws.partner/sellingpartnerapi.amazon/")
        bridge_id = bridge.json()["payload"]["destinationId"]
        for bad in ({"resourceSpecification": {"sqs": {"arn": SQS_ARN}}},  # no name
                    {"name": "x", "resourceSpecification": {}},
                    {"name": "x", "resourceSpecification": {"sqs": {"arn": SQS_ARN},
                                                            "eventBridge": {"region": "us-east-1",
                                                                            "accountId": "123456789012"}}},
                    {"name": "x", "resourceSpecification": {"sqs": {"arn": "arn:aws:sns:us-east-1:1:t"}}},
                    {"name": "x", "resourceSpecification": {"eventBridge": {"region": "us-east-1"}}},
                    {"name": "x", "resourceSpecification": {"eventBridge": {"region": "Mars",
                                                                            "accountId": "123456789012"}}}):
            refused = http.post("/notifications/v1/destinations", json=bad, headers=grantless)
            assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput", bad
            validate(dest, "post", 400, refused.json())
        listed = http.get("/notifications/v1/destinations", headers=grantless)
        validate(dest, "get", 200, listed.json())
        assert {d["destinationId"] for d in listed.json()["payload"]} == {sqs_id, bridge_id}
        one = http.get(f"/notifications/v1/destinations/{sqs_id}", headers=grantless)
        validate(dest_id, "get", 200, one.json())
        missing = http.get("/notifications/v1/destinations/nope", headers=grantless)
        assert missing.status_code == 404
        validate(dest_id, "get", 404, missing.json())

        # createSubscription acts for the seller: a grantless token is refused
        order = {"payloadVersion": "1.0", "destinationId": sqs_id}
        denied = http.post("/notifications/v1/subscriptions/ORDER_CHANGE", json=order, headers=grantless)
        assert denied.status_code == 403 and "seller" in denied.json()["errors"][0]["details"]
        validate(sub, "post", 403, denied.json())
        for kind, bad in (("ORDER_CHANGE", {"payloadVersion": "2020-09-04", "destinationId": sqs_id}),
                          ("ORDER_CHANGE", {"destinationId": sqs_id}),
                          ("ORDER_CHANGE", {"payloadVersion": "1.0", "destinationId": "nope"}),
                          ("ORDER_CHANGE", {"payloadVersion": "1.0", "destinationId": bridge_id}),  # SQS workflow
                          ("LISTINGS_ITEM_STATUS_CHANGE", {"payloadVersion": "1.0", "destinationId": sqs_id}),
                          ("ORDER_CHANGE", {**order, "processingDirective": {
                              "filterExpression": "x", "eventFilter": {"eventFilterType": "ORDER_CHANGE"}}}),
                          ("ORDER_CHANGE", {**order, "processingDirective": {
                              "eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED"}}}),
                          ("ORDER_CHANGE", {**order, "processingDirective": {
                              "eventFilter": {"eventFilterType": "ORDER_CHANGE", "orderChangeTypes": ["Shipped"]}}}),
                          ("NOT_A_TYPE", order)):
            refused = http.post(f"/notifications/v1/subscriptions/{kind}", json=bad, headers=seller)
            assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput", (kind, bad)
            validate(sub, "post", 400, refused.json())
        made = http.post("/notifications/v1/subscriptions/ORDER_CHANGE", headers=seller, json={
            **order, "processingDirective": {"eventFilter": {"eventFilterType": "ORDER_CHANGE",
                                                             "orderChangeTypes": ["OrderStatusChange"]}}})
        assert made.status_code == 200, made.text
        validate(sub, "post", 200, made.json())
        subscription = made.json()["payload"]
        twice = http.post("/notifications/v1/subscriptions/ORDER_CHANGE", json=order, headers=seller)
        assert twice.status_code == 409
        validate(sub, "post", 409, twice.json())
        report = http.post("/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED", headers=seller,
                           json={"payloadVersion": "2020-09-04", "destinationId": sqs_id})
        validate(sub, "post", 200, report.json())
        listing = http.post("/notifications/v1/subscriptions/LISTINGS_ITEM_STATUS_CHANGE", headers=seller,
                            json={"payloadVersion": "1.0", "destinationId": bridge_id})
        validate(sub, "post", 200, listing.json())

        got = http.get("/notifications/v1/subscriptions/ORDER_CHANGE", headers=seller)
        validate(sub, "get", 200, got.json())
        assert got.json()["payload"] == subscription
        assert http.get("/notifications/v1/subscriptions/ORDER_CHANGE", headers=grantless).status_code == 403
        none = http.get("/notifications/v1/subscriptions/TRANSACTION_UPDATE", headers=seller)
        assert none.status_code == 404
        validate(sub, "get", 404, none.json())

        # getSubscriptionById and deleteSubscriptionById are grantless
        by_id = f"/notifications/v1/subscriptions/ORDER_CHANGE/{subscription['subscriptionId']}"
        assert http.get(by_id, headers=seller).status_code == 403
        fetched = http.get(by_id, headers=grantless)
        validate(sub_id, "get", 200, fetched.json())
        assert http.delete(by_id, headers=seller).status_code == 403
        in_use = http.delete(f"/notifications/v1/destinations/{sqs_id}", headers=grantless)
        assert in_use.status_code == 409
        validate(dest_id, "delete", 409, in_use.json())
        deleted = http.delete(by_id, headers=grantless)
        assert deleted.status_code == 200
        validate(sub_id, "delete", 200, deleted.json())
        gone = http.delete(by_id, headers=grantless)
        assert gone.status_code == 404
        validate(sub_id, "delete", 404, gone.json())
        assert http.get("/notifications/v1/subscriptions/ORDER_CHANGE", headers=seller).status_code == 404
    assert len(validate.seen) >= 15


def pipeline_file(folder: Path, url: str) -> Path:
    path = folder / "amazon.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "name": "amazon-notify", "state": str(folder / "state.duckdb"),
        "source": {"connector": "amazon_sp", "config": {
            "endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "client_id": "amzn1.application-oa2-client.t",
            "client_secret": "sandbox-lwa-client-secret", "refresh_token": "Atzr|sandbox-refresh-token",
            "marketplace_ids": ["ATVPDKIKX0DER"], "start_date": "2026-01-01T00:00:00Z", "seller_id": "A2SELLER"},
                   "streams": ["orders"]},
        "destination": {"connector": "qbo", "config": {
            "base_url": "http://127.0.0.1:9", "token_url": "http://127.0.0.1:9/t", "realm_id": "1",
            "client_id": "c", "client_secret": "s", "refresh_token": "r"}}}))
    return path


def test_the_cli_subscribes_lists_and_unsubscribes_with_the_right_token_for_each_call(sandbox, tmp_path):
    with sandbox(orders=1, client_id="amzn1.application-oa2-client.t",
                 client_secret="sandbox-lwa-client-secret") as (url, sb):
        path = str(pipeline_file(tmp_path, url))
        cli = click.Group()
        host().add_commands(cli)  # the plugin's register_commands hook
        runner = CliRunner()
        first = runner.invoke(cli, ["amazon", "notifications", "subscribe", path, "--sqs-arn", SQS_ARN,
                                    "--types", "ORDER_CHANGE,REPORT_PROCESSING_FINISHED"])
        assert first.exit_code == 0, first.output
        rows = [line.split("\t") for line in first.output.strip().splitlines()]
        assert [(r[0], r[1]) for r in rows] == [("ORDER_CHANGE", "created"), ("REPORT_PROCESSING_FINISHED", "created")]
        assert len(sb.api.notifications.destinations) == 1
        assert set(sb.api.notifications.subscriptions) == {("ORDER_CHANGE", "1.0"),
                                                           ("REPORT_PROCESSING_FINISHED", "2020-09-04")}
        # the destination call went out with the application's grantless token, the subscriptions with the seller's
        calls = sb.api.calls
        assert calls["createDestination"] == {"200": 1} and calls["createSubscription"] == {"200": 2}

        again = runner.invoke(cli, ["amazon", "notifications", "subscribe", path, "--sqs-arn", SQS_ARN,
                                    "--types", "ORDER_CHANGE"])
        assert again.exit_code == 0 and "\texists\t" in again.output
        assert len(sb.api.notifications.destinations) == 1  # the queue's destination was found, not made again

        listed = runner.invoke(cli, ["amazon", "notifications", "list", path, "--types", "ORDER_CHANGE,TRANSACTION_UPDATE"])
        assert listed.exit_code == 0, listed.output
        lines = [json.loads(line) for line in listed.output.strip().splitlines()]
        assert lines[0]["destination"]["resource"] == {"sqs": {"arn": SQS_ARN}}
        assert lines[1]["subscription"]["payloadVersion"] == "1.0" and lines[2]["subscription"] is None

        # a listings type needs the EventBridge account: without it, a clear error and exit 2
        no_bridge = runner.invoke(cli, ["amazon", "notifications", "subscribe", path, "--types",
                                        "LISTINGS_ITEM_STATUS_CHANGE"])
        assert no_bridge.exit_code == 2 and "--eventbridge-account" in no_bridge.output
        unknown = runner.invoke(cli, ["amazon", "notifications", "subscribe", path, "--types", "ORDER_CHANGES"])
        assert unknown.exit_code == 2 and "unknown notification type ORDER_CHANGES" in unknown.output

        gone = runner.invoke(cli, ["amazon", "notifications", "unsubscribe", path, "--types",
                                   "ORDER_CHANGE,TRANSACTION_UPDATE"])
        assert gone.exit_code == 0, gone.output
        assert [line.split("\t")[:2] for line in gone.output.strip().splitlines()] == [
            ["ORDER_CHANGE", "deleted"], ["TRANSACTION_UPDATE", "absent"]]
        assert set(sb.api.notifications.subscriptions) == {("REPORT_PROCESSING_FINISHED", "2020-09-04")}
        assert calls["deleteSubscriptionById"] == {"200": 1}


def test_the_client_refuses_a_wrong_application_secret_clearly(sandbox, tmp_path):
    with sandbox(orders=1, client_id="amzn1.application-oa2-client.t", client_secret="right") as (url, _sb):
        config = AmazonSPConfig.model_validate({
            "endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token", "client_id": "amzn1.application-oa2-client.t",
            "client_secret": "wrong-secret", "refresh_token": "Atzr|x", "marketplace_ids": ["ATVPDKIKX0DER"],
            "start_date": "2026-01-01T00:00:00Z"})
        with NotificationsClient(config) as client, pytest.raises(Exception) as raised:
            client.ensure_destination(Destinations(sqs_arn=SQS_ARN), "sqs")
        assert "token refresh refused: HTTP 401" in str(raised.value) and "wrong-secret" not in str(raised.value)
