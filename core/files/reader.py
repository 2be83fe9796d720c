"""Reading one file into rows, from the start or from where the last run stopped.

A file's state is its size, mtime, the bytes read so far with their hash, the lines read and (CSV/TSV)
its header. Next run: same size and mtime → skipped; longer, with the same bytes up to where it stopped →
only the new lines are read; anything else → read again from the top (rows keep their keys, so staging
replaces them; a line that no longer holds a row comes out as `{_file, _line, _removed: true}`).
A row that cannot be read is not dropped: it comes out with `_error` (file, line, what is
wrong), and `_raw`, the line's text.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ledgerlink import ConfigError, json_loads

from .config import FileStreamConfig

__all__ = ["FileRead", "file_format", "MAX_RAW", "MAX_LINE_BYTES"]

#: how much of a bad line's text an error row keeps
MAX_RAW = 1000
#: a longer line is not a row a 3PL or a report writes: it becomes an error row (with its start), never a record
#: tens of megabytes long that staging would choke on
MAX_LINE_BYTES = 1_000_000

_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def file_format(spec: FileStreamConfig, path: str) -> str:
    """csv, tsv or jsonl: the configured format, or the one the extension says."""
    if spec.format != "auto":
        return spec.format
    found = _EXTENSIONS.get(Path(path).suffix.lower())
    if found is None:
        raise ConfigError(f"cannot tell the format of {path} from its extension", where=f"streams.{spec.name}.format",
                          hint="set format: csv, tsv or jsonl")
    return found


@dataclass
class _Line:
    number: int
    text: str | None  # None: the bytes are not valid in the encoding
    problem: str | None = None


@dataclass
class FileRead:
    """Reads `path` (shown as `shown` in `_file`) given its previous state; iterate for rows, then `state`.

    `status` says what happened: unchanged, appended, new or rewritten."""

    path: str
    spec: FileStreamConfig
    previous: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    status: str = "new"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        stat = os.stat(self.path)
        prev = self.previous or {}
        if prev and prev.get("size") == stat.st_size and prev.get("mtime_ns") == stat.st_mtime_ns:
            self.status, self.state = "unchanged", dict(prev)
            return
        with open(self.path, "rb") as f:
            data = f.read()  # one snapshot: a file still being written is read to here, the rest next run
        start, line, header = 0, 0, None
        offset = int(prev.get("offset") or 0)
        if prev and len(data) >= offset and prev.get("ends_with_newline", True) \
                and hashlib.sha256(data[:offset]).hexdigest() == prev.get("sha256"):
            start, line, header = offset, int(prev.get("lines") or 0), prev.get("header")
            self.status = "appended" if len(data) > offset else "unchanged"
        elif prev:
            self.status = "rewritten"
        fmt = file_format(self.spec, self.path)
        self._last_line, self._headless, self._header_line = line, False, 0
        lines = self._lines(data, start, line)
        rows = self._jsonl(lines) if fmt == "jsonl" else self._delimited(lines, fmt, header)
        emitted: set[int] = set()
        for row in rows:
            emitted.add(row["_line"])
            yield row
        if self.status == "rewritten" and self.spec.primary_key is None:
            # rows are keyed by file and line: a line that held a row before and does not now is marked
            # removed, so a shortened file leaves no stale row behind (and a removed bad line's dead letter clears)
            # the header's line too when the last read could not read a header (its line was an error row then)
            was_headless = prev.get("sha256") is None
            for n in range(1, int(prev.get("lines") or 0) + 1):
                if n not in emitted and (n != self._header_line or was_headless):
                    yield {"_file": self.path, "_line": n, "_removed": True}
        self.state = {"size": len(data), "mtime_ns": stat.st_mtime_ns, "offset": len(data),
                      # a file whose header could not be read is read whole again next time
                      "sha256": None if self._headless else hashlib.sha256(data).hexdigest(), "lines": self._last_line,
                      "ends_with_newline": not data or data.endswith(b"\n"),
                      **({"header": self._header} if fmt != "jsonl" else {})}

    # ------------------------------------------------------------------ lines

    def _lines(self, data: bytes, start: int, line: int) -> Iterator[_Line]:
        """Physical lines from `start`, each decoded on its own (one bad byte spoils one line, not the file)."""
        self._last_line = line
        chunk = data[start:]
        if start == 0 and chunk.startswith(codecs.BOM_UTF8):
            chunk = chunk[len(codecs.BOM_UTF8):]
        parts = chunk.split(b"\n")
        if parts and parts[-1] == b"":
            parts.pop()
        for raw in parts:
            line += 1
            self._last_line = line
            raw = raw[:-1] if raw.endswith(b"\r") else raw
            if len(raw) > MAX_LINE_BYTES:
                yield _Line(line, None, f"the line is {len(raw):,} bytes long, more than {MAX_LINE_BYTES:,} "
                                        f"(starts {raw[:40]!r})")
                continue
            try:
                yield _Line(line, raw.decode(self.spec.encoding))
            except UnicodeDecodeError as exc:
                yield _Line(line, None, f"bytes not valid {self.spec.encoding} at byte {exc.start + 1} of the line "
                                        f"({raw[exc.start:exc.start + 4]!r})")

    def _error(self, line: int, problem: str, raw: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {"_file": self.path, "_line": line, "_error": f"{self.path}, line {line}: {problem}",
                               "_raw": None if raw is None else raw[:MAX_RAW]}
        # keyed by the configured columns, an unreadable row still needs a key to be staged (and dead-lettered)
        for column in self.spec.primary_key or []:
            row.setdefault(column, f"unreadable: {self.path}, line {line}")
        return row

    # ------------------------------------------------------------------ formats

    def _jsonl(self, lines: Iterator[_Line]) -> Iterator[dict[str, Any]]:
        self._header = None
        for ln in lines:
            if ln.text is None:
                yield self._error(ln.number, ln.problem or "cannot decode", None)
                continue
            if not ln.text.strip():
                continue
            try:
                value = json_loads(ln.text)
            except ValueError as exc:
                yield self._error(ln.number, f"not valid JSON ({exc})", ln.text)
                continue
            if not isinstance(value, dict):
                yield self._error(ln.number, f"a JSON {type(value).__name__} where an object was expected", ln.text)
                continue
            yield {**value, "_file": self.path, "_line": ln.number}

    def _delimited(self, lines: Iterator[_Line], fmt: str, header: list[str] | None) -> Iterator[dict[str, Any]]:
        delimiter = self.spec.delimiter or ("\t" if fmt == "tsv" else ",")
        quoting = csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL
        consumed: list[_Line] = []

        def feed() -> Iterator[str]:
            for ln in lines:
                consumed.append(ln)
                # an undecodable line reaches the parser as a blank line; the row is reported from `consumed`
                yield (ln.text if ln.text is not None else "") + "\n"

        reader = csv.reader(feed(), delimiter=delimiter, quoting=quoting, strict=False)
        self._header = header
        headless: str | None = None
        while True:
            consumed.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                first = consumed[0] if consumed else _Line(self._last_line, "")
                yield self._error(first.number, f"cannot parse ({exc})", first.text)
                continue
            if not consumed:
                return
            first, text = consumed[0], "\n".join(ln.text or "" for ln in consumed)
            bad = next((ln for ln in consumed if ln.text is None), None)
            if bad is not None:
                if self._header is None:  # without its header no row of the file can be read: each says so
                    self._header, headless = [], f"the header (line {bad.number}) cannot be read: {bad.problem}"
                    self._headless = True
                yield self._error(bad.number, bad.problem or "cannot decode", None)
                continue
            if headless:
                yield self._error(first.number, headless, text)
                continue
            if not row or row == [""] * len(row) and not text.strip():
                continue  # a blank line is not a row
            if self._header is None:
                self._header, self._header_line = _header(row), first.number
                continue
            if len(row) != len(self._header):
                yield self._error(first.number, f"{len(row)} value{'s' * (len(row) != 1)} where the header "
                                                f"has {len(self._header)} columns", text)
                continue
            record: dict[str, Any] = {name: (value if value != "" else None) for name, value in zip(self._header, row)}
            record["_file"], record["_line"] = self.path, first.number
            yield record


def _header(row: list[str]) -> list[str]:
    """Column names as written (trimmed); blank ones become column_N and repeats get _2, _3…"""
    out: list[str] = []
    for i, name in enumerate(row):
        name = name.strip() or f"column_{i + 1}"
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base}_{n}"
        out.append(name)
    return out
