"""The stock destination: its options are checked before anything runs, and it writes to its sandbox."""

from datetime import datetime, timezone

import httpx
import pytest

import ledgerlink
import ledgerlink.sandbox
from ledgerlink_myshop.destination import MyShopStockDestination, MyShopStockOptions
from ledgerlink_myshop.sandbox import MyShopSandbox


def test_a_misspelt_option_is_named_with_the_closest_one():
    with pytest.raises(ledgerlink.OptionsError) as err:
        ledgerlink.check_options(MyShopStockOptions, {"safety_stok": 2, "count": "onhand"})
    message = str(err.value)
    assert "destination.options.safety_stok: unknown key 'safety_stok' (did you mean 'safety_stock'?)" in message
    assert "destination.options.count: 'onhand' is not allowed; choose one of: available, on_hand (did you mean " \
           "'on_hand'?)" in message


def test_levels_are_written_less_the_safety_stock():
    class Plan:
        options = {"safety_stock": 2}
        cache: dict = {}

    level = ledgerlink.InventoryLevel(source="myshop", sku="MUG", location="1", on_hand=5,
                                      as_of=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with ledgerlink.sandbox.running(MyShopSandbox()) as url:
        destination = MyShopStockDestination()
        [write] = destination.plan(level, Plan())
        destination.open({"base_url": url, "api_key": "sandbox-key"}, ledgerlink.WriteContext())
        record = ledgerlink.OutboundRecord(key=write.key, stream=write.stream, data=write.data)
        assert all(result.ok for result in destination.write_batch("stock", [record]))
        assert httpx.get(f"{url}/stock", headers={"X-Api-Key": "sandbox-key"}).json() == {"MUG": 3}
