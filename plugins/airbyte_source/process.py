"""One run of an Airbyte connector executable (`spec`, `check`, `discover` or `read`) as a child process.

The connector speaks the Airbyte protocol on stdout: one JSON message a line. What it prints that is not a
protocol message is logged (masked) and counted, never fatal on its own; a connector that prints nothing but
such lines is not an Airbyte connector, and that is an error. Its config, catalog and state go in files in a
private temporary folder (owner-only, removed when the run ends), so a secret never appears on a command line.
A connector that exits non-zero, is killed, or stays silent longer than `idle_timeout_s` fails the run with an
error naming it, its exit, its last TRACE error and the tail of its stderr — all masked.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

import ledgerlink
from ledgerlink import ConfigError, LedgerlinkError, protocol

__all__ = ["ConnectorProcess", "ConnectorFailed", "ConnectorRefusedConfig"]

log = logging.getLogger("ledgerlink.airbyte")

#: stderr lines kept to show when the connector fails
STDERR_TAIL = 20
#: characters of one line shown in a log or an error
LINE_CHARS = 500
#: lines waiting between the reader thread and the consumer (bounded: a fast connector waits for staging)
QUEUE_LINES = 2000
_END = object()


class ConnectorFailed(LedgerlinkError):
    """The Airbyte connector process failed (exit, signal, silence, or nothing but non-protocol output): the run
    fails (exit 1), what it sent before is kept."""

    kind = "remote"


class ConnectorRefusedConfig(ConfigError):
    """The connector cannot be started as configured, or said its config is wrong (a `config_error` TRACE):
    bad config, exit 2."""


def _clip(text: str, limit: int = LINE_CHARS) -> str:
    text = text.rstrip("\r\n")
    return ledgerlink.mask(text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the connector gets SIGKILL when ledgerlink dies (kill -9 included), so no orphan keeps reading."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 — best effort: elsewhere the closed pipe stops the orphan
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class ConnectorProcess:
    """`with ConnectorProcess(name, argv, "read", config=..., catalog=..., state=...) as run: for m in run:`.

    Iterating yields every protocol message the connector prints, in order; when the output ends, the exit is
    checked (and `ConnectorFailed` raised for a failure). Leaving the block early kills the connector."""

    def __init__(self, name: str, argv: list[str], command: str, *, config: dict[str, Any] | None = None,
                 catalog: dict[str, Any] | None = None, state: Any = None, idle_timeout_s: float = 1800.0,
                 env: dict[str, str] | None = None, cwd: str | None = None):
        self.name = name
        self.argv = list(argv)
        self.command = command
        self.idle_timeout_s = idle_timeout_s
        self.messages = 0
        self.non_protocol = 0
        self.first_non_protocol: str | None = None
        self.trace_errors: list[protocol.ErrorTrace] = []
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self._files = {"config": config, "catalog": catalog, "state": state}
        self._env = env
        self._cwd = cwd
        self._folder: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[Any] = queue.Queue(QUEUE_LINES)
        self._threads: list[threading.Thread] = []

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> "ConnectorProcess":
        self._folder = Path(tempfile.mkdtemp(prefix="ledgerlink-airbyte-"))  # mode 0700
        args = [*self.argv, self.command]
        for flag, value in self._files.items():
            if value is None:
                continue
            path = self._folder / f"{flag}.json"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(ledgerlink.json_dumps(value))
            args += [f"--{flag}", str(path)]
        env = {**os.environ, **(self._env or {}), "PYTHONUNBUFFERED": "1"}
        try:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, env=env, cwd=self._cwd,
                                          preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        except OSError as exc:
            self._cleanup()
            raise ConnectorRefusedConfig(f"airbyte connector {self.name} could not be started: {exc.strerror or exc}",
                                         where="source.config.command", hint=f"check source.config.command ({_clip(' '.join(self.argv), 200)}): the "
                                       "executable must exist and be executable") from None
        self._threads = [threading.Thread(target=self._pump_stdout, daemon=True, name=f"airbyte-{self.name}-out"),
                         threading.Thread(target=self._pump_stderr, daemon=True, name=f"airbyte-{self.name}-err")]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop the connector if it still runs, and remove its files (the config holds secrets)."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot stop
                pass
        deadline = time.monotonic() + 5
        for t in self._threads:
            while t.is_alive() and time.monotonic() < deadline:
                self._drain()  # a reader blocked on a full queue sees the end of the pipe
                t.join(timeout=0.05)
        self._cleanup()

    def _drain(self) -> None:
        try:
            while True:
                self._lines.get_nowait()
        except queue.Empty:
            pass

    def _cleanup(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    # -- the two pipes ----------------------------------------------------------------------------------------
    def _pump_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            for line in self._proc.stdout:
                self._lines.put(line)
        except (OSError, ValueError):  # the pipe closed under us (close() after a kill)
            pass
        finally:
            self._lines.put(_END)

    def _pump_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        try:
            for raw in self._proc.stderr:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                if text.strip():
                    self.stderr_tail.append(text)
        except (OSError, ValueError):
            pass

    # -- messages --------------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[protocol.Message]:
        while True:
            try:
                line = self._lines.get(timeout=self.idle_timeout_s)
            except queue.Empty:
                self.close()
                raise self.failure(f"printed nothing for {self.idle_timeout_s:g} s and was stopped",
                                    hint="raise source.config.idle_timeout_s if the remote is this slow") from None
            if line is _END:
                break
            message = self._parse(line)
            if message is None:
                continue
            self.messages += 1
            if message.type == protocol.MessageType.TRACE and message.trace and message.trace.error:
                self.trace_errors.append(message.trace.error)
            yield message
        self._finish()

    def _parse(self, line: bytes) -> protocol.Message | None:
        text = line.decode("utf-8", "replace")
        if not text.strip():
            return None
        try:
            return protocol.loads(line) if text.lstrip().startswith("{") else self._non_protocol(text)
        except (ValueError, ValidationError, RecursionError):
            return self._non_protocol(text)

    def _non_protocol(self, text: str) -> None:
        """A line that is not an Airbyte message: logged (masked, clipped), counted, kept out of the data."""
        self.non_protocol += 1
        if self.first_non_protocol is None:
            self.first_non_protocol = _clip(text, 200)
        if self.non_protocol <= 100:
            log.warning("airbyte connector %s printed a line that is not an Airbyte message: %s", self.name, _clip(text))
        elif self.non_protocol == 101:
            log.warning("airbyte connector %s: more lines that are not Airbyte messages; no longer logged", self.name)
        return None

    def _finish(self) -> None:
        assert self._proc is not None
        try:
            code = self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.close()
            raise self.failure("closed its output but did not exit; it was stopped") from None
        for t in self._threads:
            t.join(timeout=5)
        if code < 0:
            raise self.failure(f"was killed by {_signal_name(-code)} after {self.messages} messages",
                                hint="what it sent before is staged, with the states that cover it; the next "
                                     "sync resumes from the last saved state")
        if code > 0:
            raise self.failure(f"exited with code {code} after {self.messages} messages")
        if self.messages == 0 and self.non_protocol:
            raise self.failure(f"printed {self.non_protocol} line(s) and no Airbyte message (first: "
                                f"{self.first_non_protocol!r})",
                                hint="is source.config.command an Airbyte connector? It must print Airbyte "
                                     "protocol messages, one JSON object a line, on stdout")

    def failure(self, what: str, hint: str | None = None) -> LedgerlinkError:
        message = f"airbyte connector {self.name} ({self.command}) {what}"
        refused = False
        if self.trace_errors:
            last = self.trace_errors[-1]
            stream = f" (stream {last.stream_descriptor.name})" if last.stream_descriptor else ""
            kind = f"{last.failure_type.value}: " if last.failure_type else ""
            message += f"; its error{stream}: {kind}{_clip(last.message or '')}"
            if last.failure_type == protocol.FailureType.config_error:
                refused = True
        if self.stderr_tail:
            message += "\n  last lines of its stderr:\n    " + "\n    ".join(_clip(s, 300) for s in self.stderr_tail)
        if refused:
            return ConnectorRefusedConfig(message, where="source.config.config",
                                          hint=hint or "the connector refused its config: check it against the "
                                                       "connector's spec (its `spec` command)")
        return ConnectorFailed(message, hint=hint or "run the connector's command by hand to see its whole output")
