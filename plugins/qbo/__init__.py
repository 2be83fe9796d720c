"""ledgerlink_qbo: the QuickBooks Online destination and source, and a local QBO v3 sandbox."""

from .config import PostingOptions, QboConfig, QboSourceConfig
from .destination import QuickBooksOnlineDestination
from .sandbox import QuickBooksOnlineSandbox, QboSandboxOptions
from .source import QuickBooksOnlineSource

__all__ = ["QuickBooksOnlineDestination", "QuickBooksOnlineSource", "QuickBooksOnlineSandbox", "QboSandboxOptions",
           "QboConfig", "QboSourceConfig", "PostingOptions"]
