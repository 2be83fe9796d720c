"""The mapping hook: the user's module that turns an Airbyte connector's records into canonical objects.

`source.config.normalisers` names a module (`package.module`) or a `.py` file (relative to the working
directory) that defines `normalisers() -> list[ledgerlink.Normaliser]`, exactly what a built-in source's
`normalisers()` returns: per stream, a function `(record, related) -> [canonical objects]` and the streams to
join. `source.normalise` in the pipeline still overrides one stream's function, as for any source."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from ledgerlink import ConfigError, Normaliser

__all__ = ["load_normalisers"]

WHERE = "source.config.normalisers"


def _module(spec: str) -> ModuleType:
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ConfigError(f"{spec} is not a file", where=WHERE,
                              hint="a path relative to the folder ledgerlink runs in, or a module name")
        name = "ledgerlink_airbyte_user_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        loader = importlib.util.spec_from_file_location(name, path)
        if loader is None or loader.loader is None:
            raise ConfigError(f"{spec} cannot be loaded as Python", where=WHERE)
        module = importlib.util.module_from_spec(loader)
        sys.modules[name] = module
        try:
            loader.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 — user code: any failure is a config problem to show
            sys.modules.pop(name, None)
            raise ConfigError(f"{spec} failed to load: {type(exc).__name__}: {exc}", where=WHERE) from None
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise ConfigError(f"cannot import {spec!r}: {exc}", where=WHERE,
                          hint="install the module where ledgerlink runs, or give a path to a .py file") from None


def load_normalisers(spec: str | None) -> list[Normaliser]:
    """The user's normalisers (none when the config names no module: records are staged, nothing is posted)."""
    if not spec:
        return []
    factory = getattr(_module(spec), "normalisers", None)
    if not callable(factory):
        raise ConfigError(f"{spec} has no normalisers() function", where=WHERE,
                          hint="define normalisers() returning a list of ledgerlink.Normaliser, one per stream")
    found = list(factory())
    wrong = [type(n).__name__ for n in found if not isinstance(n, Normaliser)]
    if wrong:
        raise ConfigError(f"{spec}: normalisers() returned {', '.join(wrong)} where ledgerlink.Normaliser was "
                          "expected", where=WHERE)
    return found
