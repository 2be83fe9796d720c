"""A small HTTP proxy on 127.0.0.1 that puts network faults between a client and a sandbox, at random (seeded).

Each request through it meets at most one fault, drawn with the given rates:

- `refused`: the connection is reset before anything is forwarded (the remote never sees the request);
- `throttled`: a 429 with `Retry-After: 0`, answered by the proxy (the remote never sees it);
- `error_before`: a 5xx gateway page answered by the proxy (the remote never sees it);
- `error_after`: the request is forwarded and committed, its answer thrown away and replaced by a 5xx page
  (or, one time in two, the connection reset): the client cannot tell whether it went through;
- `late`: the request is forwarded and committed, its answer held back `late_s` seconds, longer than the
  client's timeout, so the client has given up when it arrives.

Faults only hit requests `applies(method, path)` accepts; `enabled = False` lets everything through (the clean
run at the end of a trial). `injected` counts the faults by kind, `forwarded` the requests the remote saw.
"""

from __future__ import annotations

import collections
import http.client
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator
from urllib.parse import urlsplit
import contextlib

__all__ = ["FaultProxy", "FAULT_KINDS", "running_proxy"]

FAULT_KINDS = ("refused", "throttled", "error_before", "error_after", "late")
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade", "host",
                "content-length"}
_GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1><p>injected by the fault proxy</p></body></html>"


class FaultProxy:
    def __init__(self, upstream: str, *, seed: int, rates: dict[str, float], late_s: float = 1.5,
                 applies: Callable[[str, str], bool] = lambda method, path: True):
        unknown = set(rates) - set(FAULT_KINDS)
        if unknown or sum(rates.values()) > 1:
            raise ValueError(f"fault rates must be of {FAULT_KINDS} and add up to at most 1: {rates}")
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.rates, self.late_s, self.applies = rates, late_s, applies
        self.enabled = True
        self.injected: collections.Counter[str] = collections.Counter()
        self.forwarded = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, method: str, path: str) -> str | None:
        """The fault this request meets, if any (one seeded draw per request, under a lock)."""
        if not self.enabled or not self.applies(method, path):
            return None
        with self._lock:
            roll = self._rng.random()
            for kind in FAULT_KINDS:
                rate = self.rates.get(kind, 0.0)
                if roll < rate:
                    self.injected[kind] += 1
                    return kind
                roll -= rate
        return None

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            connection.request(method, path, body=body or None,
                               headers={k: v for k, v in headers if k.lower() not in _HOP_HEADERS})
            response = connection.getresponse()
            content = response.read()
            with self._lock:
                self.forwarded += 1
            return response.status, [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_HEADERS], \
                content
        finally:
            connection.close()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows failures
                pass

            def _reset(self) -> None:
                """Close with a TCP reset (linger 0): the client sees the connection die, with no answer."""
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                with contextlib.suppress(OSError):
                    self.connection.close()
                self.close_connection = True

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:  # the client gave up (a late answer): nothing to tell it
                    self.close_connection = True

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fault = proxy.draw(self.command, self.path)
                if fault == "refused":
                    self._reset()
                    return
                body = self.rfile.read(length) if length else b""
                if fault == "throttled":
                    self._answer(429, [("Content-Type", "application/json"), ("Retry-After", "0")],
                                 b'{"message": "Too Many Requests (injected by the fault proxy)"}')
                    return
                if fault == "error_before":
                    self._answer(503, [("Content-Type", "text/html")], _GATEWAY_PAGE)
                    return
                try:
                    status, headers, content = proxy.forward(self.command, self.path, list(self.headers.items()),
                                                             body)
                except OSError:
                    self._answer(502, [("Content-Type", "text/html")], _GATEWAY_PAGE)
                    return
                if fault == "error_after":
                    if proxy._coin():
                        self._reset()
                    else:
                        self._answer(502, [("Content-Type", "text/html")], _GATEWAY_PAGE)
                    return
                if fault == "late":
                    time.sleep(proxy.late_s)
                    self._answer(status, headers, content)
                    self.close_connection = True
                    return
                self._answer(status, headers, content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler

    def _coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client closing its kept-alive connection (or one the proxy reset) is business as usual here."""


@contextlib.contextmanager
def running_proxy(proxy: FaultProxy) -> Iterator[str]:
    """Serve the proxy on a free loopback port in a thread; yields its base URL."""
    server = _QuietServer(("127.0.0.1", 0), proxy.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
