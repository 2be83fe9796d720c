"""`QuickBooksOnlineSandbox`: a local QuickBooks Online v3 (JSON) for the demo, tests and dry runs.

It speaks Intuit's API where ledgerlink touches it: the OAuth2 token endpoint, bearer auth, CompanyInfo,
Preferences, create/update/read of Customer, Item, Account, SalesReceipt, Invoice, Payment, CreditMemo,
RefundReceipt, JournalEntry, Deposit and InventoryAdjustment (delete of transactions; void of invoices,
sales receipts and payments, and `exchangerate` for multicurrency companies: order_to_cash.py), read/query of Class,
Department, TaxCode, PaymentMethod, Vendor and Employee, the query language, `/batch` (30 items),
`/cdc` (30 days back, 1000 objects), `requestid` idempotency (single calls and whole batches; like Intuit, a
repeated requestid gets its first answer back, an error included),
`minorversion`, a non-US company (`country`) with real tax codes QuickBooks computes tax from, and throttling (500 requests a minute, 40 batch requests a minute and 10 at once per realm,
answered with Intuit's XML 3001 fault and HTTP 429). Controls outside Intuit's paths let tests inject faults,
expire tokens and count objects:

    POST /_sandbox/faults   {"path_contains": "salesreceipt", "status": 500, "count": 1, "code": null,
                             "after_commit": false, "content": null, "hold": false}
                            # after_commit: do the work, then answer the fault; content: answer this body;
                            # hold: keep the request in flight until POST /_sandbox/release (no fault)
    POST /_sandbox/release
    DELETE /_sandbox/faults  # also releases held requests
    POST /_sandbox/tokens/expire
    POST /_sandbox/tokens/revoke   # the user disconnected the app in QuickBooks: every refresh token fails
    POST /_sandbox/codes/expire    # every authorization code not yet exchanged expires
    GET  /_sandbox/stats

The consent page (`GET /connect/oauth2`, consent.py) and the revoke endpoint (`POST /v2/oauth2/tokens/revoke`)
complete Intuit's authorization-code flow, so connecting a company runs end to end against the sandbox.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qsl
from dataclasses import dataclass
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import Sandbox, SandboxOptions, json_dumps, json_loads

from .query import QueryParseError, QueryValidationError, parse_query, project
from .auth import TokenError, TokenIssuer
from .consent import ConsentPage
from .company import ENTITIES, Company, Features, SandboxFault, now_text
from .faults import TZ

#: Intuit's limits: items in one batch request, requestid length (single call / batch), CDC look-back
BATCH_MAX_ITEMS = 30
REQUEST_ID_MAX = 50
BATCH_REQUEST_ID_MAX = 36
CDC_MAX_DAYS = 30

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
    #: CompanyInfo.Country: outside the US the company has real tax codes with rates (order_to_cash.py)
    country: str = "US"
    #: Intuit's per-realm limits; the window is 60 s divided by `time_scale`
    requests_per_minute: int = 500
    batch_requests_per_minute: int = 40
    max_concurrent: int = 10
    #: company settings (Preferences): what the destination must check before posting
    inventory_tracking: bool = True
    class_tracking: bool = False
    track_departments: bool = False
    custom_txn_numbers: bool = True
    access_token_ttl_s: int = 3600
    rotate_refresh_tokens: bool = True
    #: seconds an authorization code from the consent page may wait for its exchange
    authorization_code_ttl_s: float = 300.0
    #: the redirect URIs the app registered (None: any http(s) URI)
    redirect_uris: list[str] | None = None
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
    #: do the work first, then answer the fault (a response lost after the server committed)
    after_commit: bool = False
    #: answer this body verbatim (e.g. a proxy's HTML page) with `status`
    content: str | None = None
    #: no fault: keep the request in flight (holding one of the realm's concurrent slots) until
    #: `POST /_sandbox/release`, then answer it normally
    hold: bool = False


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


def _service_answer(fault: _InjectedFault) -> bool:
    """An injected fault the QuickBooks service itself would answer (a SystemFault, a validation fault), as
    opposed to one from in front of it (the gateway's 429 throttle, a 401, a proxy's page): only the service's
    own answers are kept for a requestid and replayed."""
    return not (fault.status in (401, 429) or fault.code == "3001" or fault.content is not None)


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
        #: the most requests a realm had in its window and in flight at once (a fleet test's proof of its limits)
        self.peak_in_window: dict[str, int] = collections.defaultdict(int)
        self.peak_in_flight: dict[str, int] = collections.defaultdict(int)
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
            self.peak_in_window[realm] = max(self.peak_in_window[realm], len(stamps))
            self.peak_in_flight[realm] = max(self.peak_in_flight[realm], self._in_flight[realm])
            return True

    def leave(self, realm: str) -> None:
        with self._lock:
            self._in_flight[realm] -= 1

    def in_flight(self, realm: str) -> int:
        with self._lock:
            return self._in_flight[realm]


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
        self.company = Company(o.realm_id, home_currency=o.home_currency.upper(), multicurrency=o.multicurrency,
                               country=o.country.upper(),
                               features=Features(inventory_tracking=o.inventory_tracking,
                                                 class_tracking=o.class_tracking,
                                                 track_departments=o.track_departments,
                                                 custom_txn_numbers=o.custom_txn_numbers))
        self.tokens = TokenIssuer(o.client_id, o.client_secret, o.refresh_token, o.access_token_ttl_s,
                                  o.rotate_refresh_tokens, code_ttl_s=o.authorization_code_ttl_s)
        self.consent = ConsentPage(self.tokens, o.realm_id, "Sandbox Company_US_1", o.redirect_uris)
        window = 60.0 / max(o.time_scale, 1e-9)
        self.throttle = _Throttle(o.requests_per_minute, window, o.max_concurrent)
        self.batch_throttle = _Throttle(o.batch_requests_per_minute, window, 10**9)
        self._faults: list[_InjectedFault] = []
        self._released = threading.Event()
        self._replies: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.RLock()  # a batch holds it while its items take injected faults
        self.stats: collections.Counter[str] = collections.Counter()

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/oauth2/v1/tokens/bearer", self._token, methods=["POST"]),
            Route("/connect/oauth2", self.consent.show, methods=["GET"]),
            Route("/connect/oauth2", self.consent.decide, methods=["POST"]),
            Route("/v2/oauth2/tokens/revoke", self._revoke, methods=["POST"]),
            Route("/_sandbox/tokens/revoke", self._control_revoke, methods=["POST"]),
            Route("/_sandbox/codes/expire", self._control_expire_codes, methods=["POST"]),
            Route("/v3/company/{realm}/{rest:path}", self._v3, methods=["GET", "POST"]),
            Route("/_sandbox/faults", self._control_faults, methods=["POST", "DELETE"]),
            Route("/_sandbox/release", self._control_release, methods=["POST"]),
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

    def _injected(self, request: Request) -> _InjectedFault | None:
        return self._take_fault(request.url.path, request.method)

    def _take_fault(self, path: str, method: str) -> _InjectedFault | None:
        """The first injected fault matching this path and method, used up by one (a batch item counts as a
        POST to its entity's own path, so a fault aimed at `salesreceipt` hits receipts inside batches too)."""
        path = path.lower()
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.path_contains.lower() in path and (
                        fault.method is None or fault.method.upper() == method):
                    fault.count -= 1
                    break
            else:
                return None
        self.stats["injected"] += 1
        return fault

    @staticmethod
    def _fault_response(fault: _InjectedFault) -> Response:
        if fault.content is not None:
            return Response(fault.content, status_code=fault.status, media_type="text/html")
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
        if injected is not None and not injected.after_commit and not injected.hold:
            response = self._fault_response(injected)
            if _service_answer(injected):  # the service's own error answer: Intuit keeps it for the requestid
                self._keep_reply(self._reply_key(request), response)
            return response
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
            if injected is not None and injected.hold:
                while not self._released.is_set():
                    await asyncio.sleep(0.005)
                injected = None
            self._check_minor_version(request)
            body = await request.body()
            response = self._dispatch(request, request.path_params["rest"].strip("/"), body)
            if injected is not None:  # committed; the client never hears of it
                self.stats["lost_responses"] += 1
                return self._fault_response(injected)
            return response
        except SandboxFault as fault:
            return _json(fault.body(), fault.status)
        except QueryParseError as exc:
            return _json(SandboxFault("4000", "Error parsing query", str(exc)).body(), 400)
        except QueryValidationError as exc:
            return _json(SandboxFault("4001", "Invalid query", str(exc)).body(), 400)
        finally:
            self.throttle.leave(realm)

    def _reply_key(self, request: Request) -> tuple[str, str] | None:
        """Where the answer to this request's `requestid` is kept: a create/update/void or a whole batch."""
        rid = request.query_params.get("requestid")
        if not rid or request.method != "POST":
            return None
        head = request.path_params.get("rest", "").strip("/").split("/")[0].lower()
        return (self.company.realm_id, ("batch:" if head == "batch" else "") + rid)

    def _keep_reply(self, key: tuple[str, str] | None, response: Response) -> None:
        """Remember the first answer to a requestid, error or not: Intuit answers a repeated requestid with
        the first response, so a client that retries an error under the same id gets the same error back."""
        if key is None:
            return
        with self._lock:
            self._replies.setdefault(key, (response.status_code, bytes(response.body)))

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
        if head == "batch" and len(parts) == 1 and request.method == "POST":
            return self._batch(request, body)
        if head == "cdc" and len(parts) == 1 and request.method == "GET":
            return self._cdc(request)
        if head == "exchangerate" and len(parts) == 1 and request.method == "GET":
            rate = self.company.exchange_rate(request.query_params.get("sourcecurrencycode") or "",
                                              request.query_params.get("asofdate") or now_text()[:10])
            return _json({"ExchangeRate": rate, "time": now_text(ms=True)})
        entity = ENTITIES.get(head)
        if entity is not None and request.method == "GET" and len(parts) == 2:
            return _json({entity: self.company.get(entity, parts[1]), "time": now_text(ms=True)})
        if entity is not None and request.method == "POST" and len(parts) == 1:
            return self._save(request, entity, body)
        return _json(SandboxFault("404", "Unsupported Operation",
                                  f"{request.method} /{rest} is not something this sandbox serves").body(), 404)

    def _query_response(self, text: str) -> dict[str, Any]:
        query = parse_query(text)
        # entity names are case-insensitive (`select * from item`); the answer uses QBO's own spelling
        query.entity = next((e for e in self.company.entities if e.lower() == query.entity.lower()), query.entity)
        if query.entity not in self.company.entities:
            raise QueryValidationError(f"QueryValidationError: Unsupported entity {query.entity}")
        rows, total = self.company.query(query)
        if query.count:
            return {"totalCount": total}
        if not rows:  # QBO leaves out the entity and paging keys when nothing matched
            return {}
        return {query.entity: [project(r, query) for r in rows], "startPosition": query.start_position,
                "maxResults": len(rows)}

    def _query(self, text: str) -> Response:
        return _json({"QueryResponse": self._query_response(text), "time": now_text(ms=True)})

    def _save(self, request: Request, entity: str, body: bytes) -> Response:
        """Create or update; a repeated requestid gets the first response back, unchanged (a refusal too)."""
        operation = request.query_params.get("operation")
        voiding = operation == "void" or request.query_params.get("include") == "void"
        if operation not in (None, "update", "delete", "void"):
            raise SandboxFault("500", "Unsupported Operation",
                               f"Operation {operation} is not supported by the sandbox")
        rid = request.query_params.get("requestid")
        if rid is not None and len(rid) > REQUEST_ID_MAX:
            raise SandboxFault("4001", "Invalid requestid",
                               f"requestid is longer than {REQUEST_ID_MAX} characters", "requestid")
        key = (self.company.realm_id, rid) if rid else None
        with self._lock:
            if key is not None and key in self._replies:
                self.stats["replayed"] += 1
                status, content = self._replies[key]
                return Response(content, status_code=status, media_type="application/json")
            try:
                try:
                    payload = json_loads(body or b"{}")
                except ValueError:
                    raise SandboxFault("2310", "Invalid Request Body", "Request body is not valid JSON") from None
                if operation == "delete":
                    saved = self.company.delete(entity, payload)
                elif voiding:
                    saved = self.company.void(entity, payload)
                else:
                    saved = self.company.save(entity, payload)
            except SandboxFault as fault:  # refused: the refusal is this requestid's answer from now on
                self._keep_reply(key, _json(fault.body(), fault.status))
                raise
            content = json_dumps({entity: saved, "time": now_text(ms=True)}).encode()
            if key is not None:
                self._replies[key] = (200, content)
            self.stats[f"saved.{entity}"] += 1
        return Response(content, status_code=200, media_type="application/json")

    def _batch(self, request: Request, body: bytes) -> Response:
        """Up to 30 operations in one call, run in order; each answered with its entity or its own Fault.
        A repeated `requestid` (≤ 36 characters here) gets the first answer back."""
        realm = self.company.realm_id
        if not self.batch_throttle.enter(realm):
            self.stats["throttled"] += 1
            return _throttle_xml(429)
        self.batch_throttle.leave(realm)
        rid = request.query_params.get("requestid")
        if rid is not None and len(rid) > BATCH_REQUEST_ID_MAX:
            raise SandboxFault("4001", "Invalid requestid",
                               f"a batch requestid is at most {BATCH_REQUEST_ID_MAX} characters", "requestid")
        try:
            payload = json_loads(body or b"{}")
        except ValueError:
            raise SandboxFault("2310", "Invalid Request Body", "Request body is not valid JSON") from None
        items = payload.get("BatchItemRequest") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                               "Required parameter BatchItemRequest is missing in the request", "BatchItemRequest")
        if len(items) > BATCH_MAX_ITEMS:
            raise SandboxFault("2050", "Length exceeds limit",
                               f"Batch request contains {len(items)} items; the maximum is {BATCH_MAX_ITEMS}",
                               "BatchItemRequest")
        bids = [str(item.get("bId") or "") for item in items if isinstance(item, dict)]
        if len(set(bids)) != len(items) or "" in bids:
            raise SandboxFault("2050", "Invalid bId", "every BatchItemRequest needs its own bId", "bId")
        key = (realm, "batch:" + rid) if rid else None
        with self._lock:
            if key is not None and key in self._replies:
                self.stats["replayed"] += 1
                status, content = self._replies[key]
                return Response(content, status_code=status, media_type="application/json")
            answers = [self._batch_item(item) for item in items]
            content = json_dumps({"BatchItemResponse": answers, "time": now_text(ms=True)}).encode()
            if key is not None:
                self._replies[key] = (200, content)
            self.stats["batches"] += 1
        return Response(content, status_code=200, media_type="application/json")

    def _batch_item(self, item: dict[str, Any]) -> dict[str, Any]:
        bid = item["bId"]
        try:
            if "Query" in item:
                return {"bId": bid, "QueryResponse": self._query_response(str(item["Query"]))}
            operation = item.get("operation", "create")
            entities = [k for k in item if k not in ("bId", "operation", "optionsData")]
            if len(entities) != 1 or entities[0] not in ENTITIES.values():
                raise SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                                   "Required parameter entity is missing in the request", "BatchItemRequest")
            entity = entities[0]
            payload = item[entity]
            injected = self._take_fault(f"/v3/company/{self.company.realm_id}/{entity.lower()}", "POST")
            if injected is not None and not injected.hold:  # a batch item cannot be held on its own
                return {"bId": bid, "Fault": self._item_fault(injected)}
            if operation == "delete":
                saved = self.company.delete(entity, payload)
            elif operation in ("create", "update"):
                if operation == "create" and isinstance(payload, dict) and payload.get("Id"):
                    raise SandboxFault("2020", "Required param missing", "Id is not allowed on create", "Id")
                if operation == "update" and not (isinstance(payload, dict) and payload.get("Id")):
                    raise SandboxFault("2020", "Required param missing, need to supply the required value for "
                                       "the API", "Required parameter Id is missing in the request", "Id")
                saved = self.company.save(entity, payload)
            else:
                raise SandboxFault("2170", "Invalid Enumeration", f"Invalid Enumeration : {operation}", "operation")
            self.stats[f"saved.{entity}"] += 1
            return {"bId": bid, entity: saved}
        except SandboxFault as fault:
            body = fault.body()["Fault"]
            return {"bId": bid, "Fault": body}
        except (QueryParseError, QueryValidationError) as exc:
            code, message = ("4000", "Error parsing query") if isinstance(exc, QueryParseError) else (
                "4001", "Invalid query")
            return {"bId": bid, "Fault": SandboxFault(code, message, str(exc)).body()["Fault"]}

    @staticmethod
    def _item_fault(fault: _InjectedFault) -> dict[str, Any]:
        """An injected fault as a batch item's answer: 3001, a SystemFault for 5xx, else a validation fault."""
        if fault.status == 429 or fault.code == "3001":
            error = SandboxFault("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                                 "The request limit was reached.  Try again later", fault_type="SERVICE")
        elif fault.status >= 500:
            error = SandboxFault("10000", "An application error has occurred while processing your request",
                                 f"System Failure Error: {fault.message or 'injected by the sandbox'}",
                                 fault_type="SystemFault")
        else:
            error = SandboxFault(fault.code or "6000", fault.message or "A business validation error has occurred "
                                 "while processing your request", "Business Validation Error: injected by the sandbox")
        return error.body()["Fault"]

    def _cdc(self, request: Request) -> Response:
        """Change data capture: what changed since `changedSince` (at most 30 days back), deletions flagged."""
        names = [n.strip() for n in (request.query_params.get("entities") or "").split(",") if n.strip()]
        if not names:
            raise SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                               "Required parameter entities is missing in the request", "entities")
        by_lower = {e.lower(): e for e in ENTITIES.values()}
        unknown = [n for n in names if n.lower() not in by_lower]
        if unknown:
            raise SandboxFault("4001", "Invalid query", f"CDC is not supported for {', '.join(unknown)}", "entities")
        text = request.query_params.get("changedSince") or ""
        try:
            since = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SandboxFault("2020", "Required param missing, need to supply the required value for the API",
                               f"changedSince {text!r} is not a date-time", "changedSince") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=TZ)
        if since < datetime.now(TZ) - timedelta(days=CDC_MAX_DAYS):
            raise SandboxFault("4001", "Invalid query",
                               f"changedSince must be within the last {CDC_MAX_DAYS} days", "changedSince")
        answers = []
        for entity, rows in self.company.changes([by_lower[n.lower()] for n in names], since):
            answers.append({entity: rows, "startPosition": 1, "maxResults": len(rows)} if rows else {})
        return _json({"CDCResponse": [{"QueryResponse": answers}], "time": now_text(ms=True)})

    # -------------------------------------------------------------------------------------- controls

    async def _control_faults(self, request: Request) -> Response:
        with self._lock:
            if request.method == "DELETE":
                self._faults.clear()
                self._released.set()
                return _json({"faults": 0})
            spec = json_loads(await request.body() or b"{}")
            fault = _InjectedFault(path_contains=str(spec.get("path_contains", "")),
                                   status=int(spec.get("status", 200)),
                                   count=int(spec.get("count", 1)), code=spec.get("code"), method=spec.get("method"),
                                   message=spec.get("message"), after_commit=bool(spec.get("after_commit", False)),
                                   content=spec.get("content"), hold=bool(spec.get("hold", False)))
            if fault.hold:
                self._released.clear()
            self._faults.append(fault)
            return _json({"faults": len(self._faults)})

    async def _control_release(self, request: Request) -> Response:
        self._released.set()
        return _json({"released": True})

    async def _revoke(self, request: Request) -> Response:
        """Intuit's revoke: a JSON (or form) body with `token`, client Basic auth; 200 with no body."""
        raw = (await request.body()).decode("utf-8", errors="replace")
        try:
            body = json_loads(raw) if raw.lstrip().startswith("{") else dict(parse_qsl(raw))
        except ValueError:
            body = {}
        try:
            self.tokens.revoke(request.headers.get("authorization"), str((body or {}).get("token") or ""))
        except TokenError as exc:
            return _json(exc.body(), exc.status)
        return Response(status_code=200)

    async def _control_revoke(self, request: Request) -> Response:
        return _json({"revoked": self.tokens.revoke_all()})

    async def _control_expire_codes(self, request: Request) -> Response:
        return _json({"expired": self.tokens.expire_codes()})

    async def _control_expire(self, request: Request) -> Response:
        return _json({"expired": self.tokens.expire_access_tokens()})

    async def _control_stats(self, request: Request) -> Response:
        return _json({"realm_id": self.company.realm_id, "objects": self.company.counts(),
                      "counters": dict(self.stats), "token_refreshes": self.tokens.refreshes,
                      "in_flight": self.throttle.in_flight(self.company.realm_id),
                      "peak_in_window": self.throttle.peak_in_window[self.company.realm_id],
                      "peak_in_flight": self.throttle.peak_in_flight[self.company.realm_id]})
