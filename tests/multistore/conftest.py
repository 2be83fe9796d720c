"""Fixtures for the many-stores tests: one BigCommerce sandbox serving two stores, and QuickBooks Online
sandboxes (one per company)."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import pytest

from multistore_helpers import OTHER_REALM, REALM, STORE_B
from sandbox_helpers import sandbox_running


@pytest.fixture
def sandboxes() -> Callable[..., Any]:
    """`with sandboxes(orders=30, realms=2) as (bc_url, [qbo_url, ...], bc):` a two-store BigCommerce sandbox
    (`bc`, the sandbox object) and one QBO sandbox per realm (REALM, then OTHER_REALM)."""

    @contextlib.contextmanager
    def make(orders: int = 30, realms: int = 1) -> Iterator[tuple[str, list[str], Any]]:
        with contextlib.ExitStack() as stack:
            bc, bc_sandbox = stack.enter_context(sandbox_running("bigcommerce", orders=orders, stores=[STORE_B]))
            qbos = [stack.enter_context(sandbox_running("qbo", realm_id=r))[0] for r in (REALM, OTHER_REALM)[:realms]]
            yield bc, qbos, bc_sandbox
    return make
