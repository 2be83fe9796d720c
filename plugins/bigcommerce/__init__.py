"""ledgerlink_bigcommerce: the BigCommerce source, its writes (inventory, shipments, order status), the webhook
receiver, and a local sandbox of the store API."""

from .config import BigCommerceConfig
from .connector import BigCommerceConnector
from .destination import BigCommerceDestination
from .normalise import normalise_order
from .sandbox import BigCommerceSandbox, BigCommerceSandboxOptions
from .source import BigCommerceSource
from .webhooks import webhook_app

__all__ = ["BigCommerceConfig", "BigCommerceSource", "BigCommerceDestination", "BigCommerceConnector",
           "BigCommerceSandbox", "BigCommerceSandboxOptions", "normalise_order", "webhook_app"]
