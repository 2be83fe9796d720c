"""The Amazon emulator: a local SP-API and its deterministic seller, for tests and `ledgerlink sandbox amazon_sp`.

Nothing here runs against the real Amazon. `server` is the app (LWA, Orders v0 and 2026-01-01, fault switches
under `/_sandbox/*`) and mounts one module per API family (`finances`, `inventory`, `reports`, `writes`, `notifications`);
`replies` is what they all answer with; `seed*` build the seller's orders, money, stock, report documents and
settlements from one seed."""

from .server import SANDBOX_PLANS, AmazonSandbox, AmazonSandboxOptions

__all__ = ["AmazonSandbox", "AmazonSandboxOptions", "SANDBOX_PLANS"]
