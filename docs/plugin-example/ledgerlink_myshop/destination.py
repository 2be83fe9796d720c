"""The MyShop stock destination: sets each SKU's quantity in the shop, with its options declared as a typed model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

import ledgerlink

from .source import MyShopConfig, client


class MyShopStockOptions(ledgerlink.Options):
    """The pipeline's `destination.options` for `myshop_stock`. Deriving from `ledgerlink.Options` refuses unknown
    keys; `Literal` choices and bounded numbers make every other mistake a clear error too (an amount of money would
    be a `ledgerlink.Amount`, a Decimal), found when the pipeline is loaded, before anything runs."""

    safety_stock: int = Field(0, ge=0, le=10_000, description="units held back from what the shop offers")
    count: Literal["available", "on_hand"] = Field(
        "available", description="what the shop offers: the units available to sell (when the source knows them; "
                                 "else on hand), or every unit on hand")


class MyShopStockDestination(ledgerlink.Destination):
    name = "myshop_stock"
    config_model = MyShopConfig
    options_model = MyShopStockOptions  # checked on load; its JSON Schema is the spec's optionsSpecification
    objects = [ledgerlink.ObjectType("stock", matching_keys=[["sku"]])]

    def plan(self, obj: Any, ctx: ledgerlink.PlanContext) -> list[ledgerlink.PlannedWrite]:
        if not isinstance(obj, ledgerlink.InventoryLevel):
            return []
        options = ledgerlink.check_options(MyShopStockOptions, ctx.options)  # typed: defaults filled in
        count = obj.available if options.count == "available" and obj.available is not None else obj.on_hand
        quantity = max(int(count) - options.safety_stock, 0)
        key = ledgerlink.idempotency_key("stock", f"{obj.natural_key}@{obj.as_of.isoformat()}")
        return [ledgerlink.PlannedWrite(stream="stock", key=key, natural_key=obj.natural_key,
                                        data={"sku": obj.sku, "quantity": quantity})]

    def open(self, config: Any, context: ledgerlink.WriteContext) -> None:
        super().open(config, context)
        self.http = client(config if isinstance(config, MyShopConfig) else self.parse_config(config))

    def write_batch(self, stream: str, records: list[ledgerlink.OutboundRecord]) -> list[ledgerlink.WriteResult]:
        for record in records:
            self.http.request("PUT", f"/stock/{record.data['sku']}", operation="setStock",
                              json={"quantity": record.data["quantity"]})
        return [ledgerlink.WriteResult(key=record.key) for record in records]
