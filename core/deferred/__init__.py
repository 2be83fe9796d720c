"""Amazon's deferred transactions across month ends: a sale Amazon holds past the end of the month it was made in
is recognised in that month and the recognition reversed when Amazon releases it (docs/concepts/deferred.md)."""

from .journal import RELEASED_MARK, build_deferral_journals, crosses_month_end, part_role, plan_deferred
from .model import DeferredPart, DeferredTransaction
from .options import DeferredOptions, parse_deferred_options

__all__ = ["DeferredTransaction", "DeferredPart", "DeferredOptions", "parse_deferred_options",
           "build_deferral_journals", "plan_deferred", "crosses_month_end", "part_role", "RELEASED_MARK"]
