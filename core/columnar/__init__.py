"""The columnar fast path of normalise + plan: a source projects staged records onto canonical order
columns, a destination plans from those columns, and the runtime joins them, falling back to the Python
reference path (normaliser + `plan`) for every record either side is not sure of. See
docs/reference/performance.md ("Normalise + plan, third pass") for what it covers and how it is proved."""

from .batch import ColumnarBatches, columnar_enabled
from .columns import LINE_AMOUNTS, ColumnarLine, ColumnarOrder
from .contract import (
    OrderPlanner, OrderProjection, PreparedPlanner, planner_for, projection_for, register_order_planner,
    register_order_projection,
)

__all__ = ["ColumnarBatches", "columnar_enabled", "ColumnarOrder", "ColumnarLine", "LINE_AMOUNTS",
           "OrderProjection", "OrderPlanner", "PreparedPlanner",
           "register_order_projection", "register_order_planner", "projection_for", "planner_for"]
