"""Posting plans: what QuickBooks Online documents each order, refund, return, settlement and stock change
becomes, planned before anything is written (the destination writes them).

orders.py plans an order (customer, items, receipt or invoice, payment, void) and holds the shared document
rules (doc numbers, the ledgerlink note); refunds.py plans refunds and returns; settlements.py a payout's
journal entry; inventory.py stock adjustments; revisions.py reverses and re-posts a journal whose plan
changed; links.py carries out the order-to-cash gates, invoice links and voids when writing.
"""
