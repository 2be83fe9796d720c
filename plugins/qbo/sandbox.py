"""`QuickBooksOnlineSandbox`: a local QuickBooks Online v3 (JSON) for the demo, tests and dry runs.

It speaks Intuit's API where ledgerlink touches it: the OAuth2 token endpoint, bearer auth, CompanyInfo,
Preferences, create/update/read of Customer, Item and SalesReceipt, the query language, `requestid`
idempotency, `minorversion`, and throttling (500 requests a minute and 10 at once per realm, answered with
Intuit's XML 3001 fault and HTTP 429). Controls outside Intuit's paths let tests inject faults, expire
tokens and count objects:

    POST /_sandbox/faults   {"path_contains": "salesreceipt", "status": 500, "count": 1, "code": null}
    DELETE /_sandbox/faults
    POST /_sandbox/tokens/expire
    GET  /_sandbox/stats
"""

from __future__ import annotations

import collections
import threading
import time
from urllib.parse import parse_qsl
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import Sandbox, SandboxOptions, json_dumps, json_loads

from .query import QueryParseError, QueryValidationError, parse_query
from .sandbox_auth import TokenError, TokenIssuer
from .sandbox_company import ENTITIES, Company, SandboxFault, now_text

__all__ = ["QuickBooksOnlineSandbox", "QboSandboxOptions"]

_MIN_MINOR_VERSION = 75


class QboSandboxOptions(SandboxOptions):
    realm_id: str = "9341455000000000"
    #: the credentials the example pipeline (amazon-to-qbo.yaml) uses by default
    client_id: str = "sandbox-qbo-client"
    client_secret: str = "sandbox-qbo-client-secret"
    refresh_token: str = "sandbox-qbo-refresh-token"
    home_currency: str = "USD"
    multicurrency: bool = False
    #: Intuit's per-realm limits; the window is 60 s divided by `time_scale`
    requests_per_minute: int = 500
    max_concurrent: int = 10
    access_token_ttl_s: int = 3600
    rotate_refresh_tokens: bool = True
    #: Intuit silently treats minorversion < 75 (or none) as 75; the sandbox refuses them instead, so a client
    #: cannot come to depend on a version Intuit no longer serves. False: behave exactly like Intuit.
    strict_minor_version: bool = True


@dataclass
class _InjectedFault:
    path_contains: str
    status: int
    count: int = 1
    code: str | None = None
    method: str | None = None
    message: str | None = None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_dumps(body), status_code=status, media_type="application/json", headers=headers)


def _throttle_xml(status: int) -> Response:
    """Intuit's throttle fault (see the captured too_many_requests_error.xml), with the status it came with."""
    text = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<IntuitResponse time="{now_text(ms=True)}" xmlns="http://schema.intuit.com/finance/v3">\n'
            '  <Fault type="SERVICE">\n    <Error code="3001">\n'
            f'      <Message>message=ThrottleExceeded; errorCode=003001; statusCode={status}</Message>\n'
            '      <Detail>The request limit was reached.  Try again later</Detail>\n'
            '    </Error>\n  </Fault>\n</IntuitResponse>\n')
    return Response(text, status_code=status, media_type="application/xml")


def _auth_fault(detail: str) -> Response:
    """Intuit answers a bad bearer token with a lower-case `fault` body and HTTP 401."""
    body = {"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                 "detail": detail, "code": "3200"}], "type": "AUTHENTICATION"},
            "time": now_text(ms=True)}
    return _json(body, 401, headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})


def _system_fault(detail: str, status: int = 500) -> Response:
    return _json(SandboxFault("10000", "An application error has occurred while processing your request",
                              f"System Failure Error: {detail}", status=status, fault_type="SystemFault").body(),
                 status)


class _Throttle:
    """Per realm: at most `per_window` requests in a sliding window, and `concurrent` in flight."""

    def __init__(self, per_window: int, window_s: float, concurrent: int):
        self.per_window, self.window_s, self.concurrent = per_window, window_s, concurrent
        self._stamps: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._in_flight: dict[str, int] = collections.defaultdict(int)
        self._lock = threading.Lock()

    def enter(self, realm: str) -> bool:
        now = time.monotonic()
        with self._lock:
            stamps = self._stamps[realm]
            while stamps and stamps[0] <= now - self.window_s:
                stamps.popleft()
            if len(stamps) >= self.per_window or self._in_flight[realm] >= self.concurrent:
                return False
            stamps.append(now)
            self._in_flight[realm] += 1
            return True

    def leave(self, realm: str) -> None:
        with self._lock:
            self._in_flight[realm] -= 1


