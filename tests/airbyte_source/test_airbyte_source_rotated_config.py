"""An Airbyte connector that rotates its config (a CONTROL message: a refresh token it was handed in exchange)
has it stored, encrypted, in the pipeline's credential store the moment it arrives, and the next run starts the
connector with it; the rotated secret is masked like the rest of its config."""

from __future__ import annotations

import json

import pytest

import ledgerlink
from ledgerlink import OptionsError, protocol
from ledgerlink.plugins import host

from airbyte_fakes import SECRET, fake_config, staged_ids

ROTATED = "k-rotated-7d3e9"  # what the fake connector rotates its shop_code to


def test_a_rotated_config_is_stored_and_the_next_run_uses_it(tmp_path, store, read_into, protocol_validator):
    used = tmp_path / "codes.txt"
    config = fake_config("rotates", count=6, report_to=str(used))
    first = read_into(config)
    name = "airbyte:fake-shop:rotated_config"
    stored = store.credentials.load(name)
    assert first["read_error"] is None and first["read"] == {"orders": 6}
    assert stored is not None and json.loads(stored) == {"shop_code": ROTATED}, stored
    assert ledgerlink.mask(f"code {ROTATED}") == f"code {ledgerlink.mask(SECRET)}", "the new code is masked too"
    second = read_into(config)  # the same pipeline file: the stored rotation wins over its (older) code
    assert second["read_error"] is None
    assert used.read_text().splitlines() == [SECRET, ROTATED]
    assert store.credentials.load(name) == stored, "a connector that does not rotate again changes nothing"
    assert staged_ids(store) == [1, 2, 3, 4, 5, 6]


def test_the_control_message_the_adapter_passes_on_is_the_adapters_config(tmp_path, protocol_validator):
    source = host().connector("airbyte", "source")()
    config = fake_config("rotates", count=3)
    messages = list(source.read(config))
    [control] = [m for m in messages if m.type == protocol.MessageType.CONTROL]
    wire = json.loads(protocol.dumps(control))
    protocol_validator(wire)
    new = wire["control"]["connectorConfig"]["config"]
    assert {k: v for k, v in new.items() if k != "rotated_config"} == config
    assert json.loads(new["rotated_config"]) == {"shop_code": ROTATED}
    assert source.parse_config(new).connector_config() == {**config["config"], "shop_code": ROTATED}


def test_check_stores_a_config_the_connector_rotates_while_checking():
    from ledgerlink import CheckContext

    saved: dict[str, str] = {}
    source = host().connector("airbyte", "source")()
    status = source.check(fake_config("rotates"), CheckContext(rotated=saved.__setitem__))
    assert status.status == protocol.Status.SUCCEEDED
    assert list(saved) == ["rotated_config"] and json.loads(saved["rotated_config"]) == {"shop_code": ROTATED}
    again: dict[str, str] = {}
    assert source.check({**fake_config("rotates"), **saved}, CheckContext(rotated=again.__setitem__)).status \
        == protocol.Status.SUCCEEDED
    assert again == {}, "a connector already running with its rotated config rotates nothing"


def test_a_rotated_config_that_is_not_a_json_object_is_refused():
    source = host().connector("airbyte", "source")()
    with pytest.raises(OptionsError, match="rotated_config"):
        source.parse_config({**fake_config(), "rotated_config": "[1, 2]"})
