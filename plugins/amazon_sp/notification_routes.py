"""Which pipelines a notification concerns: each syncing type names the source's streams that read what it
announces, and a pipeline reading none of them is not synced for it (an ORDER_CHANGE does not sync a seller's
settlements-only pipeline). The streams come from the source's own stream families, so a stream added to a
family is routed with it.
"""

from __future__ import annotations

from typing import Iterable

from . import finances, inventory, reports, settlements
from .orders.streams import Orders2026Stream, OrderItemsStream, OrdersStream
from .reports.streams import AllOrdersReportStream

__all__ = ["STREAMS_BY_TYPE", "concerned_streams", "not_concerned"]


def _names(classes: Iterable[type]) -> frozenset[str]:
    return frozenset(str(getattr(cls, "name")) for cls in classes)


_ORDERS = _names([OrdersStream, OrderItemsStream, Orders2026Stream, AllOrdersReportStream])
#: the streams each syncing notification type concerns: orders (the orders API's streams, and the all-orders
#: report, which reads orders by their last update), a finished report (every report-backed stream:
#: settlements and the Reports API's), FBA stock, financial transactions
STREAMS_BY_TYPE: dict[str, frozenset[str]] = {
    "ORDER_CHANGE": _ORDERS,
    "ORDER_STATUS_CHANGE": _ORDERS,
    "REPORT_PROCESSING_FINISHED": _names(reports.STREAM_CLASSES) | _names(settlements.STREAM_CLASSES),
    "FBA_INVENTORY_AVAILABILITY_CHANGES": _names(inventory.STREAM_CLASSES),
    "TRANSACTION_UPDATE": _names(finances.STREAM_CLASSES),
}


def concerned_streams(kind: str, read: Iterable[str]) -> list[str]:
    """The streams of `read` (what a pipeline's sync reads) that a notification of type `kind` concerns."""
    wanted = STREAMS_BY_TYPE.get(kind, frozenset())
    return [name for name in read if name in wanted]


def not_concerned(kind: str, read: Iterable[str]) -> str | None:
    """Why a pipeline reading `read` is not synced for a `kind` notification, or None when it is."""
    read = list(read)
    if concerned_streams(kind, read):
        return None
    return (f"{kind} concerns the streams {', '.join(sorted(STREAMS_BY_TYPE.get(kind, ())))}; this pipeline "
            f"reads {', '.join(read) or 'none'} (source.streams)")
