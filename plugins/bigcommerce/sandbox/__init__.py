"""The BigCommerce sandbox (`ledgerlink sandbox bigcommerce`): a local store API that answers and refuses as
BigCommerce does, seeded with a store's worth of orders, for tests and dry runs. Not used in production.

`server` is the sandbox; see its docstring for which module does what.
"""

from .server import BigCommerceSandbox, BigCommerceSandboxOptions, store_seed

__all__ = ["BigCommerceSandbox", "BigCommerceSandboxOptions", "store_seed"]
