"""Where events come from: what a served pipeline's state says (its last run, open dead letters, the last
reconcile, the review queue, the Web Connector's last contact), plus two sources other parts of ledgerlink
provide through a small interface — open anomaly findings and credentials about to expire."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Protocol
from urllib.parse import quote

from .config import Rule
from .events import CONSOLE_PAGES, AlertEvent, Condition

__all__ = ["AnomalyFinding", "AnomalySource", "TokenExpirySource", "no_anomalies", "no_token_expiries",
           "events_for", "Signal"]

log = logging.getLogger("ledgerlink.alerts")

Signal = AlertEvent | Condition


@dataclass(frozen=True)
class AnomalyFinding:
    """An open anomaly finding as alerts need it: a stable id (the same finding keeps it), the check that found
    it and its explanation in words."""

    id: str
    check: str
    explanation: str


class AnomalySource(Protocol):
    """The open anomaly findings of a served pipeline (objects or mappings with id, check and explanation)."""

    def __call__(self, service: Any) -> Iterable[AnomalyFinding | Mapping[str, Any] | Any]: ...


class TokenExpirySource(Protocol):
    """Credentials of a served pipeline that expire: (what, expires at as a Unix time)."""

    def __call__(self, service: Any) -> Iterable[tuple[str, float]]: ...


def no_anomalies(service: Any) -> list[AnomalyFinding]:
    """Until the anomaly checks are wired in (see the alerts guide), there are none to report."""
    return []


def no_token_expiries(service: Any) -> list[tuple[str, float]]:
    """No credential records its expiry yet: nothing to report."""
    return []


def _page(kind: str, pipeline: str) -> str:
    return f"{CONSOLE_PAGES[kind]}?pipeline={quote(pipeline)}" if CONSOLE_PAGES[kind] != "/" else "/"


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def run_failed(service: Any, rule: Rule, now: float) -> list[Signal]:
    name = service.pipeline.name
    last = service.store.runs.list(1)
    run = last[0] if last else None
    if run is not None and run.get("status") == "failed":
        # the start time too: a state file made afresh numbers its runs from 1 again
        key = f"run {run['id']} started {run.get('started_at')}"
        return [AlertEvent("run_failed", name, key, f"{name}: run {run['id']} failed",
                           _short(str(run.get("error") or service.last_error or "see the run's report")),
                           _page("run_failed", name), now)]
    if service.last_error and getattr(service, "last_finished_at", None):
        # the sync raised before it could record a run: the failure is named by when it ended
        key = f"error at {service.last_finished_at:.0f}"
        return [AlertEvent("run_failed", name, key, f"{name}: the sync failed", _short(service.last_error),
                           _page("run_failed", name), now)]
    return []


def dead_letters(service: Any, rule: Rule, now: float) -> list[Signal]:
    name, above = service.pipeline.name, rule.dead_letters_above
    count = service.store.dead_letters.count_open()
    return [Condition("dead_letters", name, f"above {above}", count > above,
                      f"{name}: {count} dead letter(s) open" + (f" (more than {above})" if above else ""),
                      "records that could not be posted wait for a person: explain, fix, retry or discard them",
                      _page("dead_letters", name))]


def reconcile_findings(service: Any, rule: Rule, now: float) -> list[Signal]:
    name = service.pipeline.name
    report = getattr(service, "last_reconcile", None) or {}
    out: list[Signal] = []
    for finding in report.get("findings") or []:
        what = f"{finding.get('check')}\x1f{finding.get('subject')}\x1f{finding.get('message')}"
        key = hashlib.sha256(what.encode()).hexdigest()[:16]
        detail = str(finding.get("message") or "")
        if finding.get("expected") is not None or finding.get("actual") is not None:
            detail += f" (expected {finding.get('expected')}, found {finding.get('actual')})"
        out.append(AlertEvent("reconcile_finding", name, key,
                              f"{name}: reconcile {finding.get('check')}: {finding.get('subject')}",
                              _short(detail), _page("reconcile_finding", name), now))
    return out


def review_waiting(service: Any, rule: Rule, now: float) -> list[Signal]:
    from ..review import review_counts

    name, above = service.pipeline.name, rule.review_waiting_above
    waiting = review_counts(service.store, service.pipeline.destination.connector)["awaiting_approval"]
    return [Condition("review_waiting", name, f"above {above}", waiting > above,
                      f"{name}: {waiting} document(s) await approval",
                      "nothing posts until a bookkeeper approves it on the Review page", _page("review_waiting", name))]


#: where the QuickBooks Desktop bridge records each Web Connector call (a reference entry of its destination)
WEB_CONNECTOR_CONTACT = "qbd:contact"


def web_connector_silent(service: Any, rule: Rule, now: float) -> list[Signal]:
    name = service.pipeline.name
    store = service.store
    with store.db.lock:
        row = store.db.fetchone("SELECT max(ref_id) FROM refs WHERE kind = ?", [WEB_CONNECTOR_CONTACT])
    last = row[0] if row else None
    if not last:
        return []  # no Web Connector has ever called this pipeline: nothing has gone quiet
    try:
        when = datetime.fromisoformat(str(last))
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except ValueError:
        return []
    quiet_min = (now - when.timestamp()) / 60
    limit = rule.web_connector_silent_minutes
    return [Condition("web_connector_silent", name, f"over {limit:g} min", quiet_min > limit,
                      f"{name}: the Web Connector has not called for {quiet_min / 60:.1f} hours",
                      f"last contact {last}: is the PC with QuickBooks on, and the Web Connector running with "
                      "auto-run enabled?", "/")]


def anomalies(source: AnomalySource) -> Callable[[Any, Rule, float], list[Signal]]:
    def collect(service: Any, rule: Rule, now: float) -> list[Signal]:
        name = service.pipeline.name
        out: list[Signal] = []
        for finding in source(service):
            get = finding.get if isinstance(finding, Mapping) else lambda k, f=finding: getattr(f, k, None)
            fid = get("id")
            if fid is None:
                log.warning("an anomaly finding of %s has no id: skipped (alerts need a stable id)", name)
                continue
            explanation = get("explanation") or get("message") or get("summary") or ""
            out.append(AlertEvent("anomaly", name, str(fid), f"{name}: anomaly {get('check') or ''}".rstrip(),
                                  _short(str(explanation)), _page("anomaly", name), now))
        return out
    return collect


def token_expiring(source: TokenExpirySource) -> Callable[[Any, Rule, float], list[Signal]]:
    def collect(service: Any, rule: Rule, now: float) -> list[Signal]:
        name = service.pipeline.name
        out: list[Signal] = []
        for what, expires_at in source(service):
            days = (expires_at - now) / 86400
            out.append(Condition("token_expiring", name, f"{what} expiring at {expires_at:.0f}",
                                 days <= rule.token_expires_within_days,
                                 f"{name}: {what} expires in {max(days, 0):.1f} days",
                                 "re-authorise the connection before it expires, or syncs will stop", "/"))
        return out
    return collect


def events_for(kind: str, *, anomaly_source: AnomalySource,
               token_source: TokenExpirySource) -> Callable[[Any, Rule, float], list[Signal]]:
    return {"run_failed": run_failed, "dead_letters": dead_letters, "reconcile_finding": reconcile_findings,
            "review_waiting": review_waiting, "web_connector_silent": web_connector_silent,
            "anomaly": anomalies(anomaly_source), "token_expiring": token_expiring(token_source)}[kind]
