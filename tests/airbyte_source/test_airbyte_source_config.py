"""The `airbyte` source's config and mapping hook: how the connector is named and found, which streams it reads
with which keys, how the user's normalisers load, and how states go back to the connector."""

from __future__ import annotations

import sys

import pytest

from ledgerlink import ConfigError, OptionsError, protocol
from ledgerlink.plugins import host

from airbyte_fakes import FAKE, fake_config, staged_ids


def _source():
    return host().connector("airbyte", "source")()


def test_exactly_one_of_command_or_package():
    with pytest.raises(OptionsError, match="exactly one of command"):
        _source().parse_config({"config": {}})
    with pytest.raises(OptionsError, match="exactly one of command"):
        _source().parse_config({"command": ["x"], "package": "airbyte-source-x"})
    with pytest.raises(OptionsError, match="unknown key 'comand'"):
        _source().parse_config({"comand": ["x"]})


def test_a_command_given_as_text_is_split_like_a_shell_would():
    parsed = _source().parse_config({"command": f"{sys.executable} '{FAKE}'"})
    assert parsed.command == [sys.executable, str(FAKE)]
    assert parsed.connector_name() == FAKE.name  # python runs it: named by the script


def test_an_installed_package_is_run_through_its_console_script(tmp_path, monkeypatch, store, read_into):
    site = tmp_path / "site"
    site.mkdir()
    (site / "fakeshop_connector.py").write_text(FAKE.read_text())
    info = site / "airbyte_source_fakeshop-1.0.0.dist-info"  # laid out as pip installs a distribution
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: airbyte-source-fakeshop\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[console_scripts]\nsource-fakeshop = fakeshop_connector:main\n")
    monkeypatch.syspath_prepend(str(site))
    config = {"package": "airbyte-source-fakeshop", "env": {"PYTHONPATH": str(site)},
              "config": {"mode": "good", "count": 4, "per_state": 2}}
    source = _source()
    assert source.parse_config(config).connector_name() == "source-fakeshop"
    assert [s.name for s in source.discover(config).streams] == ["orders"]
    assert read_into(config)["read"] == {"orders": 4} and staged_ids(store) == [1, 2, 3, 4]
    with pytest.raises(ConfigError, match="package 'airbyte-source-nothing' is not installed"):
        _source().discover({"package": "airbyte-source-nothing"})


def test_discovered_streams_become_staging_streams_with_key_and_cursor():
    source = _source()
    assert source.stream_classes() == []  # nothing is known before a config is
    source.parse_config(fake_config())
    [orders] = source.stream_classes()
    assert (orders.name, orders.primary_key, orders.cursor_field) == ("orders", "id", "updated_at")
    assert orders.airbyte_stream().default_cursor_field == ["updated_at"]


def test_stream_settings_override_the_catalog_and_unknown_streams_are_named():
    source = _source()
    source.parse_config({**fake_config(), "streams": {"orders": {"primary_key": ["customer", "id"]}}})
    assert source.stream_classes()[0].primary_key == ["customer", "id"]
    source = _source()
    source.parse_config({**fake_config(), "streams": {"ordrs": {"primary_key": "id"}}})
    with pytest.raises(ConfigError, match=r"source.config.streams: the connector has no stream\(s\) ordrs"):
        source.stream_classes()


def test_the_normalisers_module_loads_from_a_module_or_a_file(tmp_path):
    source = _source()
    source.parse_config({**fake_config(), "normalisers": "ledgerlink_airbyte_source.examples.faker_orders"})
    [purchases] = source.normalisers()
    assert purchases.stream == "purchases" and set(purchases.join) == {"products", "users"}
    mapping = tmp_path / "my_orders.py"
    mapping.write_text("import ledgerlink\n\ndef normalisers():\n"
                       "    return [ledgerlink.Normaliser(stream='orders', function=lambda r, rel: [])]\n")
    source = _source()
    source.parse_config({**fake_config(), "normalisers": str(mapping)})
    assert [n.stream for n in source.normalisers()] == ["orders"]
    for spec, error in (("no_such_module_xyz", "cannot import 'no_such_module_xyz'"),
                        (str(tmp_path / "missing.py"), "is not a file"),
                        ("json", "json has no normalisers"),):
        source = _source()
        source.parse_config({**fake_config(), "normalisers": spec})
        with pytest.raises(ConfigError, match=error):
            source.normalisers()


def test_the_faker_mapping_makes_one_paid_order_per_purchased_purchase():
    from ledgerlink_airbyte_source.examples.faker_orders import purchase_to_order

    related = {"products": [{"id": 31, "make": "Mazda", "model": "MX-5", "year": 2023, "price": 15001}],
               "users": [{"id": 1, "name": "John", "email": "john@example.com"}]}
    purchase = {"id": 1, "product_id": 31, "user_id": 1, "updated_at": "2026-12-07T06:14:12+00:00",
                "purchased_at": "2022-07-19T04:23:58+00:00"}
    [order] = purchase_to_order(purchase, related)
    assert (order.order_id, order.paid, order.status, order.currency) == ("1", True, "Completed", "USD")
    assert str(order.grand_total.amount) == "15001" and order.lines[0].sku == "FAKER-31"
    assert order.customer.email == "john@example.com"
    assert purchase_to_order({**purchase, "purchased_at": None}, related) == []  # a cart never paid


def test_states_go_back_to_the_connector_as_it_sent_them():
    from ledgerlink_airbyte_source.state import GLOBAL_KEY, LEGACY_KEY, from_connector, to_connector

    assert to_connector({}, ["orders"]) is None
    assert to_connector({"orders": {"updated_at": "x"}, "other": {"a": 1}}, ["orders"]) == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "orders"}, "stream_state": {"updated_at": "x"}}}]
    legacy = from_connector(protocol.legacy_state({"orders": {"cursor": 5}}))
    assert legacy.state.stream.stream_descriptor.name == LEGACY_KEY
    assert to_connector({LEGACY_KEY: legacy.state.stream.stream_state.model_dump()}, ["orders"]) == {
        "orders": {"cursor": 5}}
    wrapped = from_connector(protocol.global_state({"lsn": 7}, {"orders": {"updated_at": "y"}}))
    blob = wrapped.state.stream.stream_state.model_dump()
    assert wrapped.state.stream.stream_descriptor.name == GLOBAL_KEY and blob["type"] == "GLOBAL"
    assert to_connector({GLOBAL_KEY: blob}, ["orders"]) == [blob]


def test_config_values_named_like_secrets_are_masked_and_others_are_not():
    from ledgerlink import mask
    from ledgerlink_airbyte_source.source import _register_secrets

    _register_secrets({"credentials": {"refresh_token": "rt-5b1c9e", "token_url": "https://auth.example/t9"},
                       "start_date": "2026-01-01", "shop_passphrase": "open sesame 77"}, set())
    assert mask("rt-5b1c9e | https://auth.example/t9 | 2026-01-01 | open sesame 77") == (
        "**** | https://auth.example/t9 | 2026-01-01 | ****")