class QuickBooksOnlineSandbox(Sandbox):
    """A QuickBooks Online company on loopback, seeded like Intuit's sample company."""

    name: ClassVar[str] = "qbo"
    default_port: ClassVar[int] = 8712
    description: ClassVar[str] = "QuickBooks Online Accounting API v3 (JSON), OAuth2 and throttling"
    options_model: ClassVar[type[SandboxOptions]] = QboSandboxOptions
    options: QboSandboxOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        o = self.options
        self.company = Company(o.realm_id, home_currency=o.home_currency.upper(), multicurrency=o.multicurrency)
        self.tokens = TokenIssuer(o.client_id, o.client_secret, o.refresh_token, o.access_token_ttl_s,
                                  o.rotate_refresh_tokens)
        self.throttle = _Throttle(o.requests_per_minute, 60.0 / max(o.time_scale, 1e-9), o.max_concurrent)
        self._faults: list[_InjectedFault] = []
        self._replies: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        self.stats: collections.Counter[str] = collections.Counter()

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/oauth2/v1/tokens/bearer", self._token, methods=["POST"]),
            Route("/v3/company/{realm}/{rest:path}", self._v3, methods=["GET", "POST"]),
            Route("/_sandbox/faults", self._control_faults, methods=["POST", "DELETE"]),
            Route("/_sandbox/tokens/expire", self._control_expire, methods=["POST"]),
            Route("/_sandbox/stats", self._control_stats, methods=["GET"]),
        ])

    # ---------------------------------------------------------------------------------------- OAuth2

    async def _token(self, request: Request) -> Response:
        # parsed by hand: Starlette's form parser needs python-multipart, which ledgerlink does not depend on
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        try:
            body = self.tokens.refresh(request.headers.get("authorization"), form)
        except TokenError as exc:
            return _json(exc.body(), exc.status)
        self.stats["token_refreshes"] += 1
        return _json(body, headers={"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"})

    # ------------------------------------------------------------------------------------------- v3

    def _injected(self, request: Request) -> Response | None:
        path = request.url.path.lower()
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.path_contains.lower() in path and (
                        fault.method is None or fault.method.upper() == request.method):
                    fault.count -= 1
                    break
            else:
                return None
        self.stats["injected"] += 1
        if fault.status == 429 or fault.code == "3001":
            return _throttle_xml(fault.status)
        if fault.status == 401:
            return _auth_fault("Token expired (injected by the sandbox)")
        if fault.status >= 500:
            return _system_fault(fault.message or "injected by the sandbox", fault.status)
        return _json(SandboxFault(fault.code or "6000", fault.message or "A business validation error has occurred "
                                  "while processing your request", "Business Validation Error: injected by the "
                                  "sandbox", status=fault.status).body(), fault.status)

    async def _v3(self, request: Request) -> Response:
        self.stats["requests"] += 1
        injected = self._injected(request)
        if injected is not None:
            return injected
        if not self.tokens.bearer_ok(request.headers.get("authorization")):
            return _auth_fault("Token expired or invalid")
        realm = request.path_params["realm"]
        if realm != self.company.realm_id:
            return _json({"Fault": {"Error": [{
                "Message": "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                "Detail": f"This app is not connected to company {realm}", "code": "3100"}],
                "type": "SERVICE"}, "time": now_text(ms=True)}, 403)
        if not self.throttle.enter(realm):
            self.stats["throttled"] += 1
            return _throttle_xml(429)
        try:
            self._check_minor_version(request)
            body = await request.body()
            return self._dispatch(request, request.path_params["rest"].strip("/"), body)
        except SandboxFault as fault:
            return _json(fault.body(), fault.status)
        except QueryParseError as exc:
            return _json(SandboxFault("4000", "Error parsing query", str(exc)).body(), 400)
        except QueryValidationError as exc:
            return _json(SandboxFault("4001", "Invalid query", str(exc)).body(), 400)
        finally:
            self.throttle.leave(realm)

    def _check_minor_version(self, request: Request) -> None:
        if not self.options.strict_minor_version:
            return
        given = request.query_params.get("minorversion")
        if given is None or not given.isdigit() or int(given) < _MIN_MINOR_VERSION:
            raise SandboxFault("4001", "Invalid minorversion",
                               f"minorversion {given or '(none)'} is not supported: Intuit serves minor version "
                               f"{_MIN_MINOR_VERSION} and later only (older values are ignored by QuickBooks "
                               f"Online since 2025-08-01). Send minorversion={_MIN_MINOR_VERSION} or later.",
                               "minorversion")

    def _dispatch(self, request: Request, rest: str, body: bytes) -> Response:
        parts = rest.split("/")
        head = parts[0].lower()
        if request.method == "GET" and head == "companyinfo" and len(parts) == 2:
            if parts[1] != self.company.realm_id:
                raise SandboxFault("610", "Object Not Found", "Object Not Found : CompanyInfo")
            return _json({"CompanyInfo": self.company.company_info(), "time": now_text(ms=True)})
        if request.method == "GET" and head == "preferences" and len(parts) == 1:
            return _json({"Preferences": self.company.preferences(), "time": now_text(ms=True)})
        if head == "query" and len(parts) == 1:
            text = request.query_params.get("query") or body.decode("utf-8", errors="replace")
            return self._query(text)
        entity = ENTITIES.get(head)
        if entity is not None and request.method == "GET" and len(parts) == 2:
            return _json({entity: self.company.get(entity, parts[1]), "time": now_text(ms=True)})
        if entity is not None and request.method == "POST" and len(parts) == 1:
            return self._save(request, entity, body)
        return _json(SandboxFault("404", "Unsupported Operation",
                                  f"{request.method} /{rest} is not something this sandbox serves").body(), 404)

    def _query(self, text: str) -> Response:
        query = parse_query(text)
        if query.entity not in self.company.entities:
            raise QueryValidationError(f"QueryValidationError: Unsupported entity {query.entity}")
        rows, total = self.company.query(query)
        if query.count:
            return _json({"QueryResponse": {"totalCount": total}, "time": now_text(ms=True)})
        response: dict[str, Any] = {}
        if rows:  # QBO leaves out the entity and paging keys when nothing matched
            response = {query.entity: rows, "startPosition": query.start_position, "maxResults": len(rows)}
        return _json({"QueryResponse": response, "time": now_text(ms=True)})

    def _save(self, request: Request, entity: str, body: bytes) -> Response:
        """Create or update; a repeated requestid gets the first successful response back, unchanged."""
        if request.query_params.get("operation"):
            raise SandboxFault("500", "Unsupported Operation",
                               f"Operation {request.query_params['operation']} is not supported by the sandbox")
        rid = request.query_params.get("requestid")
        key = (self.company.realm_id, rid) if rid else None
        with self._lock:
            if key is not None and key in self._replies:
                self.stats["replayed"] += 1
                status, content = self._replies[key]
                return Response(content, status_code=status, media_type="application/json")
            try:
                payload = json_loads(body or b"{}")
            except ValueError:
                raise SandboxFault("2310", "Invalid Request Body", "Request body is not valid JSON") from None
            saved = self.company.save(entity, payload)
            content = json_dumps({entity: saved, "time": now_text(ms=True)}).encode()
            if key is not None:
                self._replies[key] = (200, content)
            self.stats[f"saved.{entity}"] += 1
        return Response(content, status_code=200, media_type="application/json")

    # -------------------------------------------------------------------------------------- controls

    async def _control_faults(self, request: Request) -> Response:
        with self._lock:
            if request.method == "DELETE":
                self._faults.clear()
                return _json({"faults": 0})
            spec = json_loads(await request.body() or b"{}")
            fault = _InjectedFault(path_contains=str(spec.get("path_contains", "")), status=int(spec["status"]),
                                   count=int(spec.get("count", 1)), code=spec.get("code"), method=spec.get("method"),
                                   message=spec.get("message"))
            self._faults.append(fault)
            return _json({"faults": len(self._faults)})

    async def _control_expire(self, request: Request) -> Response:
        return _json({"expired": self.tokens.expire_access_tokens()})

    async def _control_stats(self, request: Request) -> Response:
        return _json({"realm_id": self.company.realm_id, "objects": self.company.counts(),
                      "counters": dict(self.stats), "token_refreshes": self.tokens.refreshes})
