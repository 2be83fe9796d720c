"""Fixtures for the BigCommerce plugin tests: a sandbox on loopback, configs pointing at it, an OpenAPI oracle."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from ledgerlink import RetryPolicy
from sandbox_helpers import sandbox_running

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01)


@pytest.fixture
def sandbox_url() -> Iterator[Callable[..., Any]]:
    """`with sandbox_url(orders=20) as (url, sandbox):` a time-scaled sandbox on a free port."""
    yield lambda **options: sandbox_running("bigcommerce", **{"orders": 20, **options})


@pytest.fixture
def config() -> Callable[..., dict[str, Any]]:
    def make(url: str, **overrides: Any) -> dict[str, Any]:
        return {"base_url": url, "store_hash": "abc123", "access_token": "test-token",
                "start_date": "2020-01-01T00:00:00Z", "webhook_secret": "s3cret", **overrides}
    return make


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` → JSON Schema's null alternative."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items() if k not in ("nullable", "x-nullable", "example", "examples")}
        if node.get("nullable") or node.get("x-nullable"):
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


class OpenApi:
    """Validates a reply against the response schema of one operation in BigCommerce's own spec."""

    def __init__(self, reference: Path):
        self.dir = reference / "bigcommerce" / "reference"
        self._docs: dict[str, dict[str, Any]] = {}

    def doc(self, name: str) -> dict[str, Any]:
        if name not in self._docs:
            self._docs[name] = yaml.safe_load((self.dir / name).read_text())
        return self._docs[name]

    def schema(self, name: str, path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
        doc = self.doc(name)
        response = doc["paths"][path][method]["responses"][status]
        if "$ref" in response:
            response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response["content"]
        target = (content.get("application/json") or next(iter(content.values())))["schema"]
        return _nullable({"allOf": [copy.deepcopy(target)], "components": doc.get("components", {})})

    def validate(self, body: Any, name: str, path: str, method: str = "get", status: str = "200") -> None:
        import jsonschema

        jsonschema.Draft7Validator(self.schema(name, path, method, status)).validate(body)


@pytest.fixture(scope="session")
def openapi(reference_dir: Path) -> OpenApi:
    return OpenApi(reference_dir)


__all__ = ["FAST_RETRY"]
