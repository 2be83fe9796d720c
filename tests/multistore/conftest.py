"""Fixtures for the many-stores tests: one BigCommerce sandbox serving two stores, and QuickBooks Online
sandboxes (one per company)."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import pytest

from ledgerlink.plugins import host
from ledgerlink.sandbox import running
from multistore_helpers import OTHER_REALM, REALM, STORE_B


@pytest.fixture
def sandboxes() -> Callable[..., Any]:
    """`with sandboxes(orders=30, realms=2) as (bc_url, [qbo_url, ...], bc):` a two-store BigCommerce sandbox
    (`bc`, the sandbox object) and one QBO sandbox per realm (REALM, then OTHER_REALM)."""
    sandbox = host().sandboxes()

    @contextlib.contextmanager
    def make(orders: int = 30, realms: int = 1) -> Iterator[tuple[str, list[str], Any]]:
        with contextlib.ExitStack() as stack:
            bc_sandbox = sandbox["bigcommerce"](orders=orders, stores=[STORE_B], time_scale=1000)
            bc = stack.enter_context(running(bc_sandbox))
            qbos = [stack.enter_context(running(sandbox["qbo"](realm_id=r, time_scale=1000)))
                    for r in (REALM, OTHER_REALM)[:realms]]
            yield bc, qbos, bc_sandbox
    return make
