"""The plugin as the runtime sees it: registration, spec (with secrets marked), discover, check."""

from __future__ import annotations

from typing import Any

from ledgerlink import ConfigError, protocol
from ledgerlink.plugins import host
from ledgerlink_amazon_sp import AmazonSandbox, AmazonSellingPartnerSource
from ledgerlink_amazon_sp.config import AmazonSPConfig


def test_registered_through_the_entry_point():
    plugins = host()
    assert plugins.connector("amazon_sp", "source") is AmazonSellingPartnerSource
    assert plugins.connector("amazon_sp", "destination").__name__ == "AmazonSellingPartnerDestination"
    assert plugins.sandbox("amazon_sp") is AmazonSandbox
    assert AmazonSandbox.default_url() == "http://127.0.0.1:8711" == AmazonSPConfig.model_validate({
        "client_id": "c", "client_secret": "s", "refresh_token": "r", "marketplace_ids": ["ATVPDKIKX0DER"],
        "start_date": "2026-01-01T00:00:00Z"}).endpoint  # the default environment is the local sandbox


def test_spec_marks_secrets_and_defaults():
    schema = AmazonSellingPartnerSource().spec().connectionSpecification
    props: dict[str, Any] = schema["properties"]
    assert props["client_secret"]["airbyte_secret"] and props["refresh_token"]["airbyte_secret"]
    assert not props["client_id"].get("airbyte_secret")
    assert props["environment"]["default"] == "local" and props["region"]["default"] == "na"
    assert props["page_size"]["maximum"] == 100 and props["max_window_days"]["default"] == 30
    assert set(schema["required"]) == {"client_id", "client_secret", "refresh_token", "marketplace_ids", "start_date"}


def test_config_errors_name_the_field(make_config):
    src = AmazonSellingPartnerSource()
    for bad, where in ((dict(marketplace_ids=[]), "marketplace_ids"), (dict(start_date="2024-01-01T00:00:00"),
                                                                       "start_date"), (dict(region="us"), "region")):
        try:
            src.parse_config(make_config("http://x", **bad))
        except ConfigError as exc:
            assert exc.where == f"config.{where}"
        else:
            raise AssertionError(f"{bad} accepted")


def test_discover_declares_keys_and_cursors():
    streams = {s.name: s for s in AmazonSellingPartnerSource().discover({}).streams}
    orders, items = streams["orders"], streams["order_items"]
    assert orders.source_defined_primary_key == [["AmazonOrderId"]]
    assert orders.default_cursor_field == ["LastUpdateDate"]
    assert items.source_defined_primary_key == [["AmazonOrderId"], ["OrderItemId"]]
    assert protocol.SyncMode.incremental in items.supported_sync_modes


def test_check_makes_one_lwa_exchange_and_one_get_orders(sandbox, make_config):
    with sandbox(orders=10) as (url, sb):
        status = AmazonSellingPartnerSource().check(make_config(url))
        calls = sb.api.calls
    assert status.status == protocol.Status.SUCCEEDED
    assert calls == {"getOrders": {"200": 1}}


def test_check_fails_clearly_when_unreachable(make_config, make_source):
    status = make_source().check(make_config("http://127.0.0.1:9"))  # retried (quickly), then reported
    assert status.status == protocol.Status.FAILED and "token refresh" in status.message
