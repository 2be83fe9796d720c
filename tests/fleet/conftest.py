"""The fleet's tests run against a real Postgres (Debian's postgresql, started by .ci/run; for developers:
`sudo pg_ctlcluster 15 main start` and the role below, see docs/concepts/fleet.md). Each test gets a database
of its own, dropped afterwards. Without Postgres these tests skip on a developer's machine and FAIL in CI."""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest

from fleet_helpers import ADMIN_URL, database_url, postgres_problem


@pytest.fixture(scope="session")
def postgres() -> str:
    """The admin URL of a reachable Postgres whose role may create databases."""
    problem = postgres_problem()
    if problem:
        message = (f"the fleet tests need Postgres at {ADMIN_URL.split('@')[-1]}: {problem} (start it with "
                   "`pg_ctlcluster 15 main start`; the role: see docs/concepts/fleet.md)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return ADMIN_URL


@pytest.fixture(scope="session")
def fleet_template(postgres: str) -> Iterator[str]:
    """A database with the fleet's and DBOS's tables, made once per test process; each test copies it."""
    import psycopg

    from ledgerlink.fleet import FleetDatabase
    from ledgerlink.fleet.engine import init_fleet

    name = f"ll_fleet_template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = FleetDatabase(database_url(name))
    init_fleet(db)
    db.close()
    yield name
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fleet_url(postgres: str, fleet_template: str) -> Iterator[str]:
    """A fresh database for one test, with the fleet's and DBOS's tables."""
    import psycopg

    name = f"ll_fleet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{fleet_template}"')
    yield database_url(name)
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fleet_db(fleet_url: str):  # type: ignore[no-untyped-def]
    from ledgerlink.fleet import FleetDatabase

    return FleetDatabase(fleet_url)


@pytest.fixture
def enqueue_fails_once(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`enqueue_fails_once()`: from then on, the fleet's router cannot queue the next sync it is asked for
    (Postgres away for a moment), then can again."""
    from ledgerlink.fleet.database import FleetUnavailable
    from ledgerlink.fleet.webhooks import FleetWebhooks

    def arm() -> None:
        real = FleetWebhooks._enqueue
        failures = [FleetUnavailable("cannot reach the fleet database (test)")]

        def flaky(self, target, reason):  # type: ignore[no-untyped-def]
            if failures:
                raise failures.pop()
            return real(self, target, reason)

        monkeypatch.setattr(FleetWebhooks, "_enqueue", flaky)

    return arm
