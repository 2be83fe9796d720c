"""Inventory options, as a pipeline gives them in `destination.options.inventory`:

    inventory:
      default: channel            # who masters a SKU: channel, quickbooks or two_way
      skus: {"MUG-*": two_way, "GIFT-CARD": quickbooks}   # per SKU, or glob patterns (first match wins)
      fba_skus: ["*-FBA"]         # stocked at Amazon's warehouses: always channel-mastered, whatever the above says
      conflict: channel_wins      # two_way, both sides changed since they last agreed: channel_wins or quickbooks_wins
      location: "1"               # the channel location QuickBooks mirrors (others are not posted)
      account: Inventory Shrinkage  # where adjustments post (default: the destination's own)
      reason: "Stock count from {source}"   # first words of the memo after the key
      drift_threshold: 0          # `ledgerlink reconcile`: a SKU whose quantities differ by more is listed
      baseline: .ledgerlink/inventory-baseline.sqlite   # what each side last said; shared by both directions
      unknown_skus: dead_letter   # a SKU QuickBooks has no inventory item for: dead_letter or skip
"""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..money import to_decimal

__all__ = ["InventoryOptions", "Master", "parse_inventory_options", "DEFAULT_BASELINE"]

Master = Literal["channel", "quickbooks", "two_way"]
DEFAULT_BASELINE = ".ledgerlink/inventory-baseline.sqlite"


class InventoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: Master = "channel"
    skus: dict[str, Master] = Field(default_factory=dict)
    fba_skus: list[str] = Field(default_factory=list)
    conflict: Literal["channel_wins", "quickbooks_wins"] = "channel_wins"
    location: str | None = None
    account: str | None = None
    reason: str = "Stock level from {source}"
    drift_threshold: Decimal = Decimal(0)
    baseline: str = DEFAULT_BASELINE
    unknown_skus: Literal["dead_letter", "skip"] = "dead_letter"

    @field_validator("drift_threshold", mode="before")
    @classmethod
    def _decimal(cls, value: Any) -> Any:
        # a threshold is a count of units, not money: a YAML 0.5 is read through its text
        amount = to_decimal(str(value) if isinstance(value, float) else value, field="drift_threshold")
        if amount < 0:
            raise ValueError("drift_threshold must be 0 or more")
        return amount

    @field_validator("location", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    def configured_master(self, sku: str) -> Master:
        """The master the options name for `sku`: an exact entry, else the first glob that matches, else the
        default (FBA is decided by `masters.master_of`, which also knows what the baseline saw)."""
        if sku in self.skus:
            return self.skus[sku]
        for pattern, master in self.skus.items():
            if fnmatch.fnmatchcase(sku, pattern):
                return master
        return self.default

    def listed_fba(self, sku: str) -> bool:
        return any(fnmatch.fnmatchcase(sku, pattern) for pattern in self.fba_skus)

    @property
    def baseline_path(self) -> Path:
        p = Path(self.baseline)
        return p if p.is_absolute() else Path.cwd() / p

    def memo(self, key: str, source: str, detail: str) -> str:
        """The memo / PrivateNote: the key on the first line (found again before posting twice), then why."""
        try:
            reason = self.reason.format(source=source)
        except (KeyError, IndexError, ValueError):
            reason = self.reason
        return f"{key}\n{reason}: {detail}"


def parse_inventory_options(options: dict[str, Any] | None, cache: dict[Any, Any] | None = None) -> InventoryOptions:
    """The destination options' `inventory` section, validated (errors name the key). `cache` is the plan
    context's per-run cache, so a run of 10,000 levels parses the options once."""
    section = (options or {}).get("inventory") or {}
    if cache is not None:
        marker = ("ledgerlink.inventory.options", id(section))
        found = cache.get(marker)
        if found is not None:
            return found
    if not isinstance(section, dict):
        raise ConfigError("inventory options are a mapping", where="destination.options.inventory")
    try:
        parsed = InventoryOptions.model_validate(section)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], where=f"destination.options.inventory.{loc}" if loc else
                          "destination.options.inventory",
                          hint="default/skus take channel, quickbooks or two_way; conflict takes channel_wins or "
                               "quickbooks_wins") from None
    if cache is not None:
        cache[marker] = parsed
    return parsed
