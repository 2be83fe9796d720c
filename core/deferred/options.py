"""Deferred-transaction options, as a pipeline gives them in `destination.options.deferred`:

    deferred:
      enabled: true

A transaction sold in one month and released in a later one is recognised at the end of the month it was sold
in (a journal crediting its sales and fees, debiting the deferred-transactions account) and reversed on the
day Amazon releases it, when the settlement that carries it books the same money.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..options import Options, check_options

__all__ = ["DeferredOptions", "parse_deferred_options"]


class DeferredOptions(Options):
    """`destination.options.deferred`: how sales Amazon holds past a month end are recognised in their month."""

    enabled: bool = Field(False, description=(
        "recognise Amazon's deferred transactions at the end of the month they were sold in, and reverse that "
        "when Amazon releases them (so each month's income is right and the bank still ties)"))


def parse_deferred_options(options: dict[str, Any] | None) -> DeferredOptions:
    """`destination.options.deferred` validated; an OptionsError naming every wrong key (with a did-you-mean)."""
    raw = (options or {}).get("deferred") or {}
    return check_options(DeferredOptions, raw, where="destination.options.deferred",
                         hint="see docs/concepts/deferred.md for the deferred-transaction options")
