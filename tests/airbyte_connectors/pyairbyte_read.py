"""Read a source with PyAirbyte through its local executable into a DuckDB cache, and print what the cache
holds as JSON. Run by the PyAirbyte virtual environment's Python (PyAirbyte's pins do not fit ledgerlink's,
see .ci/run), never imported by the tests:

    python pyairbyte_read.py EXECUTABLE CONFIG_JSON CACHE_DIR STREAM [STREAM ...]

Prints {"streams": {stream: [record, ...]}, "columns": {stream: [...]}, "version": PyAirbyte's} on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # no registry look-up, no telemetry: nothing leaves the machine
os.environ.setdefault("DO_NOT_TRACK", "1")


def main(executable: str, config_path: str, cache_dir: str, streams: list[str]) -> None:
    import airbyte as ab
    from airbyte.caches import DuckDBCache

    name = Path(executable).name
    source = ab.get_source(name, config=json.loads(Path(config_path).read_text()), local_executable=executable,
                           streams=streams)
    source.check()
    cache = DuckDBCache(db_path=str(Path(cache_dir) / "pyairbyte.duckdb"), schema_name="main")
    result = source.read(cache=cache)
    out: dict = {"streams": {}, "columns": {}, "version": ab.__version__ if hasattr(ab, "__version__") else None}
    for stream in streams:
        dataset = result[stream]
        rows = [dict(row) for row in dataset]
        out["streams"][stream] = rows
        out["columns"][stream] = sorted(rows[0]) if rows else []
    sys.stdout.write(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
