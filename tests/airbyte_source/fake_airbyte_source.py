#!/usr/bin/env python3
"""A small Airbyte source executable for the `airbyte` source's tests: `spec`, `check`, `discover`, `read` with
`--config/--catalog/--state`, as any Airbyte connector takes them. Its one stream, `orders` (key `id`, cursor
`updated_at`), holds `count` orders; `read` resumes after the state's `updated_at` and sends a STATE every
`per_state` records. Its messages validate against the reference Airbyte protocol schema (a test checks).

`mode` in its config makes it misbehave the ways a real connector can:
  good           as described
  crash          two records and a STATE, then a traceback on stderr and exit 1
  noise          non-protocol lines mixed into stdout (a print left in, a warning), otherwise good
  only_noise     nothing but non-protocol lines, exit 0
  undeclared     a record of stream `invoices`, which discover never declared, among good ones
  no_state       records but never a STATE
  trace_error    a TRACE error (system_error) after some records, then exit 1 (as the Airbyte CDK does)
  trace_error_0  a TRACE error, then exit 0
  config_error   a TRACE error with failure_type config_error on read, exit 1
  killed         five records and a STATE, three more, then SIGKILL to itself: killed mid-read
  global_state   good, but with GLOBAL states
  secret_echo    logs its shop_code (a careless connector) and fails, printing it on stderr
  rotates        good, but after the first record it rotates its shop_code (a CONTROL message with its config
                 and the new code, as a connector whose refresh token rotated does; `check` does it too) unless
                 it already runs with a rotated one; the code it ran with is written to the file `report_to`, when given
It only reads its own files; nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

STREAM = "orders"
SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string"},
                                           "total": {"type": "number"}, "customer": {"type": "string"}}}


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def record(i: int, stream: str = STREAM) -> dict:
    data = {"id": i, "updated_at": f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00Z", "total": round(10 + i * 1.25, 2),
            "customer": f"buyer-{i % 7}"}
    return {"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1767225600000 + i}}


def state(cursor: str | None, count: int, mode: str) -> dict:
    blob = {"updated_at": cursor} if cursor else {}
    if mode == "global_state":
        return {"type": "STATE", "state": {"type": "GLOBAL", "global": {
            "shared_state": {"checkpoint": cursor}, "stream_states": [
                {"stream_descriptor": {"name": STREAM}, "stream_state": blob}]}}}
    return {"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": STREAM},
                                                                     "stream_state": blob},
                                       "sourceStats": {"recordCount": float(count)}}}


def log(level: str, message: str) -> None:
    emit({"type": "LOG", "log": {"level": level, "message": message}})


def trace_error(message: str, failure_type: str) -> None:
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1767225600000.0, "error": {
        "message": message, "internal_message": "RuntimeError: upstream said no", "failure_type": failure_type,
        "stream_descriptor": {"name": STREAM}}}})


def saved_cursor(path: str | None) -> str | None:
    if not path:
        return None
    saved = json.loads(open(path).read())
    for item in saved if isinstance(saved, list) else []:
        if item.get("type") == "STREAM" and item["stream"]["stream_descriptor"]["name"] == STREAM:
            return (item["stream"].get("stream_state") or {}).get("updated_at")
        if item.get("type") == "GLOBAL":
            for s in item["global"]["stream_states"]:
                if s["stream_descriptor"]["name"] == STREAM:
                    return (s.get("stream_state") or {}).get("updated_at")
    return None


def control(config: dict) -> dict:
    """The CONTROL message of a connector whose shop_code was rotated: its whole config, with the new code."""
    return {"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "emitted_at": 1767225600000.0,
                                           "connectorConfig": {"config": {**config, "shop_code": "k-rotated-7d3e9"}}}}


def read(config: dict, state_path: str | None) -> int:
    mode = config.get("mode", "good")
    count, per_state = int(config.get("count", 10)), int(config.get("per_state", 3))
    cursor = saved_cursor(state_path)
    if mode == "config_error":
        trace_error("shop_code is not valid for this shop", "config_error")
        return 1
    if mode == "only_noise":
        for i in range(3):
            print(f"Hello from a script that is not an Airbyte connector, line {i}")
        return 0
    if mode == "secret_echo":
        log("INFO", f"connecting with shop_code={config.get('shop_code')}")
        print(f"Traceback: auth failed for code {config.get('shop_code')}", file=sys.stderr)
        return 1
    log("INFO", f"reading {STREAM} after {cursor}")
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1767225600000.0, "stream_status": {
        "stream_descriptor": {"name": STREAM}, "status": "STARTED"}}})
    sent = 0
    last = cursor
    if config.get("report_to"):
        with open(config["report_to"], "a") as fh:
            fh.write(str(config.get("shop_code")) + "\n")
    for i in range(1, count + 1):
        if mode == "rotates" and i == 2 and not str(config.get("shop_code")).startswith("k-rotated-"):
            emit(control(config))
        rec = record(i)
        if cursor is not None and rec["record"]["data"]["updated_at"] <= cursor:
            continue
        if mode == "noise" and i % 2:
            print(f"debug: fetched order {i}")  # a print left in a connector
            sys.stdout.write("WARNING: urllib3 is old\n")
        if mode == "undeclared" and i == 3:
            emit(record(900, stream="invoices"))
        emit(rec)
        sent += 1
        last = rec["record"]["data"]["updated_at"]
        if mode == "crash" and sent == 2:
            emit(state(last, sent, mode))
            print("Traceback (most recent call last):\n  File \"source.py\", line 7, in read\n"
                  "KeyError: 'next_page'", file=sys.stderr)
            return 1
        if mode in ("trace_error", "trace_error_0") and sent == 4:
            trace_error("the shop API answered 500 for page 2", "system_error")
            return 1 if mode == "trace_error" else 0
        if mode == "killed" and sent == 8:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(5)
        if mode != "no_state" and sent % per_state == 0:
            emit(state(last, per_state, mode))
    if mode != "no_state":
        emit(state(last, sent % per_state, mode))
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 1767225600000.0, "stream_status": {
        "stream_descriptor": {"name": STREAM}, "status": "COMPLETE"}}})
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else ""
    args = dict(zip(argv[1::2], argv[2::2]))
    config = json.loads(open(args["--config"]).read()) if "--config" in args else {}
    if command == "spec":
        emit({"type": "SPEC", "spec": {"connectionSpecification": {
            "type": "object", "properties": {"shop_code": {"type": "string", "airbyte_secret": True},
                                             "count": {"type": "integer"}, "mode": {"type": "string"}}}}})
        return 0
    if command == "check":
        ok = config.get("shop_code") != "wrong"
        if config.get("mode") == "rotates" and not str(config.get("shop_code")).startswith("k-rotated-"):
            emit(control(config))
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {
            "status": "SUCCEEDED" if ok else "FAILED", **({} if ok else {"message": "401: shop_code refused"})}})
        return 0
    if command == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [{
            "name": STREAM, "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True, "default_cursor_field": ["updated_at"],
            "source_defined_primary_key": [["id"]]}]}})
        return 0
    if command == "read":
        return read(config, args.get("--state"))
    print(f"unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
