"""Where a process writes, from the environment: one data folder (a container's one writable volume) holding the
pipelines' state, the secret key, caches and temporary files, each of which can also be moved on its own.

A container runs ledgerlink with a read-only root file system: the working directory and the home folder cannot
be written, so nothing may land there by default. `LEDGERLINK_DATA_DIR=/data` fills in every other variable
below it (a variable already set wins) and creates the folders, owner-only, when a command starts.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import MutableMapping

from .errors import ConfigError

__all__ = ["DATA_DIR_ENV", "STATE_DIR_ENV", "TEMP_DIR_ENV", "DUCKDB_TEMP_DIR_ENV", "CACHE_DIR_ENV", "DataPaths",
           "apply_data_dir", "state_dir", "duckdb_temp_dir"]

#: the one writable folder; every path below defaults to a folder inside it
DATA_DIR_ENV = "LEDGERLINK_DATA_DIR"
#: where a pipeline's state lives when its file names none, and what a relative `state:` is relative to
STATE_DIR_ENV = "LEDGERLINK_STATE_DIR"
#: temporary files (Python's `tempfile`, and so TMPDIR for what ledgerlink starts)
TEMP_DIR_ENV = "LEDGERLINK_TEMP_DIR"
#: where DuckDB spills what does not fit its memory limit (by default beside the state file, or the working
#: directory for in-memory state)
DUCKDB_TEMP_DIR_ENV = "LEDGERLINK_DUCKDB_TEMP_DIR"
#: caches (XDG_CACHE_HOME for libraries that keep one)
CACHE_DIR_ENV = "LEDGERLINK_CACHE_DIR"
#: the secret key file (see `ledgerlink.secrets`): created in the data folder when no key is given
SECRET_KEY_FILE_ENV = "LEDGERLINK_SECRET_KEY_FILE"


@dataclass(frozen=True)
class DataPaths:
    """The folders one data folder resolves to."""

    data: Path
    state: Path
    temp: Path
    duckdb_temp: Path
    cache: Path
    config: Path
    secret_key_file: Path


def _defaults(data: Path) -> dict[str, str]:
    return {STATE_DIR_ENV: str(data / "state"), TEMP_DIR_ENV: str(data / "tmp"),
            DUCKDB_TEMP_DIR_ENV: str(data / "tmp" / "duckdb"), CACHE_DIR_ENV: str(data / "cache"),
            "XDG_CONFIG_HOME": str(data / "config"), SECRET_KEY_FILE_ENV: str(data / "secret.key")}


def apply_data_dir(environ: MutableMapping[str, str] | None = None) -> DataPaths | None:
    """Fill in the path variables below `LEDGERLINK_DATA_DIR` (unless set), point TMPDIR, XDG_CACHE_HOME and
    Python's `tempfile` at them, and create the folders (0700). None when no data folder is set: then only the
    variables given one by one apply. A data folder that cannot be written is a ConfigError naming it."""
    env = os.environ if environ is None else environ
    data_text = env.get(DATA_DIR_ENV, "").strip()
    if data_text:
        data = Path(data_text).expanduser()
        if not data.is_absolute():
            raise ConfigError(f"{DATA_DIR_ENV}={data_text} is not an absolute path", where=DATA_DIR_ENV,
                              hint="name the writable volume by its full path, e.g. /data")
        for name, value in _defaults(data).items():
            if not env.get(name):
                env[name] = value
    temp = env.get(TEMP_DIR_ENV)
    cache = env.get(CACHE_DIR_ENV)
    for name, folder in ((TEMP_DIR_ENV, temp), (CACHE_DIR_ENV, cache), (STATE_DIR_ENV, env.get(STATE_DIR_ENV)),
                         (DUCKDB_TEMP_DIR_ENV, env.get(DUCKDB_TEMP_DIR_ENV))):
        if folder:
            _make_folder(Path(folder), name)
    if temp:
        env["TMPDIR"] = temp
        tempfile.tempdir = temp  # `tempfile` caches its folder on first use: set it now, before anything asks
    if cache:
        env["XDG_CACHE_HOME"] = cache
    if not data_text:
        return None
    return DataPaths(data=data, state=Path(env[STATE_DIR_ENV]), temp=Path(env[TEMP_DIR_ENV]),
                     duckdb_temp=Path(env[DUCKDB_TEMP_DIR_ENV]), cache=Path(env[CACHE_DIR_ENV]),
                     config=Path(env["XDG_CONFIG_HOME"]), secret_key_file=Path(env[SECRET_KEY_FILE_ENV]))


def _make_folder(folder: Path, variable: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create {folder} ({exc.strerror or exc})", where=variable,
                          hint="point it at the writable volume, owned by the user ledgerlink runs as") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{folder} cannot be written by this user", where=variable,
                          hint="point it at the writable volume, owned by the user ledgerlink runs as")


def state_dir() -> Path | None:
    """`LEDGERLINK_STATE_DIR` (or None: state is relative to the working directory, as it always was)."""
    value = os.environ.get(STATE_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def duckdb_temp_dir() -> str | None:
    """`LEDGERLINK_DUCKDB_TEMP_DIR`, for DuckDB's `temp_directory` (None: DuckDB's own default)."""
    value = os.environ.get(DUCKDB_TEMP_DIR_ENV, "").strip()
    return value or None
