"""What the Airbyte connector-process tests share: running an entry point (in this process, or as the installed
console script), reading its stdout as protocol messages, each checked against Airbyte's own protocol schema,
and configs pointing the connectors at their sandboxes."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRBYTE_YAML = REPO.parent / "shared" / "reference" / "airbyte-protocol" / "airbyte_protocol.v0.yaml"
#: a connector process must answer within this (a bound, not a timing assertion)
TIMEOUT_S = 240

__all__ = ["REPO", "ConnectorRun", "ProtocolSchema", "run_entry", "run_script", "script_path", "write_json",
           "configured_catalog", "amazon_config", "bigcommerce_config", "qbo_config", "TIMEOUT_S"]


class ProtocolSchema:
    """Airbyte's protocol schema (../shared/reference, a test oracle): `check(message)` raises listing every
    error of a message that is not a valid AirbyteMessage."""

    def __init__(self, path: Path = AIRBYTE_YAML):
        if not path.exists():
            pytest.fail(f"the Airbyte protocol schema is missing: {path}")
        doc = yaml.safe_load(path.read_text())
        root = {k: v for k, v in doc.items() if k not in ("properties", "type", "title")}
        root["$ref"] = "#/definitions/AirbyteMessage"
        self.validator = jsonschema.validators.validator_for(doc)(root)

    def check(self, message: Any) -> None:
        errors = sorted(self.validator.iter_errors(message), key=str)
        assert not errors, f"{json.dumps(message)[:300]}\n" + "\n".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors)


@dataclass
class ConnectorRun:
    """One run of a connector process: its exit code, stdout as protocol messages (each validated), stderr."""

    code: int
    messages: list[dict[str, Any]]
    stderr: str
    lines: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of("TRACE") if m["trace"]["type"] == "ERROR"]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [m["record"]["data"] for m in self.of("RECORD") if stream in (None, m["record"]["stream"])]


def _parse(stdout: str, schema: ProtocolSchema) -> tuple[list[dict[str, Any]], list[str]]:
    """Every line on stdout is one JSON AirbyteMessage: anything else fails the test, naming the line."""
    lines = stdout.splitlines()
    messages = []
    for number, line in enumerate(lines, 1):
        assert line.strip(), f"stdout line {number} is blank"
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"stdout line {number} is not JSON: {line[:200]!r}") from None
        schema.check(message)
        messages.append(message)
    return messages, lines


def run_entry(schema: ProtocolSchema, command: str, *args: str, stdin: str = "") -> ConnectorRun:
    """Run `command` (an entry point's name) in this process, exactly as its console script would, capturing
    stdout and stderr; the root logger is left as it was."""
    from ledgerlink.cli.airbyte_processes import by_command, run_connector

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        run_connector(by_command(command), list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:  # pragma: no cover - run_connector always exits
        raise AssertionError("run_connector returned instead of exiting")
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        root.handlers[:] = handlers
        root.setLevel(level)
    messages, lines = _parse(out.getvalue(), schema)
    return ConnectorRun(code, messages, err.getvalue(), lines)


def script_path(command: str) -> str:
    """The installed console script (beside this interpreter, as pip puts it)."""
    path = Path(sys.executable).parent / command
    found = str(path) if path.exists() else shutil.which(command)
    assert found, f"console script {command} is not installed; run `pip install -e .`"
    return found


def run_script(schema: ProtocolSchema, command: str, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> ConnectorRun:
    """Run the installed console script `command` as Airbyte would: a process, its stdout read as messages."""
    done = subprocess.run([script_path(command), *args], input=stdin, capture_output=True, text=True,
                          timeout=TIMEOUT_S, env={**os.environ, **(env or {})})
    messages, lines = _parse(done.stdout, schema)
    return ConnectorRun(done.returncode, messages, done.stderr, lines)


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def configured_catalog(streams: Iterable[dict[str, Any]], sync_mode: str = "full_refresh",
                       destination_sync_mode: str = "append") -> dict[str, Any]:
    """A ConfiguredAirbyteCatalog of these AirbyteStreams (as `discover` printed them)."""
    return {"streams": [{"stream": s, "sync_mode": sync_mode if sync_mode in s["supported_sync_modes"]
                         else s["supported_sync_modes"][0], "destination_sync_mode": destination_sync_mode}
                        for s in streams]}


def amazon_config(url: str, **over: Any) -> dict[str, Any]:
    return {"endpoint": url, "lwa_endpoint": f"{url}/auth/o2/token",
            "client_id": "amzn1.application-oa2-client.test", "client_secret": "amzn1.oa2-cs.v1.sandbox-secret",
            "refresh_token": "Atzr|sandbox-refresh-token", "marketplace_ids": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "start_date": "2020-01-01T00:00:00Z", **over}


def bigcommerce_config(url: str, **over: Any) -> dict[str, Any]:
    return {"base_url": url, "store_hash": "abc123", "access_token": "test-token",
            "start_date": "2020-01-01T00:00:00Z", **over}


def qbo_config(url: str, sandbox: Any, **over: Any) -> dict[str, Any]:
    o = sandbox.options
    return {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
            "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token, **over}
