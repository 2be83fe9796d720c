"""ledgerlink_amazon_sp: Amazon Selling Partner API source (orders, order items), destination (FBM shipment
confirmations and quantities) and its local sandbox.

Orders are read through Orders v0 (default) or the Orders API 2026-01-01 (`orders_api: "2026-01-01"`,
stream `orders_2026`): see `source` for the trade-off."""

from .config import AmazonSPConfig
from .destination import AmazonSellingPartnerDestination, AmazonSPWriteConfig
from .normalise import normalise_order
from .normalise_2026 import normalise_order_2026
from .sandbox import AmazonSandbox, AmazonSandboxOptions
from .source import AmazonSellingPartnerSource
from .streams import Orders2026Stream, OrderItemsStream, OrdersStream

__all__ = ["AmazonSPConfig", "AmazonSPWriteConfig", "AmazonSellingPartnerSource", "AmazonSellingPartnerDestination",
           "AmazonSandbox", "AmazonSandboxOptions",
           "OrdersStream", "OrderItemsStream", "Orders2026Stream", "normalise_order", "normalise_order_2026"]
