"""The anomalies API: the findings kept for a pipeline (`GET`), running the checks (`POST .../run`), and a
person's decisions on findings — acknowledge, snooze until a date, reopen — which need the bookkeeper role and
are audited. The CLI (through a running `serve`) and the console page call these same operations."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.routing import Route

from .. import jsonutil
from ..errors import ConfigError
from .api import Call, endpoint
from .errors import ApiError, field, str_param

__all__ = ["anomalies_api_routes", "run", "kept", "decide", "parse_until"]

#: what `GET .../anomalies?status=` accepts
STATUS_CHOICES = ("open", "acknowledged", "snoozed", "resolved", "all")


def _plain(value: Any) -> Any:
    return jsonutil.loads(jsonutil.dumps(value))


def _names(checks: list[str] | None, where: str) -> list[str]:
    from ..anomalies import check_names

    try:
        return check_names(checks)
    except ConfigError as exc:
        raise ApiError(400, exc.message, where=where, hint=exc.hint) from None


def parse_until(value: Any, where: str = "body.until") -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, f"{str(value)[:40]!r} is not a date", where=where, hint="e.g. 2026-12-31") from None


def run(service: Any, checks: list[str] | None, thresholds: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the checks over the pipeline serve holds and keep what they find."""
    from ..anomalies import run_anomalies, with_thresholds

    names = _names(checks, "body.checks")
    pipeline = service.pipeline
    if thresholds:
        pipeline = with_thresholds(pipeline, thresholds)
    report = run_anomalies(pipeline, store=service.store, checks=names, plugin_host=service.plugin_host)
    return _plain(report.to_dict())


def kept(service: Any, status: str, checks: list[str] | None) -> dict[str, Any]:
    from ..anomalies import list_findings

    names = _names(checks, "query parameter check") if checks else None
    found = list_findings(service.pipeline, store=service.store, status=None if status == "all" else status,
                          checks=names)
    from ..anomalies import FindingBook

    return {"pipeline": service.pipeline.name, "status": status, "last_run": FindingBook(service.store).last_run(),
            "findings": _plain([f.to_dict() for f in found])}


def decide(service: Any, action: str, fingerprints: list[str], by: str, *, until: date | None = None,
           note: str | None = None) -> list[dict[str, Any]]:
    from ..anomalies import decide_findings

    done = decide_findings(service.pipeline, fingerprints, action, by, until=until, note=note, store=service.store)
    return _plain([f.to_dict() for f in done])


# -- endpoints ---------------------------------------------------------------------------------------------------------

@endpoint("viewer")
def list_anomalies(call: Call) -> Any:
    status = str_param(call.request, "status", choices=STATUS_CHOICES, default="open")
    checks = call.request.query_params.getlist("check")
    return kept(call.service(), status, checks or None)


@endpoint("bookkeeper")
def run_anomaly_checks(call: Call) -> Any:
    checks = field(call.body, "checks", list, required=False, default=[])
    if not all(isinstance(c, str) for c in checks):
        raise ApiError(400, "must be a list of check names", where="body.checks")
    thresholds = field(call.body, "thresholds", dict, required=False, default={})
    from ..anomalies import parse_thresholds

    report = run(call.service(), checks or None, parse_thresholds(thresholds))
    call.audit("anomaly checks run", detail={"open": report["open"], "checks": checks or "all"})
    return report


def _fingerprints(call: Call) -> list[str]:
    fps = field(call.body, "fingerprints", list)
    if not fps or len(fps) > 10000 or not all(isinstance(f, str) and 0 < len(f) <= 64 for f in fps):
        raise ApiError(400, "must be a list of 1 to 10000 finding fingerprints", where="body.fingerprints",
                       hint='e.g. {"fingerprints": ["3f2a…"]}')
    return fps


def _decision(call: Call, action: str) -> Any:
    fps = _fingerprints(call)
    note = field(call.body, "note", str, required=False, default=None)
    if note is not None and len(note) > 500:
        raise ApiError(400, "is longer than 500 characters", where="body.note", hint="nothing was changed")
    until = parse_until(field(call.body, "until", str)) if action == "snooze" else None
    by = call.principal.actor
    if call.principal.via == "local":  # this machine's CLI says which login decided (`--by`)
        by = field(call.body, "by", str, required=False, default=by)
    done = decide(call.service(), action, fps, by, until=until, note=note)
    call.audit(f"anomalies {'acknowledged' if action == 'acknowledge' else action + 'd'}", target=",".join(fps)[:500],
               detail={"fingerprints": fps, "until": None if until is None else until.isoformat(), "note": note})
    return done


@endpoint("bookkeeper")
def acknowledge_anomalies(call: Call) -> Any:
    return _decision(call, "acknowledge")


@endpoint("bookkeeper")
def snooze_anomalies(call: Call) -> Any:
    return _decision(call, "snooze")


@endpoint("bookkeeper")
def reopen_anomalies(call: Call) -> Any:
    return _decision(call, "reopen")


def anomalies_api_routes() -> list[Route]:
    p = "/pipelines/{pipeline}/anomalies"
    return [
        Route(p, list_anomalies, methods=["GET"]),
        Route(f"{p}/run", run_anomaly_checks, methods=["POST"]),
        Route(f"{p}/acknowledge", acknowledge_anomalies, methods=["POST"]),
        Route(f"{p}/snooze", snooze_anomalies, methods=["POST"]),
        Route(f"{p}/reopen", reopen_anomalies, methods=["POST"]),
    ]
