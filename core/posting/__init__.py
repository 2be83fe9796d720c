"""Posting rules every ledger shares: which document an order becomes, its customer, items, tax and dimensions.

Ledger plugins (QuickBooks Online, QuickBooks Desktop, a third party's) decide the shape of their payloads;
the decisions that are the same in every ledger live here, so they cannot drift apart.
"""
