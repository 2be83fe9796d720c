"""What the `airbyte` source's tests share besides fixtures: the fake connector and its config, staged ids, and
where the real `airbyte-source-faker` is installed (imported by name: unique in the suite)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FAKE = HERE / "fake_airbyte_source.py"
REPO = HERE.parents[1]
REFERENCE_SCHEMA = REPO.parent / "shared" / "reference" / "airbyte-protocol" / "airbyte_protocol.v0.yaml"
#: the secret the fake connector's config carries (its spec marks shop_code airbyte_secret; no name rule would)
SECRET = "k-live-4f9a2c7e1b"


def fake_config(mode: str = "good", **inner: Any) -> dict[str, Any]:
    """The `airbyte` source's config running the fake connector in `mode`."""
    return {"command": [sys.executable, str(FAKE)], "name": "fake-shop", "idle_timeout_s": 60,
            "config": {"shop_code": SECRET, "mode": mode, "count": 10, "per_state": 3, **inner}}


def staged_ids(store, stream: str = "orders") -> list[int]:
    if not store.raw.exists(stream):
        return []
    return sorted(int(pk) for (pk,) in store.db.fetchall(f"SELECT pk FROM raw_{stream}"))


def faker_executable() -> Path | None:
    """`source-faker` from airbyte-source-faker, installed in a virtual environment of its own (its airbyte-cdk
    pins would downgrade ledgerlink's dependencies): $LEDGERLINK_AIRBYTE_FAKER, else `.venv-airbyte/` in the
    repository, as `.ci/run` creates it."""
    named = os.environ.get("LEDGERLINK_AIRBYTE_FAKER")
    path = Path(named) if named else REPO / ".venv-airbyte" / "bin" / "source-faker"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def manifest_executable() -> Path | None:
    """`source-declarative-manifest`, which airbyte-cdk installs beside `source-faker` (same venv):
    $LEDGERLINK_AIRBYTE_MANIFEST, else next to the faker executable."""
    named = os.environ.get("LEDGERLINK_AIRBYTE_MANIFEST")
    faker = faker_executable()
    path = Path(named) if named else (faker.parent / "source-declarative-manifest" if faker else None)
    return path if path is not None and path.is_file() and os.access(path, os.X_OK) else None
