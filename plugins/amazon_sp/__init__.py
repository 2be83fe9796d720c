"""ledgerlink_amazon_sp: Amazon Selling Partner API source (orders, order items), destination (FBM shipment
confirmations and quantities) and its local sandbox.

Orders are read through Orders v0 (default) or the Orders API 2026-01-01 (`orders_api: "2026-01-01"`,
stream `orders_2026`): see `source` for the trade-off.

Layout: what talks to Amazon sits at the top (`config`, `auth`, `client`, `source`, `destination`, `catalogue`,
`plugin`, and the shared `marketplaces` and `timestamps`); each stream family keeps its streams, parser and
normalisers in its own folder (`orders`, `finances`, `inventory`, `reports` with customer returns,
`settlements`); `sandbox` is the local emulator of Amazon and its seeded seller, which never runs against
Amazon."""

from .config import AmazonSPConfig
from .destination import AmazonSellingPartnerDestination, AmazonSPWriteConfig
from .orders.normalise import normalise_order
from .orders.normalise_2026 import normalise_order_2026
from .orders.streams import Orders2026Stream, OrderItemsStream, OrdersStream
from .sandbox import AmazonSandbox, AmazonSandboxOptions
from .source import AmazonSellingPartnerSource

__all__ = ["AmazonSPConfig", "AmazonSPWriteConfig", "AmazonSellingPartnerSource", "AmazonSellingPartnerDestination",
           "AmazonSandbox", "AmazonSandboxOptions",
           "OrdersStream", "OrderItemsStream", "Orders2026Stream", "normalise_order", "normalise_order_2026"]
