"""`request_soon` sends on kept daemon threads: one thread serves a reader page after page, two readers at once
get two, an error reaches whoever asks for the result, a closed or forgotten client's threads end, and a request
still travelling does not hold up the process's exit."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import threading

import httpx
import pytest

from ledgerlink import HttpClient
from ledgerlink.errors import PermanentError
from ledgerlink.http.senders import Senders
from sandbox_helpers import wait_for


def _senders_alive(name: str = "ledgerlink-http") -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


def test_one_kept_thread_sends_page_after_page_and_errors_reach_the_caller():
    threads: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        threads.append(threading.get_ident())
        if request.url.path == "/bad":
            return httpx.Response(403, json={"errors": [{"code": "Unauthorized", "message": "denied"}]})
        return httpx.Response(200, json={"page": request.url.params["page"]})

    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(handle), sleep=lambda s: None)
    try:
        pages = [client.request_soon("GET", "/x", operation="list", params={"page": n}).result().json()["page"]
                 for n in range(5)]
        assert pages == ["0", "1", "2", "3", "4"]
        assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
        with pytest.raises(PermanentError, match="denied"):
            client.request_soon("GET", "/bad", operation="list").result()
    finally:
        client.close()


def test_two_waiting_requests_get_two_threads_and_closing_ends_them():
    release = threading.Event()
    senders = Senders(name="two-waiting")
    first = senders.submit(lambda: release.wait(10) and 1)
    second = senders.submit(lambda: 2)  # the first thread is busy: the second does not wait behind it
    assert second.result(timeout=10) == 2
    release.set()
    assert first.result(timeout=10) == 1
    assert len(_senders_alive("two-waiting")) == 2 and all(t.daemon for t in _senders_alive("two-waiting"))
    senders.close()
    assert wait_for(lambda: not _senders_alive("two-waiting"))


def test_a_forgotten_clients_threads_end():
    before = len(_senders_alive())
    client = HttpClient("https://api.example.com", transport=httpx.MockTransport(lambda r: httpx.Response(200)),
                        sleep=lambda s: None)
    client.request_soon("GET", "/x", operation="list").result()
    assert len(_senders_alive()) >= 1
    assert client._senders is not None
    pool = client._senders._pool  # what the threads share; the client and its Senders go
    del client
    gc.collect()
    assert wait_for(lambda: pool.threads == 0)


def test_a_request_still_travelling_does_not_hold_up_the_exit(tmp_path):
    """The server accepts and never answers; the request's own timeout is a minute. The process still ends as
    soon as its main code does."""
    script = tmp_path / "exit.py"
    script.write_text(textwrap.dedent("""
        import socket, sys
        from ledgerlink import HttpClient
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = HttpClient(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=60.0)
        client.request_soon("GET", "/slow", operation="list")
        print("sent", flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == "sent", done.stderr
