"""Posting plans for QuickBooks Desktop: what a canonical object becomes as qbXML-shaped payloads in the outbox.

One module per kind of thing posted: `orders` (customers, items, receipts, invoices, payments, voids; also the
name and RefNumber limits the others share), `refunds` (credit memos and restocked returns), `settlements`
(journal entries), `inventory` (stock adjustments) and `revisions` (reversing and replacing a posted journal).
The destination picks the plan for each kind; the Web Connector bridge sends what they planned.
"""
