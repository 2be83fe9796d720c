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
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from ..data_dir import state_dir
from ..errors import ConfigError
from ..options.check import check_options
from ..options.model import Options, decimal_text

__all__ = ["InventoryOptions", "Master", "parse_inventory_options", "DEFAULT_BASELINE"]

Master = Literal["channel", "quickbooks", "two_way"]
DEFAULT_BASELINE = ".ledgerlink/inventory-baseline.sqlite"


class InventoryOptions(Options):
    """`destination.options.inventory`: who masters each SKU's stock and how adjustments post."""

    default: Master = Field("channel", description="who masters a SKU's stock: channel, quickbooks or two_way")
    skus: dict[str, Master] = Field(default_factory=dict, description=(
        "master per SKU or glob pattern (first match wins), e.g. {'MUG-*': two_way, GIFT-CARD: quickbooks}"))
    fba_skus: list[str] = Field(default_factory=list, description=(
        "SKU patterns stocked at Amazon's warehouses: always channel-mastered, whatever the above says"))
    conflict: Literal["channel_wins", "quickbooks_wins"] = Field("channel_wins", description=(
        "two_way, both sides changed since they last agreed: which one wins"))
    location: str | None = Field(None, description="the channel location (id or code) QuickBooks mirrors")
    account: str | None = Field(None, description="where adjustments post (default: the destination's own)")
    reason: str = Field("Stock level from {source}", description="first words of the memo after the key")
    drift_threshold: Annotated[Decimal, BeforeValidator(decimal_text)] = Field(
        Decimal(0), ge=0, le=1_000_000_000, description=(
            "`ledgerlink reconcile`: a SKU whose quantities differ by more is listed (units, 0 or more)"))
    baseline: str = Field(DEFAULT_BASELINE, description=(
        "what each side last said (a SQLite file), shared by both directions"))
    unknown_skus: Literal["dead_letter", "skip"] = Field("dead_letter", description=(
        "a SKU QuickBooks has no inventory item for: dead_letter or skip"))

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
        # relative to LEDGERLINK_STATE_DIR where that is set (a container's volume), as a pipeline's state is
        return p if p.is_absolute() else (state_dir() or Path.cwd()) / p

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
    parsed = check_options(InventoryOptions, section, where="destination.options.inventory",
                           hint="default/skus take channel, quickbooks or two_way; conflict takes channel_wins or "
                                "quickbooks_wins")
    if cache is not None:
        cache[marker] = parsed
    return parsed
