"""The hooks ledgerlink calls: what this plugin registers."""

from ledgerlink import hookimpl

from .destination import MyShopStockDestination
from .sandbox import MyShopSandbox
from .source import MyShopSource
from .webhooks import webhook_app


@hookimpl
def register_connectors(register):
    register(MyShopSource)
    register(MyShopStockDestination)


@hookimpl
def register_sandboxes(register):
    register(MyShopSandbox)


@hookimpl
def register_web_routes(register):
    register("/webhooks/myshop", webhook_app)  # under /webhooks/: the fleet routes its callbacks too
