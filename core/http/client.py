"""One HTTP client for every connector: timeouts, rate limits, retries, error classification, masking.

Connectors subclass nothing here; they pass small callables for what differs per vendor (how to read a
fault, which headers carry rate limits). `transport` makes it testable with `httpx.MockTransport`.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

import httpx

from ..errors import PermanentError, RemoteError, ThrottledError, TransientError
from ..secrets import mask
from .ratelimit import Limit, RateLimiter
from .shared import account_limiter
from .retry import RetryPolicy, default_classify, parse_retry_after
from .senders import Senders

__all__ = ["HttpClient", "PendingResponse", "describe_error"]

log = logging.getLogger("ledgerlink.http")

#: failures before the request left: nothing can have been committed
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_ERRORS: dict[str, type[RemoteError]] = {
    "transient": TransientError, "throttled": ThrottledError, "permanent": PermanentError,
}


def describe_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) from a JSON error body of the common shapes, else the body's first 300 chars."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return (str(first.get("code")) if first.get("code") is not None else None,
                    "; ".join(str(e.get("message") or e.get("details") or e) for e in errors))
        for key in ("title", "message", "error_description", "error"):
            if isinstance(body.get(key), str):
                return None, body[key]
    return None, str(body)[:300]


def unreachable_reason(exc: Exception) -> str:
    """What a failed connection means, in words: refused, a host name that does not resolve, a timeout."""
    text = str(exc)
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "nodename nor servname" in low or "getaddrinfo" in low \
            or "name resolution" in low:
        return "the host name does not resolve"
    if isinstance(exc, httpx.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for an answer"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection closed before a full answer ({text})" if text else "the connection closed early"
    return text or "the connection failed"


def _request_url(exc: Exception, base_url: httpx.URL, url: str) -> str:
    """The URL a failed request went to (the request, when httpx attached it; else base URL + path)."""
    try:
        return str(exc.request.url)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return str(base_url.join(url)) if url else str(base_url)


class HttpClient:
    """A rate-limited, retrying HTTP client for one account on one remote system.

    `rate_key` names the account (seller+region, realm, store) so buckets are per account and operation.
    """

    def __init__(
        self,
        base_url: str,
        *,
        rate_key: str = "",
        limits: dict[str, Limit] | None = None,
        default_limit: Limit | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 30.0,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        classify: Callable[[httpx.Response], str] = default_classify,
        describe: Callable[[httpx.Response], tuple[str | None, str]] = describe_error,
        rate_limit_from: Callable[[httpx.Response], Limit | None] | None = None,
        retry_after_from: Callable[[httpx.Response], float | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_in_flight: int | None = None,
    ):
        self.rate_key = rate_key
        #: the remote's limit of requests at once per account, kept with other processes by an AccountLimiter
        self.max_in_flight = max_in_flight
        self.limiter = RateLimiter(limits, default_limit, clock=clock, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self._classify, self._describe = classify, describe
        self._rate_limit_from = rate_limit_from
        self._retry_after_from = retry_after_from or (lambda r: parse_retry_after(r.headers))
        self._sleep = sleep
        self._client = httpx.Client(base_url=base_url, timeout=timeout, headers=headers, auth=auth,
                                    transport=transport)
        self._stats: dict[str, float] = {"requests": 0, "retries": 0, "throttled": 0, "waited_s": 0.0}
        #: QBO posting sends batches from several threads through one client: a count must not be lost
        self._stats_lock = threading.Lock()
        #: the threads `request_soon` sends on, started on first use and kept (`senders.py`)
        self._senders: Senders | None = None

    @property
    def stats(self) -> dict[str, float]:
        """A copy of the counters: requests sent, retries, throttled answers, seconds waited between tries."""
        with self._stats_lock:
            return dict(self._stats)

    def _count(self, name: str, amount: float = 1) -> None:
        with self._stats_lock:
            self._stats[name] += amount

    def close(self) -> None:
        senders, self._senders = self._senders, None
        if senders is not None:
            senders.close()
        self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, url: str, *, operation: str, bucket: str | None = None,
                after_answer: Callable[[RemoteError, int], dict[str, Any] | None] | None = None,
                **kwargs: Any) -> httpx.Response:
        """Send one logical request, retrying transient failures and throttling; raise a typed error otherwise.

        `operation` names the call in errors and picks its rate limit; `bucket` makes several operations
        share one limit (QuickBooks Online limits a whole company, not each call).

        Two kinds of failure differ for a write that carries an idempotency key. A *lost* answer (timeout,
        connection reset: the remote may have committed) is always retried as it was sent, so the remote's
        replay of that key answers it. An *answered* error (a 5xx or 429 the remote sent back) is, at a remote
        that replays a key's first answer, answered the same way forever: `after_answer(error, attempt)` then
        gives the keyword arguments for the retry (e.g. a new request id), or None to raise at once and let the
        caller find out what was committed before it sends again. Without it, every retry is sent as is."""
        limit_name = bucket or operation
        key = f"{self.rate_key}/{limit_name}"
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            waited += self.limiter.acquire(key, limit_name)
            self._count("requests")
            answered = False
            shared, plan = account_limiter(), self.limiter.limit_for(limit_name)
            done = shared.acquire(self.rate_key, key, plan, self.max_in_flight) if shared and plan else None
            try:
                try:
                    response = self._client.request(method, url, **kwargs)
                finally:
                    if done is not None:
                        done()
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                where = mask(_request_url(exc, self._client.base_url, url))
                error: RemoteError = TransientError(
                    f"{operation}: could not reach {where}: {unreachable_reason(exc)} ({type(exc).__name__})",
                    operation=operation, remote_message=mask(str(exc)),
                    hint="check that the service runs and that the pipeline's URL for it (endpoint / base_url) is "
                         "right; a sandbox starts with `ledgerlink sandbox NAME`")
                # a refused or timed-out connect never sent the request: even a write that is not idempotent
                # can go again (`sent` False); any other lost answer may have been committed
                error.sent = not isinstance(exc, _NOT_SENT)  # type: ignore[attr-defined]
            except RemoteError as exc:
                # Raised by an auth flow (e.g. the token endpoint answered 503): retried like any other.
                error = exc
            else:
                answered = True
                if self._rate_limit_from is not None:
                    limit = self._rate_limit_from(response)
                    if limit is not None:
                        self.limiter.update(key, limit_name, limit)
                kind = self._classify(response)
                log.debug("%s %s -> %s (%s)", method, mask(str(response.request.url)), response.status_code, kind)
                if kind == "ok":
                    return response
                code, text = self._describe(response)
                error = _ERRORS[kind](
                    f"{operation}: HTTP {response.status_code}" + (f" [{code}]" if code else "") + f": {mask(text)}",
                    status=response.status_code, code=code, remote_message=mask(text), operation=operation,
                    retry_after=self._retry_after_from(response))
                if kind == "throttled":
                    self._count("throttled")
                    self.limiter.throttled(key, limit_name)
            if isinstance(error, PermanentError) or attempt >= self.retry.max_attempts:
                raise error
            if after_answer is not None and answered:
                changed = after_answer(error, attempt)
                if changed is None:
                    raise error
                kwargs = {**kwargs, **changed}
            delay = self.retry.delay(attempt, error.retry_after)
            if waited + delay > self.retry.max_total_wait:
                raise error
            log.info("%s: %s; retry %d in %.2fs", operation, error.kind, attempt, delay)
            self._count("retries")
            self._sleep(delay)
            waited += delay
            self._count("waited_s", delay)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Wait as between two tries of one request (for a caller that retries on its own, after a look-up)."""
        delay = self.retry.delay(attempt, retry_after)
        self._sleep(delay)
        self._count("waited_s", delay)
        return delay

    def request_soon(self, method: str, url: str, *, operation: str, **kwargs: Any) -> "PendingResponse":
        """`request` on a sender thread, returning at once: a reader works on the page in hand while the next
        one travels (the socket wait and the remote's time overlap with parsing and staging). `result()` gives
        the response or raises what `request` would have, at the point the caller asks for it. The caller asks
        for the result before sending another (one pending request per reader; readers sharing a client each
        get a sender, up to four)."""
        senders = self._senders
        if senders is None:
            with self._stats_lock:
                if self._senders is None:
                    self._senders = Senders()
                senders = self._senders
        context = contextvars.copy_context()  # the caller's log context (pipeline, stream) on the sender
        return PendingResponse(senders.submit(
            lambda: context.run(self.request, method, url, operation=operation, **kwargs)))

    def get(self, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, operation=operation, **kwargs)

    def post(self, url: str, *, operation: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, operation=operation, **kwargs)


class PendingResponse:
    """A request sent on a sender thread; `result()` waits for it."""

    __slots__ = ("_future",)

    def __init__(self, future: Future[httpx.Response]):
        self._future = future

    def result(self) -> httpx.Response:
        """The response, or the error `request` raised (re-raised here, in the caller's thread)."""
        return self._future.result()
