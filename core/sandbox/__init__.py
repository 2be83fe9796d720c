"""Sandboxes: local servers that speak a remote system's real API, for the demo, tests and dry runs.

A plugin subclasses `Sandbox`, builds an ASGI app (Starlette) in `app()`, and registers the class with
`register_sandboxes`. `serve` runs it in the foreground; `running` runs it on a background thread for tests
and `ledgerlink demo`, on a real loopback socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any, ClassVar, Iterator

from pydantic import BaseModel

__all__ = ["Sandbox", "SandboxOptions", "serve", "running", "running_app", "free_port"]


class SandboxOptions(BaseModel):
    """Options every sandbox accepts; subclasses add their own (seed size, time scale…)."""

    seed: int = 7
    #: divide every vendor wait (throttle windows, report processing) by this, so tests run fast
    time_scale: float = 1.0


class Sandbox:
    name: ClassVar[str]
    #: the documented default address's port (host is 127.0.0.1)
    default_port: ClassVar[int]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[SandboxOptions]] = SandboxOptions

    def __init__(self, **options: Any):
        self.options = self.options_model(**options)

    def app(self) -> Any:
        """Return the ASGI application."""
        raise NotImplementedError

    @classmethod
    def default_url(cls) -> str:
        return f"http://127.0.0.1:{cls.default_port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(sandbox: Sandbox, host: str, port: int, log_level: str = "warning"):
    import uvicorn

    config = uvicorn.Config(sandbox.app(), host=host, port=port, log_level=log_level, access_log=False,
                            lifespan="off", timeout_keep_alive=30)
    return uvicorn.Server(config)


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None, log_level: str = "info") -> None:
    """Serve in the foreground until interrupted."""
    _server(sandbox, host, port or sandbox.default_port, log_level).run()


@contextlib.contextmanager
def running(sandbox: Sandbox, port: int | None = 0, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve on a background thread; yields the base URL. `port=0` picks a free port."""
    chosen = port if port else free_port()
    server = _server(sandbox, host, chosen)
    thread = threading.Thread(target=server.run, name=f"sandbox-{sandbox.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"sandbox {sandbox.name} could not start on {host}:{chosen} (port in use?)")
        if time.monotonic() > deadline:
            raise RuntimeError(f"sandbox {sandbox.name} did not start within 10s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class _App:
    name = "app"

    def __init__(self, app: Any):
        self._app = app

    def app(self) -> Any:
        return self._app


def running_app(app: Any, port: int | None = 0, host: str = "127.0.0.1") -> contextlib.AbstractContextManager[str]:
    """Serve any ASGI app (e.g. `ledgerlink serve`'s) on a loopback port in a thread; yields the base URL."""
    return running(_App(app), port, host)  # type: ignore[arg-type]
