"""The plugin's own tests: its source against its sandbox, over a real loopback socket."""

import ledgerlink
import ledgerlink.sandbox
from ledgerlink_myshop.sandbox import MyShopSandbox
from ledgerlink_myshop.source import MyShopSource


def test_reads_every_order_then_only_new_ones():
    with ledgerlink.sandbox.running(MyShopSandbox(orders=120)) as url:
        config = {"base_url": url, "api_key": "sandbox-key"}
        assert MyShopSource().check(config).status.value == "SUCCEEDED"

        messages = list(MyShopSource().read(config))
        records = [m.record.data for m in messages if m.type.value == "RECORD"]
        states = [m.state for m in messages if m.type.value == "STATE"]
        assert len(records) == 120 and len({r["id"] for r in records}) == 120

        again = list(MyShopSource().read(config, state=[states[-1]]))
        assert not [m for m in again if m.type.value == "RECORD"]


def test_a_wrong_key_fails_the_check_without_printing_it():
    with ledgerlink.sandbox.running(MyShopSandbox()) as url:
        status = MyShopSource().check({"base_url": url, "api_key": "wrong-key-123"})
    assert status.status.value == "FAILED"
    assert "wrong-key-123" not in (status.message or "")
