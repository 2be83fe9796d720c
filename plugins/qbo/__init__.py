"""ledgerlink_qbo: the QuickBooks Online destination and a local QBO v3 sandbox."""

from .config import PostingOptions, QboConfig
from .destination import QuickBooksOnlineDestination
from .sandbox import QuickBooksOnlineSandbox, QboSandboxOptions

__all__ = ["QuickBooksOnlineDestination", "QuickBooksOnlineSandbox", "QboSandboxOptions", "QboConfig",
           "PostingOptions"]
