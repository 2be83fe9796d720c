"""The built-in `files` source: CSV, TSV and JSON-lines files on disk, with schema inference, incremental
reads by file, and normalisers for shipments (a 3PL's export) and costs (for COGS)."""

from .config import FilesConfig, FileStreamConfig
from .source import FilesSource

__all__ = ["FilesSource", "FilesConfig", "FileStreamConfig"]
