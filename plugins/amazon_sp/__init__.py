"""ledgerlink_amazon_sp: Amazon Selling Partner API source (orders, order items) and its local sandbox."""

from .config import AmazonSPConfig
from .normalise import normalise_order
from .sandbox import AmazonSandbox, AmazonSandboxOptions
from .source import AmazonSellingPartnerSource
from .streams import OrderItemsStream, OrdersStream

__all__ = ["AmazonSPConfig", "AmazonSellingPartnerSource", "AmazonSandbox", "AmazonSandboxOptions",
           "OrdersStream", "OrderItemsStream", "normalise_order"]
