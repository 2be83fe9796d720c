"""The QuickBooks Online emulator: a local QBO v3 for the demo, tests and dry runs. Nothing here runs against the
real vendor: of the connector code one folder up, only the plugin registration and the package's re-export of
`QuickBooksOnlineSandbox` import it (tests/qbo/test_qbo_layout.py holds that).

server.py is the HTTP API (routes, OAuth2, throttling, fault injection under /_sandbox); company.py holds one
company's objects and the entity rules, with transactions.py (sales receipts, refunds, journals, deposits,
inventory) and order_to_cash.py (invoices, payments, voids, tax codes, exchange rates); faults.py answers
faults as QuickBooks does; query.py reads the query language; auth.py issues tokens; seed.py is the starting
company.
"""

from .server import QboSandboxOptions, QuickBooksOnlineSandbox

__all__ = ["QuickBooksOnlineSandbox", "QboSandboxOptions"]
