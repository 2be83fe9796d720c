"""The plugin as the runtime sees it: entry point, spec, config validation, discover."""

from __future__ import annotations

import logging

import pytest

from ledgerlink import ConfigError, mask
from ledgerlink.plugins import PluginHost
from ledgerlink_qbo import QuickBooksOnlineDestination, QuickBooksOnlineSandbox, QuickBooksOnlineSource
from qbo_helpers import Live, fast_destination


def test_the_entry_point_registers_the_destination_the_source_and_the_sandbox():
    plugins = PluginHost()
    assert plugins.connector("qbo", "destination") is QuickBooksOnlineDestination
    assert plugins.connector("qbo", "source") is QuickBooksOnlineSource
    assert plugins.connector_roles()["qbo"] == {"source": QuickBooksOnlineSource,
                                                "destination": QuickBooksOnlineDestination}
    assert plugins.sandbox("qbo") is QuickBooksOnlineSandbox
    assert QuickBooksOnlineSandbox.default_url() == "http://127.0.0.1:8712"


def test_the_spec_marks_secrets_and_documents_the_sandbox_default():
    props = QuickBooksOnlineDestination().spec().connectionSpecification["properties"]
    assert props["client_secret"]["airbyte_secret"] and props["refresh_token"]["airbyte_secret"]
    assert "airbyte_secret" not in props["client_id"]
    assert props["base_url"]["default"] == "http://127.0.0.1:8712"
    assert props["minor_version"]["default"] == 75


def test_discover_lists_the_objects_with_their_matching_keys():
    ops = {o.object_name: o.matching_keys for o in QuickBooksOnlineDestination().discover().operations}
    documents = ("SalesReceipt", "Invoice", "CreditMemo", "RefundReceipt", "Payment", "Deposit", "JournalEntry",
                 "InventoryAdjustment")
    assert ops == {"Customer": [["DisplayName"]], "Item": [["Name"]], "Account": [["Name"]], "Class": [["Name"]],
                   "Department": [["Name"]], "TaxCode": [["Name"]], "PaymentMethod": [["Name"]],
                   **{d: [["DocNumber"]] for d in documents}}
    order = QuickBooksOnlineDestination.write_order
    assert set(order) == set(ops)
    assert order.index("Invoice") < order.index("Payment") and order.index("Customer") < order.index("Invoice")
    assert order.index("Item") < order.index("InventoryAdjustment") and order.index("Payment") < order.index("Deposit")


@pytest.mark.parametrize("bad,where", [({"minor_version": 74}, "config.minor_version"),
                                       ({"realm_id": ""}, "config.realm_id"),
                                       ({"base_ur": "x"}, "config.base_ur")])
def test_config_errors_name_the_key(bad, where):
    config = {"realm_id": "1", "client_id": "c", "client_secret": "s3cret-value", "refresh_token": "r3fresh-value",
              **bad}
    with pytest.raises(ConfigError, match=where):
        QuickBooksOnlineDestination().parse_config(config)


def test_secrets_never_reach_the_logs(live: Live, caplog: pytest.LogCaptureFixture):
    dest = fast_destination()
    config = live.config(client_secret=live.sandbox.options.client_secret)
    with caplog.at_level(logging.DEBUG):
        assert dest.check(config).status.value == "SUCCEEDED"
        assert dest.check({**config, "refresh_token": "not-the-right-token"}).status.value == "FAILED"
    text = caplog.text + str(dest.check({**config, "refresh_token": "not-the-right-token"}).message)
    for secret in (config["client_secret"], config["refresh_token"], "not-the-right-token"):
        assert secret not in text
        assert mask(secret) == "****"
