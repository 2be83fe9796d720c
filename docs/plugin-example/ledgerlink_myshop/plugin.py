"""The hooks ledgerlink calls: what this plugin registers."""

from ledgerlink import hookimpl

from .destination import MyShopStockDestination
from .sandbox import MyShopSandbox
from .source import MyShopSource


@hookimpl
def register_connectors(register):
    register(MyShopSource)
    register(MyShopStockDestination)


@hookimpl
def register_sandboxes(register):
    register(MyShopSandbox)
