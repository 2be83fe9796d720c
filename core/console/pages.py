"""The web console's pages: server-rendered HTML over the same operations the JSON API runs (operations.py), for
the people who keep the books. Every page needs a signed-in user (else a redirect to the sign-in page); every
form carries the session's CSRF token; actions need the bookkeeper role and viewers get no action buttons.
Forms post back to the page routes (no JavaScript needed); htmx, shipped in static/, only swaps the result in."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import LedgerlinkError
from . import operations as ops
from .accounts import role_allows
from .auth import SESSION_COOKIE, Principal, authenticate, check_csrf, require
from .errors import ApiError, error_response, int_param, read_json
from .login import _attempt, _secure
from .review_params import review_filter

__all__ = ["page_routes", "runs_chart", "runs_page"]

log = logging.getLogger("ledgerlink.console")

HERE = Path(__file__).parent
SIGNIN_CSRF_COOKIE = "ledgerlink_signin_csrf"
#: longest value any console form field may carry (ids, keys, names); longer is a clear 400
MAX_FIELD = 512

_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def _when(value: Any) -> str:
    """A timestamp as people read it: to the second, no `T`, no microseconds."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc).isoformat()
    return str(value).replace("T", " ")[:19]


_env.filters["when"] = _when


def _render(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("path", request.url.path)
    html = _env.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=code)


def _error_page(request: Request, exc: Exception, principal: Principal | None = None) -> HTMLResponse:
    status = error_response(exc).status_code  # the API's own status for the same error (e.g. 422, 404)
    if not isinstance(exc, (ApiError, LedgerlinkError)):
        log.exception("%s %s failed", request.method, request.url.path)
        status = 500
        message, hint, where = "something went wrong on our side; it is in the server's log", None, None
    else:
        message = getattr(exc, "message", None) or str(exc)
        hint, where = getattr(exc, "hint", None), getattr(exc, "where", None)
    return _render(request, "error.html", code=status, user=principal, message=message, hint=hint, where=where)


