"""`files`: CSV, TSV and JSON-lines files on disk as a source (a 3PL's shipment export, a cost file).

Streams come from the config, so the source remembers the config it last parsed: the runtime parses the
pipeline's source config before it asks for stream classes and normalisers.
"""

from __future__ import annotations

import glob
import itertools
import os
from typing import Any, ClassVar

from ledgerlink import ConfigError, Normaliser, Source, Stream, protocol

from .config import FilesConfig, FileStreamConfig
from .infer import infer_schema
from .normalise import normalisers_for
from .reader import FileRead, file_format
from .streams import matching_files, stream_class

__all__ = ["FilesSource"]


class FilesSource(Source):
    """Reads the files each configured stream's glob matches; incremental by file (see `reader`)."""

    name: ClassVar[str] = "files"
    config_model: ClassVar[type[FilesConfig]] = FilesConfig

    def __init__(self) -> None:
        self._config: FilesConfig | None = None

    def parse_config(self, config: dict[str, Any], where: str = "config") -> FilesConfig:
        parsed = super().parse_config(config, where)
        assert isinstance(parsed, FilesConfig)
        self._config = parsed
        return parsed

    def stream_classes(self) -> list[type[Stream]]:
        """The configured streams (none until a config has been parsed)."""
        return [stream_class(s) for s in self._config.streams] if self._config else []

    def streams(self, config: FilesConfig) -> list[Stream]:
        return [stream_class(s)(config) for s in config.streams]

    def normalisers(self) -> list[Normaliser]:
        return normalisers_for(self._config.streams) if self._config else []

    def discover(self, config: dict[str, Any]) -> protocol.Catalog:
        """One stream per configured entry, its columns inferred from the first rows of its files."""
        parsed = self.parse_config(config)
        return protocol.Catalog(streams=[stream_class(s, self.infer(s)).airbyte_stream() for s in parsed.streams])

    @staticmethod
    def infer(spec: FileStreamConfig) -> dict[str, Any]:
        files = matching_files(spec)
        text = not files or file_format(spec, files[0]) != "jsonl"
        rows = itertools.islice(itertools.chain.from_iterable(FileRead(p, spec) for p in files), spec.sample_rows)
        return infer_schema(rows, text=text, overrides=spec.schema_)

    def check_connection(self, config: FilesConfig) -> None:
        """Each stream's folder exists and its files can be opened (an empty drop folder is fine)."""
        for spec in config.streams:
            pattern = os.path.expanduser(spec.path)
            base = pattern
            while glob.has_magic(base):
                base = os.path.dirname(base)
            if glob.has_magic(pattern):
                if not os.path.isdir(base or "."):
                    raise ConfigError(f"folder {base} does not exist (cwd {os.getcwd()})", where=f"streams.{spec.name}.path")
            elif not os.path.isfile(pattern):
                raise ConfigError(f"file {pattern} does not exist (cwd {os.getcwd()})", where=f"streams.{spec.name}.path",
                                  hint="a relative path is relative to the working directory")
            for path in matching_files(spec):
                file_format(spec, path)
                if not os.access(path, os.R_OK):
                    raise ConfigError(f"cannot read {path}", where=f"streams.{spec.name}.path", hint="check its permissions")
