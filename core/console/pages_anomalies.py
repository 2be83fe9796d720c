"""The console's Anomalies page: every pipeline's kept findings (open by default), each in words with the rows
behind it and the threshold it crossed, and which checks do not apply and why. Bookkeepers acknowledge or
snooze findings (audited) and run the checks now; viewers read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .api_anomalies import STATUS_CHOICES, decide, kept, parse_until, run
from .auth import Principal
from .errors import ApiError
from .pages import _context, _env, _render, _service, _services, log, page

__all__ = ["anomalies_page_routes"]


def _checks(request: Request) -> list[str]:
    return [c for c in request.query_params.getlist("check") if c][:20]


@page()
def anomalies_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    from ..anomalies import check_names

    status = request.query_params.get("status", "open")
    if status not in STATUS_CHOICES:
        raise ApiError(400, f"no finding status {status[:40]!r}", where="query parameter status",
                       hint=f"one of {', '.join(STATUS_CHOICES)}")
    checks = _checks(request)
    sections = [{"name": s.pipeline.name, **kept(s, status, checks or None)} for s in _services(request)]
    return _render(request, "anomalies_list.html", **_context(
        request, principal, sections=sections, status=status, statuses=STATUS_CHOICES,
        check=checks[0] if checks else "", all_checks=check_names(None)))


def _fingerprints(form: dict[str, Any]) -> list[str]:
    raw = form.get("fingerprints")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not values:
        raise ApiError(400, "select at least one finding", where="form.fingerprints", hint="tick the ones to act on")
    if len(values) > 10000 or not all(isinstance(v, str) and v.isalnum() for v in values):
        raise ApiError(400, "finding fingerprints are letters and digits", where="form.fingerprints",
                       hint="nothing was changed")
    return values


def _decide(request: Request, principal: Principal, form: dict[str, Any], action: str) -> Response:
    service = _service(request, form)
    fps = _fingerprints(form)
    until = parse_until(form.get("until") or "", where="form.until") if action == "snooze" else None
    note = form.get("note") or None
    done = decide(service, action, fps, principal.actor, until=until, note=note)
    verb = "acknowledged" if action == "acknowledge" else f"{action}d"
    request.app.state.workspace.audit.record(
        principal.actor, f"anomalies {verb}", pipeline=service.pipeline.name, target=",".join(fps)[:500],
        detail={"fingerprints": fps, "until": None if until is None else until.isoformat(), "note": note})
    lines = [f"{f['check']}: {f['subject']} — {f['status']}"
             + (f" until {str(f['snoozed_until'])[:10]}" if f.get("snoozed_until") else "") for f in done]
    return _render(request, "done.html", **_context(request, principal, title=f"Anomalies {verb}", results=lines,
                                                    back="/anomalies"))


@page("bookkeeper", action=True)
def acknowledge(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _decide(request, principal, form, "acknowledge")


@page("bookkeeper", action=True)
def snooze(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _decide(request, principal, form, "snooze")


@page("bookkeeper", action=True)
def reopen(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _decide(request, principal, form, "reopen")


@page("bookkeeper", action=True)
def run_now(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    service = _service(request, form)
    report = run(service, None)
    request.app.state.workspace.audit.record(principal.actor, "anomaly checks run", pipeline=service.pipeline.name,
                                             detail={"open": report["open"]})
    lines = [f"{service.pipeline.name}: {report['open']} open finding(s), {len(report['passed'])} check(s) found "
             f"nothing, {len(report['not_applicable'])} not applicable"]
    lines += [f"{name} could not run: {why}" for name, why in report["failed"].items()]
    return _render(request, "done.html", **_context(request, principal, title="Anomaly checks", results=lines,
                                                    back="/anomalies"))


def open_anomalies(request: Request, pipeline: str) -> int:
    """How many findings of a pipeline are open (the overview's alert line); 0 when it cannot say."""
    from ..anomalies import FindingBook

    try:
        return len(FindingBook(request.app.state.workspace.service(pipeline).store).list(status="open"))
    except Exception:  # noqa: BLE001 - the overview must render even when the count cannot be read
        log.exception("could not count the open anomalies of %s", pipeline)
        return 0


_env.globals["open_anomalies"] = open_anomalies


def anomalies_page_routes() -> list[Route]:
    return [
        Route("/anomalies", anomalies_page, methods=["GET"]),
        Route("/anomalies/acknowledge", acknowledge, methods=["POST"]),
        Route("/anomalies/snooze", snooze, methods=["POST"]),
        Route("/anomalies/reopen", reopen, methods=["POST"]),
        Route("/anomalies/run", run_now, methods=["POST"]),
    ]