def page(role: str = "viewer", *, action: bool = False, long_fields: dict[str, int] | None = None,
         action_error: Callable[[Request, Principal | None, Exception], Response] | None = None
         ) -> Callable[..., Any]:
    """A page handler `(request, principal, form) -> Response`: signed in (else to the sign-in page), the role,
    and for actions the form with a valid CSRF token. `long_fields` allows named fields beyond MAX_FIELD (a
    template's text); `action_error` shows an action's error in the page's own result area."""

    def wrap(handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            workspace = request.app.state.workspace
            principal: Principal | None = None
            try:
                try:
                    principal = await run_in_threadpool(authenticate, workspace, request)
                except ApiError as exc:
                    if exc.status == 401 and request.method == "GET":
                        return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
                    raise
                require(principal, role)
                form: dict[str, Any] = {}
                if action:
                    form = await read_json(request)
                    check_csrf(principal, request, form)
                    for name, value in form.items():
                        limit = (long_fields or {}).get(name, MAX_FIELD)
                        for v in value if isinstance(value, list) else [value]:
                            if isinstance(v, str) and len(v) > limit:
                                raise ApiError(400, f"the field {name} is longer than {limit} characters",
                                               where=f"form.{name}", hint="nothing was changed")
                return await run_in_threadpool(handler, request, principal, form)
            except Exception as exc:  # ApiError/LedgerlinkError: a clear page; anything else: logged, 500
                if action and action_error is not None:
                    return action_error(request, principal, exc)
                return _error_page(request, exc, principal)

        run.__name__ = handler.__name__
        return run

    return wrap


def _context(request: Request, principal: Principal, **extra: Any) -> dict[str, Any]:
    workspace = request.app.state.workspace
    return {"user": principal, "can_act": role_allows(principal.role, "bookkeeper"),
            "pipelines": sorted(workspace.services), "path": request.url.path, **extra}


def _service(request: Request, form: dict[str, Any] | None = None) -> Any:
    workspace = request.app.state.workspace
    name = (form or {}).get("pipeline") or request.query_params.get("pipeline") or request.path_params.get("pipeline")
    if not name:
        raise ApiError(400, "is required", where="pipeline", hint="name the pipeline the action is for")
    return workspace.service(str(name))


def _services(request: Request) -> list[Any]:
    return [request.app.state.workspace.services[n] for n in sorted(request.app.state.workspace.services)]


# -- signing in and out ------------------------------------------------------------------------------------------

async def signin_page(request: Request) -> Response:
    token = request.cookies.get(SIGNIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _render(request, "signin.html", user=None, csrf=token, next=_safe_next(request.query_params.get("next")))
    response.set_cookie(SIGNIN_CSRF_COOKIE, token, path="/signin", httponly=True, samesite="strict",
                        secure=_secure(request))
    return response


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no `//host`): a sign-in must not bounce the user elsewhere."""
    return value if value and value.startswith("/") and not value.startswith("//") and len(value) < 200 else "/"


async def signin(request: Request) -> Response:
    """The sign-in form: a double-submit CSRF token (cookie + field: there is no session yet), then the same
    throttled check the API's POST /session makes."""
    workspace = request.app.state.workspace
    token = request.cookies.get(SIGNIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    name = ""
    try:
        form = await read_json(request)
        sent = form.get("csrf_token")
        cookie = request.cookies.get(SIGNIN_CSRF_COOKIE)
        if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
            raise ApiError(403, "the sign-in form has expired or did not come from this site",
                           hint="reload the sign-in page and try again")
        name, password = form.get("name"), form.get("password")
        if not isinstance(name, str) or not name or not isinstance(password, str) or not password:
            name = name if isinstance(name, str) else ""
            raise ApiError(400, "enter your user name and password")
        if len(name) > 64 or len(password) > 1024:
            raise ApiError(400, "the name or password is too long")
        address = request.client.host if request.client else "unknown"
        session_id, session, _user = await run_in_threadpool(_attempt, workspace, name, password, address)
    except ApiError as exc:
        response = _render(request, "signin.html", code=exc.status, user=None, csrf=token, error=exc.message,
                           hint=exc.hint, name=name[:64], next=_safe_next(request.query_params.get("next")))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(workspace.sessions.lifetime), path="/",
                        secure=_secure(request), httponly=True, samesite="lax")
    return response


@page("viewer", action=True)
def signout(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        workspace.sessions.end(cookie)
    workspace.audit.record(principal.actor, "signed out")
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- overview and runs -------------------------------------------------------------------------------------------

@page()
def overview(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    cards = []
    for service in _services(request):
        card = ops.summary(service, detail=True)
        card["today"] = _today(service)
        cards.append(card)
    return _render(request, "overview.html", **_context(request, principal, cards=cards))


def _day(ts: Any) -> str:
    if ts is None:
        return "?"
    if isinstance(ts, (int, float)):
        return datetime.fromtimestamp(ts, timezone.utc).date().isoformat()
    return str(ts)[:10]


def _today(service: Any) -> dict[str, int]:
    """Orders read and documents posted by today's runs (UTC days, as the runs table stamps them)."""
    today = datetime.now(timezone.utc).date().isoformat()
    read = posted = 0
    for run in ops.runs(service, 200):
        if _day(run.get("started_at")) == today:
            counts = run.get("counts") or {}
            read += int(counts.get("read_total") or 0)
            posted += sum(int(v or 0) for v in (counts.get("created") or {}).values())
    return {"read": read, "posted": posted}


def _duration(run: dict[str, Any]) -> str:
    start, end = run.get("started_at"), run.get("finished_at")
    try:
        if isinstance(start, (int, float)) and isinstance(end, (int, float)):
            return f"{end - start:.1f} s"
        seconds = (datetime.fromisoformat(str(end)) - datetime.fromisoformat(str(start))).total_seconds()
        return f"{seconds:.1f} s"
    except (TypeError, ValueError):
        return "—"


def _new_dead_letters(counts: dict[str, Any]) -> int:
    """Dead letters a run added, at any stage (`normalise_dead_letters`, `plan_dead_letters`, …)."""
    return sum(int(v or 0) for k, v in counts.items() if k.endswith("_dead_letters") and not isinstance(v, bool))


def runs_chart(runs: list[dict[str, Any]], width: int = 640, height: int = 200) -> dict[str, Any]:
    """Documents posted and dead letters per day as bars for an inline SVG: the days, each day's two bars'
    geometry, and the scale; drawn by the template, no JavaScript."""
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        counts = run.get("counts") or {}
        day = per_day[_day(run.get("started_at"))]
        day[0] += sum(int(v or 0) for v in (counts.get("created") or {}).values())
        day[1] += _new_dead_letters(counts)
    days = sorted(per_day)[-14:]
    top = max([1] + [v for d in days for v in per_day[d]])
    plot_h, base = height - 40, height - 24
    slot = (width - 40) / max(1, len(days))
    bars = []
    for i, day in enumerate(days):
        posted, dead = per_day[day]
        x = 36 + i * slot + max(0.0, slot / 2 - 30)  # a day's pair of bars sits in the middle of its slot
        w = min(28.0, max(4.0, slot / 2 - 4))
        bars.append({"day": day, "label": day[5:], "posted": posted, "dead": dead, "x": round(x, 1),
                     "w": round(w, 1), "x2": round(x + w + 2, 1), "cx": round(x + w + 1, 1),
                     "h1": round(posted / top * plot_h, 1), "h2": round(dead / top * plot_h, 1)})
    return {"width": width, "height": height, "base": base, "top": top, "bars": bars, "plot_h": plot_h}


#: runs shown per pipeline on the Runs page unless `?limit=` says otherwise (1 to 1000)
RUNS_SHOWN = 100


@page()
def runs_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    limit = int_param(request, "limit", RUNS_SHOWN)  # `?limit=abc` is a 400 page naming the parameter
    sections = []
    for service in _services(request):
        runs = ops.runs(service, limit)
        for run in runs:
            counts = run.get("counts") or {}
            run["duration"] = _duration(run)
            run["read"] = counts.get("read_total", 0)
            run["posted"] = sum(int(v or 0) for v in (counts.get("created") or {}).values())
            run["dead"] = _new_dead_letters(counts)
        sections.append({"name": service.pipeline.name, "runs": runs, "chart": runs_chart(runs)})
    return _render(request, "runs.html", **_context(request, principal, sections=sections))


async def runs_history_moved(request: Request) -> Response:
    """The Runs page's old address: a permanent redirect to `/runs` (its query string kept). `/runs` itself is
    registered by app.py, which also answers it in JSON for a client that asks only for JSON."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/runs{query}", status_code=301)


@page("bookkeeper", action=True)
def run_now(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _service(request, form)
    request.app.state.workspace.audit.record(principal.actor, "sync requested", pipeline=service.pipeline.name)
    ops.run_now(service, f"requested by {principal.actor}")
    return _render(request, "done.html", **_context(request, principal, title="Run now",
                   results=[f"{service.pipeline.name}: a sync is queued"], back="/"))


# -- dead letters ------------------------------------------------------------------------------------------------

@page()
def dead_letters_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    status = request.query_params.get("status", "open")
    if status not in ops.DEAD_LETTER_STATUSES:
        raise ApiError(400, f"no dead-letter status {status[:40]!r}", where="query parameter status",
                       hint=f"one of {', '.join(ops.DEAD_LETTER_STATUSES)}")
    sections = [{"name": s.pipeline.name, "letters": ops.dead_letters(s, status, None)} for s in _services(request)]
    return _render(request, "dead_letters.html", **_context(request, principal, sections=sections, status=status,
                                                            statuses=ops.DEAD_LETTER_STATUSES))


def _int_ids(form: dict[str, Any]) -> list[int]:
    raw = form.get("ids")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not values:
        raise ApiError(400, "select at least one dead letter", where="form.ids", hint="tick the ones to act on")
    if len(values) > 10000 or not all(isinstance(v, str) and v.isdigit() for v in values):
        raise ApiError(400, "dead letter ids must be whole numbers", where="form.ids", hint="nothing was changed")
    return [int(v) for v in values]


def _letters_action(request: Request, principal: Principal, form: dict[str, Any], verb: str) -> Response:
    service = _service(request, form)
    every = form.get("all") == "1"
    ids = None if every else _int_ids(form)
    results = (ops.retry if verb == "retry" else ops.discard)(service, ids, every)
    request.app.state.workspace.audit.record(principal.actor, f"dead letters {verb}", pipeline=service.pipeline.name,
                                             target=",".join(str(r["id"]) for r in results)[:500])
    lines = [f"dead letter {r['id']}: {r['result']}" for r in results] or ["no open dead letters"]
    return _render(request, "done.html", **_context(request, principal, title=f"Dead letters: {verb}",
                   results=lines, back="/dead-letters"))


@page("bookkeeper", action=True)
def retry_letters(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _letters_action(request, principal, form, "retry")


@page("bookkeeper", action=True)
def discard_letters(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _letters_action(request, principal, form, "discard")


# -- revisions ---------------------------------------------------------------------------------------------------

@page()
def revisions_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    sections = []
    q = request.query_params
    filters = ops.revision_filters(q.getlist("type"), q.get("from"), q.get("to"), "query")
    for service in _services(request):
        chosen = {h.key for h in ops.select_held(service.store, **filters)}
        held = [h for h in ops.revisions(service) if h["key"] in chosen]
        for h in held:
            changed = {d["path"] for d in h["diff"]}
            h["changed_paths"] = changed
            h["old_lines"] = _flatten(h.get("old"))
            h["new_lines"] = _flatten(h.get("new"))
        sections.append({"name": service.pipeline.name, "held": held})
    return _render(request, "revisions.html", **_context(request, principal, sections=sections, filters={
        "type": ", ".join(filters["streams"]), "from": q.get("from") or "", "to": q.get("to") or ""}))


def _flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """A payload as (path, value) leaves, in the same path spelling payload_diff uses, so changes can be marked."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _flatten(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _flatten(v, f"{path}[{i}]")]
    return [(path, value)]


def _keys(form: dict[str, Any]) -> list[str]:
    raw = form.get("keys")
    keys = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ApiError(400, "select at least one revision", where="form.keys", hint="tick the ones to act on")
    return keys


def _revisions_action(request: Request, principal: Principal, form: dict[str, Any], verb: str) -> Response:
    service = _service(request, form)
    every = form.get("all") == "1"
    keys = [] if every else _keys(form)
    types = [t.strip() for t in str(form.get("type") or "").split(",") if t.strip()]
    filters = ops.revision_filters(types, form.get("from"), form.get("to"), "form")  # "all": the ones shown
    if verb == "apply":
        results = ops.apply_revisions(service, keys, every, filters)
        lines = [f"{r['key']}: {'queued to post on the next sync' if r['queued'] else 'nothing to post'}"
                 for r in results]
    else:
        results = ops.discard_revisions(service, keys, every, filters)
        lines = [f"{r['key']}: {r['result']}" for r in results]
    request.app.state.workspace.audit.record(principal.actor, f"revisions {verb}", pipeline=service.pipeline.name,
                                             target=",".join(r["key"] for r in results)[:500])
    return _render(request, "done.html", **_context(request, principal, title=f"Revisions: {verb}",
                   results=lines or ["no held revisions"], back="/revisions"))


@page("bookkeeper", action=True)
def apply_revisions(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _revisions_action(request, principal, form, "apply")


@page("bookkeeper", action=True)
def discard_revisions(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _revisions_action(request, principal, form, "discard")


# -- review before posting ---------------------------------------------------------------------------------------

#: the filter fields the review page offers (GET query parameters, carried into its forms)
REVIEW_FIELDS = ("kind", "customer", "text", "min_total", "max_total")
#: documents shown per pipeline; "all matching" still acts on every match
REVIEW_PAGE_SIZE = 100


def _review_filter_values(values: Any) -> dict[str, str]:
    return {name: str(values.get(name)) for name in REVIEW_FIELDS if values.get(name) not in (None, "")}


@page()
def review_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    """Documents awaiting approval, each as the ledger will receive it beside the source rows it came from."""
    values = _review_filter_values(request.query_params)
    where = review_filter(values, where="query parameter ")
    sections = []
    for service in _services(request):
        review_on = service.pipeline.review not in (None, "never", False)
        queue = ops.review_queue(service, where, REVIEW_PAGE_SIZE, 0)
        docs = [ops.review_document(service, item["key"]) for item in queue["items"]]
        for doc in docs:
            for row in doc["source_rows"]:
                row["fields"] = _flatten(row.get("record"))
        sections.append({"name": service.pipeline.name, "review": service.pipeline.review, "on": review_on,
                         "counts": queue["counts"], "docs": docs})
    return _render(request, "review.html", **_context(request, principal, sections=sections, filters=values,
                                                      fields=REVIEW_FIELDS, page_size=REVIEW_PAGE_SIZE))


def _review_action(request: Request, principal: Principal, form: dict[str, Any], decision: str) -> Response:
    service = _service(request, form)
    reason = None
    if decision == "reject":
        reason = form.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ApiError(400, "say why the documents are rejected", where="form.reason",
                           hint="type a reason and try again; nothing was changed")
    keys: list[str] | None = None
    where = None
    if form.get("all") == "1":
        where = review_filter(_review_filter_values(form), where="form.")
    else:
        raw = form.get("keys")
        keys = raw if isinstance(raw, list) else [] if raw is None else [raw]
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ApiError(400, "select at least one document", where="form.keys", hint="tick the ones to act on")
    done = ops.review_decide(service, decision, principal.actor, keys=keys, where=where, reason=reason)
    request.app.state.workspace.audit.record(
        principal.actor, f"documents {done['decision']}", pipeline=service.pipeline.name,
        target=",".join(done["keys"])[:500], detail={"keys": done["keys"], "skipped": done["skipped"],
                                                     "reason": reason})
    lines = [f"{key}: {done['decision']}" for key in done["keys"]]
    lines += [f"{key}: not changed ({why})" for key, why in done["skipped"].items()]
    if done.get("sync_queued"):
        lines.append(f"{service.pipeline.name}: a sync is queued to post the approved documents")
    return _render(request, "done.html", **_context(request, principal, title=f"Review: {decision}",
                   results=lines or ["no documents matched"], back="/review"))


@page("bookkeeper", action=True)
def approve_review(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _review_action(request, principal, form, "approve")


@page("bookkeeper", action=True)
def reject_review(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _review_action(request, principal, form, "reject")


# -- settlements, reconcile, trace -------------------------------------------------------------------------------

@page()
def settlements_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    sections = [{"name": s.pipeline.name, "settlements": ops.settlements(s)} for s in _services(request)]
    return _render(request, "settlements.html", **_context(request, principal, sections=sections))


@page()
def settlement_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _service(request)
    trail = ops.settlement(service, request.path_params["settlement_id"])
    for doc in trail["documents"]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i, line in enumerate(doc["lines"]):
            line["index"] = i
            groups[str(line.get("account") or "—")].append(line)
        doc["groups"] = dict(groups)
    numbers = set(trail["rows"]) | set(trail["report_rows"])
    trail["row_numbers"] = sorted(numbers, key=lambda n: (0, int(n), "") if n.isdigit() else (1, 0, n))
    return _render(request, "settlement.html", **_context(request, principal, pipeline=service.pipeline.name,
                                                          trail=trail, row=request.query_params.get("row")))


@page()
def reconcile_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    reports = [{"name": s.pipeline.name, "report": s.last_reconcile} for s in _services(request)]
    return _render(request, "reconcile.html", **_context(request, principal, reports=reports))


@page("bookkeeper", action=True)
def reconcile_now(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _service(request, form)
    ops.reconcile(service, offline=form.get("offline") == "1", checks=[])
    return RedirectResponse("/reconcile", status_code=303)


@page()
def trace_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    stream = request.query_params.get("stream", "")
    key = request.query_params.get("key", "")
    results = None
    if len(stream) > MAX_FIELD or len(key) > MAX_FIELD:
        raise ApiError(400, f"the stream or key is longer than {MAX_FIELD} characters", where="query")
    if key:
        if not stream:
            raise ApiError(400, "name the stream the record came from (e.g. orders)", where="query parameter stream")
        results = [{"name": s.pipeline.name, "rows": ops.trace(s, stream, key)} for s in _services(request)]
    return _render(request, "trace.html", **_context(request, principal, stream=stream, key=key, results=results))


def _connect_pages() -> list[Any]:
    from .pages_connect import connect_page_routes  # imported late: it builds on this module's helpers
    return connect_page_routes()


def page_routes() -> list[Any]:
    """The console's pages and its static files (htmx and the stylesheet), mounted at `/`."""
    from .pages_alerts import alerts_page_routes as _alerts_page_routes  # (that module builds on this one)

    return [
        Route("/", overview, methods=["GET"]),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/run-now", run_now, methods=["POST"]),
        Route("/runs-history", runs_history_moved, methods=["GET"]),
        Route("/dead-letters", dead_letters_page, methods=["GET"]),
        Route("/dead-letters/retry", retry_letters, methods=["POST"]),
        Route("/dead-letters/discard", discard_letters, methods=["POST"]),
        Route("/revisions", revisions_page, methods=["GET"]),
        Route("/revisions/apply", apply_revisions, methods=["POST"]),
        Route("/revisions/discard", discard_revisions, methods=["POST"]),
        Route("/review", review_page, methods=["GET"]),
        Route("/review/approve", approve_review, methods=["POST"]),
        Route("/review/reject", reject_review, methods=["POST"]),
        Route("/settlements", settlements_page, methods=["GET"]),
        Route("/settlements/{pipeline}/{settlement_id}", settlement_page, methods=["GET"]),
        Route("/reconcile", reconcile_page, methods=["GET"]),
        Route("/reconcile/run", reconcile_now, methods=["POST"]),
        Route("/trace", trace_page, methods=["GET"]),
        *__import__("ledgerlink.console.pages_anomalies", fromlist=["_"]).anomalies_page_routes(),  # anomalies
        *_connect_pages(),
        *_alerts_page_routes(),
        *__import__("ledgerlink.console.pages_designer", fromlist=["_"]).designer_page_routes(),
        *__import__("ledgerlink.console.pages_fleet", fromlist=["_"]).fleet_page_routes(),  # fleet (issue 21)
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
