"""`bigcommerce` as the plugin host registers it: the source and the destination in one class.

The plugin registers the source and the destination as two classes (the host keys connectors by name and
role). This class, both at once, is kept for embedding code written against it: Airbyte's `spec`/`check`/`discover`/`read` are the
source's (discover lists streams), `write`/`plan`/`write_batch` the destination's (its object types:
`BigCommerceDestination().discover()`). The two classes stay separate and usable on their own.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from ledgerlink import RetryPolicy

from .destination import BigCommerceDestination
from .source import BigCommerceSource

__all__ = ["BigCommerceConnector"]


class BigCommerceConnector(BigCommerceSource, BigCommerceDestination):
    name: ClassVar[str] = "bigcommerce"

    def __init__(self, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None):
        BigCommerceSource.__init__(self, transport=transport, retry=retry)
        BigCommerceDestination.__init__(self, transport=transport, retry=retry)

    discover = BigCommerceSource.discover  # type: ignore[assignment]
    check_connection = BigCommerceSource.check_connection

    def plan(self, obj: Any, ctx: Any) -> Any:
        return BigCommerceDestination.plan(self, obj, ctx)
