"""The versioned JSON API, `/api/v1/...`: one route per thing the CLI can do, each naming the least role it needs.
Handlers authenticate, check the role and (for cookie sessions) the CSRF token, read and check their input, then
run the operation on a worker thread (the state file is DuckDB: blocking calls). Unsafe calls are audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import jsonutil
from ..errors import LedgerlinkError
from . import operations as ops
from .accounts import ROLES
from .auth import UNSAFE, Principal, authenticate, check_csrf, require
from .errors import ApiError, error_response, field, int_param, read_json, str_param
from .login import login, logout, whoami
from .review_params import has_filter, review_filter

__all__ = ["api_routes", "Call", "endpoint"]

log = logging.getLogger("ledgerlink.console")


@dataclass
class Call:
    """One API call as a handler sees it."""

    workspace: Any
    request: Request
    principal: Principal
    body: dict[str, Any]

    def service(self) -> Any:
        return self.workspace.service(self.request.path_params["pipeline"])

    def audit(self, action: str, *, target: str | None = None, detail: Any = None) -> None:
        self.workspace.audit.record(self.principal.actor, action, pipeline=self.request.path_params.get("pipeline"),
                                    target=target, detail=detail)


def endpoint(role: str, status: int = 200) -> Callable[[Callable[[Call], Any]], Callable[[Request], Any]]:
    """An async Starlette endpoint around `handler(call) -> JSON-able`: who, may they, is the input sound."""

    def wrap(handler: Callable[[Call], Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            workspace = request.app.state.workspace
            try:
                principal = await run_in_threadpool(authenticate, workspace, request)
                require(principal, role)
                body = await read_json(request) if request.method in UNSAFE else {}
                check_csrf(principal, request, body)
                result = await run_in_threadpool(handler, Call(workspace, request, principal, body))
            except (ApiError, LedgerlinkError) as exc:
                return error_response(exc)
            except Exception as exc:  # a bug: logged with its traceback, answered without one
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(exc)
            return Response(jsonutil.dumps(result), status_code=status, media_type="application/json")

        run.__name__ = handler.__name__
        return run

    return wrap


def _ids(call: Call) -> tuple[list[int] | None, bool]:
    every = field(call.body, "all", bool, required=False, default=False)
    ids = field(call.body, "ids", list, required=not every, default=None)
    if ids is not None:
        if not ids or len(ids) > 10000 or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ApiError(400, "must be a list of 1 to 10000 dead letter ids (whole numbers)", where="body.ids",
                           hint='e.g. {"ids": [3, 4]}, or {"all": true} for every open one')
    return ids, every


def _keys(call: Call) -> tuple[list[str], bool]:
    every = field(call.body, "all", bool, required=False, default=False)
    keys = field(call.body, "keys", list, required=not every, default=[])
    if not every and (not keys or len(keys) > 10000 or not all(isinstance(k, str) and k for k in keys)):
        raise ApiError(400, "must be a list of 1 to 10000 document keys", where="body.keys",
                       hint='e.g. {"keys": ["Receipt:…"]}, or {"all": true} for every held revision')
    return keys, every


def _revision_filters(call: Call) -> dict[str, Any]:
    """With {"all": true}: "types" (document types), "from" and "to" (document dates) narrow what is taken."""
    types = field(call.body, "types", list, required=False, default=[])
    if not all(isinstance(t, str) for t in types):
        raise ApiError(400, "must be a list of document types, e.g. [\"SalesReceipt\"]", where="body.types")
    return ops.revision_filters(types, field(call.body, "from", str, required=False),
                                field(call.body, "to", str, required=False), "body")


# -- pipelines, runs ---------------------------------------------------------------------------------------------

@endpoint("viewer")
def list_pipelines(call: Call) -> Any:
    return [ops.summary(s) for s in call.workspace.services.values()]


@endpoint("viewer")
def show_pipeline(call: Call) -> Any:
    return ops.summary(call.service(), detail=True)


@endpoint("viewer")
def pipeline_status(call: Call) -> Any:
    return {"pipeline": call.service().pipeline.name, "lines": ops.plugin_status(call.service())}


@endpoint("viewer")
def list_runs(call: Call) -> Any:
    return ops.runs(call.service(), int_param(call.request, "limit", 20))


@endpoint("bookkeeper", status=202)
def run_now(call: Call) -> Any:
    service = call.service()
    call.audit("sync requested")
    return ops.run_now(service, f"requested by {call.principal.actor}")


# -- dead letters --------------------------------------------------------------------------------------------------

@endpoint("viewer")
def list_dead_letters(call: Call) -> Any:
    status = str_param(call.request, "status", choices=ops.DEAD_LETTER_STATUSES, default="open")
    return ops.dead_letters(call.service(), status, str_param(call.request, "stage"))


def _letter_id(call: Call) -> int:
    raw = call.request.path_params["letter_id"]
    if not raw.isdigit():
        raise ApiError(400, f"{raw!r} is not a dead letter id (a whole number)", where="id")
    return int(raw)


@endpoint("viewer")
def explain_dead_letter(call: Call) -> Any:
    return ops.dead_letter(call.service(), _letter_id(call))


@endpoint("bookkeeper")
def retry_dead_letters(call: Call) -> Any:
    ids, every = _ids(call)
    done = ops.retry(call.service(), ids, every)
    call.audit("dead letters retried", target=",".join(str(d["id"]) for d in done), detail=done)
    return done


@endpoint("bookkeeper")
def discard_dead_letters(call: Call) -> Any:
    ids, every = _ids(call)
    done = ops.discard(call.service(), ids, every)
    call.audit("dead letters discarded", target=",".join(str(d["id"]) for d in done), detail=done)
    return done


# -- revisions, settlements, reconcile, trace ----------------------------------------------------------------------

@endpoint("viewer")
def list_revisions(call: Call) -> Any:
    return ops.revisions(call.service())


@endpoint("bookkeeper")
def apply_revisions(call: Call) -> Any:
    keys, every = _keys(call)
    done = ops.apply_revisions(call.service(), keys, every, _revision_filters(call))
    call.audit("revisions applied", target=",".join(d["key"] for d in done), detail=done)
    return done


@endpoint("bookkeeper")
def discard_revisions(call: Call) -> Any:
    keys, every = _keys(call)
    done = ops.discard_revisions(call.service(), keys, every, _revision_filters(call))
    call.audit("revisions discarded", target=",".join(d["key"] for d in done), detail=done)
    return done


@endpoint("viewer")
def list_settlements(call: Call) -> Any:
    return ops.settlements(call.service())


@endpoint("viewer")
def show_settlement(call: Call) -> Any:
    return ops.settlement(call.service(), call.request.path_params["settlement_id"])


@endpoint("viewer")
def last_reconcile(call: Call) -> Any:
    service = call.service()
    if service.last_reconcile is None:
        raise ApiError(404, f"{service.pipeline.name} has not been reconciled since serve started",
                       hint=f"POST /api/v1/pipelines/{service.pipeline.name}/reconcile runs the checks")
    return service.last_reconcile


@endpoint("bookkeeper")
def run_reconcile(call: Call) -> Any:
    offline = field(call.body, "offline", bool, required=False, default=False)
    checks = field(call.body, "checks", list, required=False, default=[])
    if not all(isinstance(c, str) for c in checks):
        raise ApiError(400, "must be a list of check names", where="body.checks")
    report = ops.reconcile(call.service(), offline, checks)
    call.audit("reconciled", detail={"ok": report["ok"], "findings": len(report["findings"]), "offline": offline})
    return report


@endpoint("viewer")
def trace(call: Call) -> Any:
    return ops.trace(call.service(), str_param(call.request, "stream", required=True),
                     str_param(call.request, "key", required=True))


# -- the review queue -----------------------------------------------------------------------------------------------

@endpoint("viewer")
def list_review(call: Call) -> Any:
    params = call.request.query_params
    where = review_filter(params, where="query parameter ", status=params.get("status") or "awaiting")
    return ops.review_queue(call.service(), where, int_param(call.request, "limit", 100, high=10000),
                            int_param(call.request, "offset", 0, low=0, high=10_000_000))


@endpoint("viewer")
def show_review_document(call: Call) -> Any:
    return ops.review_document(call.service(), call.request.path_params["key"])


def _review_selection(call: Call) -> tuple[list[str] | None, Any]:
    """Which documents a decision is about: `keys`, or a filter (body fields), or `all`; exactly one of them."""
    every = field(call.body, "all", bool, required=False, default=False)
    keys = field(call.body, "keys", list, required=False, default=None)
    filtered = has_filter(call.body)
    if sum((keys is not None, bool(every), filtered)) != 1:
        raise ApiError(400, "say which documents: keys, a filter (kind, customer, date_from…) or all, and only one",
                       where="body", hint='e.g. {"keys": ["SalesReceipt:…"]}, {"kind": "Invoice"} or {"all": true}')
    if keys is not None:
        if not keys or len(keys) > 10000 or not all(isinstance(k, str) and k.strip() for k in keys):
            raise ApiError(400, "must be a list of 1 to 10000 document keys (or order ids)", where="body.keys")
        return keys, None
    return None, review_filter(call.body, where="body.")


def _decide(call: Call, decision: str) -> Any:
    keys, where = _review_selection(call)
    reason = field(call.body, "reason", str, required=False, default=None) if decision == "reject" else None
    by = call.principal.actor
    if call.principal.via == "local":  # this machine's CLI says which login decided (`--by`)
        by = field(call.body, "by", str, required=False, default=by)
    done = ops.review_decide(call.service(), decision, by, keys=keys, where=where, reason=reason)
    call.audit(f"documents {done['decision']}", target=",".join(done["keys"]),
               detail={"keys": done["keys"], "skipped": done["skipped"], "reason": reason})
    return done


@endpoint("bookkeeper")
def approve_review(call: Call) -> Any:
    return _decide(call, "approve")


@endpoint("bookkeeper")
def reject_review(call: Call) -> Any:
    return _decide(call, "reject")


# -- audit, users, tokens (admin) -----------------------------------------------------------------------------------

@endpoint("admin")
def read_audit(call: Call) -> Any:
    return call.workspace.audit.list(limit=int_param(call.request, "limit", 100, high=10000),
                                     pipeline=str_param(call.request, "pipeline"),
                                     actor=str_param(call.request, "actor"))


@endpoint("admin")
def list_users(call: Call) -> Any:
    return [u.to_dict() for u in call.workspace.accounts.list()]


@endpoint("admin", status=201)
def add_user(call: Call) -> Any:
    name, password = field(call.body, "name", str), field(call.body, "password", str)
    role = field(call.body, "role", str)
    if role not in ROLES:
        raise ApiError(400, f"no role named {role!r}", where="body.role", hint=f"roles: {', '.join(ROLES)}")
    user = call.workspace.accounts.add(name, role, password)
    call.audit("user added", target=name, detail={"role": role})
    return user.to_dict()


@endpoint("admin")
def remove_user(call: Call) -> Any:
    name = call.request.path_params["user"]
    call.workspace.accounts.remove(name)
    call.audit("user removed", target=name)
    return {"removed": name}


@endpoint("admin")
def list_tokens(call: Call) -> Any:
    return [t.to_dict() for t in call.workspace.tokens.list()]


@endpoint("admin", status=201)
def create_token(call: Call) -> Any:
    name, role = field(call.body, "name", str), field(call.body, "role", str)
    if role not in ROLES:
        raise ApiError(400, f"no role named {role!r}", where="body.role", hint=f"roles: {', '.join(ROLES)}")
    token, secret = call.workspace.tokens.create(name, role)
    call.audit("token created", target=f"{token.id} ({name})", detail={"role": role})
    return {**token.to_dict(), "token": secret, "note": "shown once: store it now"}


@endpoint("admin")
def revoke_token(call: Call) -> Any:
    token = call.workspace.tokens.revoke(call.request.path_params["token"])
    call.audit("token revoked", target=f"{token.id} ({token.name})")
    return {"revoked": token.id}


@endpoint("viewer")
def session_info(call: Call) -> Any:
    return whoami(call.principal)


@endpoint("viewer")
def sign_out(call: Call) -> Any:
    return logout(call)


def _connect_api() -> list[Route]:
    from .api_connect import connect_api_routes  # imported late: it builds on this module's endpoint()
    return connect_api_routes()


def api_routes() -> list[Route]:
    from .api_alerts import alerts_api_routes as _alerts_api_routes  # (that module builds on this one)

    p = "/pipelines/{pipeline}"
    return [
        Route("/session", login, methods=["POST"]),
        Route("/session", session_info, methods=["GET"]),
        Route("/session", sign_out, methods=["DELETE"]),
        Route("/pipelines", list_pipelines, methods=["GET"]),
        Route(p, show_pipeline, methods=["GET"]),
        Route(f"{p}/status", pipeline_status, methods=["GET"]),
        Route(f"{p}/runs", list_runs, methods=["GET"]),
        Route(f"{p}/runs", run_now, methods=["POST"]),
        Route(f"{p}/dead-letters", list_dead_letters, methods=["GET"]),
        Route(f"{p}/dead-letters/retry", retry_dead_letters, methods=["POST"]),
        Route(f"{p}/dead-letters/discard", discard_dead_letters, methods=["POST"]),
        Route(f"{p}/dead-letters/{{letter_id}}", explain_dead_letter, methods=["GET"]),
        Route(f"{p}/revisions", list_revisions, methods=["GET"]),
        Route(f"{p}/revisions/apply", apply_revisions, methods=["POST"]),
        Route(f"{p}/revisions/discard", discard_revisions, methods=["POST"]),
        Route(f"{p}/settlements", list_settlements, methods=["GET"]),
        Route(f"{p}/settlements/{{settlement_id}}", show_settlement, methods=["GET"]),
        Route(f"{p}/reconcile", last_reconcile, methods=["GET"]),
        Route(f"{p}/reconcile", run_reconcile, methods=["POST"]),
        Route(f"{p}/trace", trace, methods=["GET"]),
        Route(f"{p}/review", list_review, methods=["GET"]),
        Route(f"{p}/review/approve", approve_review, methods=["POST"]),
        Route(f"{p}/review/reject", reject_review, methods=["POST"]),
        Route(f"{p}/review/{{key:path}}", show_review_document, methods=["GET"]),
        Route("/audit", read_audit, methods=["GET"]),
        Route("/users", list_users, methods=["GET"]),
        Route("/users", add_user, methods=["POST"]),
        Route("/users/{user}", remove_user, methods=["DELETE"]),
        Route("/tokens", list_tokens, methods=["GET"]),
        Route("/tokens", create_token, methods=["POST"]),
        Route("/tokens/{token}", revoke_token, methods=["DELETE"]),
        *__import__("ledgerlink.console.api_anomalies", fromlist=["_"]).anomalies_api_routes(),  # anomalies
        *_connect_api(),
        *_alerts_api_routes(),
        *__import__("ledgerlink.console.api_designer", fromlist=["_"]).designer_api_routes(),
        *__import__("ledgerlink.console.api_fleet", fromlist=["_"]).fleet_api_routes(),  # fleet (issue 21)
    ]
