"""Findings kept in the pipeline's state (table `anomaly_findings`), by fingerprint, so a person's decision
sticks: an acknowledged finding stays acknowledged when the check finds it again, a snoozed one comes back
only after its date, and one that is no longer found is marked resolved (and reopens if it returns)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable

from .. import jsonutil
from ..errors import ConfigError
from ..store import Store
from .model import AnomalyFinding, AnomalyReport

__all__ = ["FindingBook", "STATUSES", "ACTIONS"]

STATUSES = ("open", "acknowledged", "snoozed", "resolved")
#: what a person may do to a finding, and the status it leaves
ACTIONS = {"acknowledge": "acknowledged", "snooze": "snoozed", "reopen": "open"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS anomaly_findings (
    fingerprint VARCHAR PRIMARY KEY, "check" VARCHAR NOT NULL, severity VARCHAR NOT NULL, subject VARCHAR NOT NULL,
    explanation VARCHAR NOT NULL, rows JSON NOT NULL, threshold VARCHAR, measured VARCHAR, what_to_do VARCHAR,
    status VARCHAR NOT NULL, snoozed_until TIMESTAMP, first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL,
    decided_by VARCHAR, decided_at TIMESTAMP, note VARCHAR);
CREATE TABLE IF NOT EXISTS anomaly_decisions (
    fingerprint VARCHAR NOT NULL, action VARCHAR NOT NULL, decided_by VARCHAR NOT NULL, decided_at TIMESTAMP NOT NULL,
    snoozed_until TIMESTAMP, note VARCHAR);
"""

_COLUMNS = ('fingerprint, "check", severity, subject, explanation, rows, threshold, measured, what_to_do, status, '
            "snoozed_until, first_seen, last_seen, decided_by, note")


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _text(value: Any) -> str | None:
    return None if value is None else (value.isoformat(sep=" ") if isinstance(value, datetime) else str(value))


class FindingBook:
    """The persisted findings of one pipeline's state file."""

    def __init__(self, store: Store):
        self.db = store.db
        with self.db.lock:
            self.db.execute(_SCHEMA)

    def _finding(self, row: tuple[Any, ...]) -> AnomalyFinding:
        (fp, check, severity, subject, explanation, rows, threshold, measured, what, status, until, first, last,
         by, note) = row
        return AnomalyFinding(check, severity, subject, explanation, jsonutil.loads(rows), threshold or "",
                              measured or "", what or "", fp, status, _text(until), _text(first), _text(last), by, note)

    def record(self, report: AnomalyReport, now: datetime) -> None:
        """Keep the report's findings and bring each one's status (and first sighting) back into the report."""
        at = _naive(now)
        ran = [c for c in report.checks if c not in report.not_applicable and c not in report.failed]
        with self.db.transaction():
            known = {r[0]: r for r in self.db.fetchall(f"SELECT {_COLUMNS} FROM anomaly_findings")}
            seen = set()
            for f in report.findings:
                seen.add(f.fingerprint)
                old = known.get(f.fingerprint)
                status = "open"
                if old is not None:
                    status = old[9]
                    if status == "resolved" or (status == "snoozed" and (old[10] is None or old[10] <= at)):
                        status = "open"
                self.db.execute(
                    "INSERT INTO anomaly_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL) "
                    "ON CONFLICT (fingerprint) DO UPDATE SET severity = excluded.severity, "
                    "explanation = excluded.explanation, rows = excluded.rows, threshold = excluded.threshold, "
                    "measured = excluded.measured, what_to_do = excluded.what_to_do, status = excluded.status, "
                    "last_seen = excluded.last_seen",
                    [f.fingerprint, f.check, f.severity, f.subject, f.explanation, jsonutil.dumps(f.rows),
                     f.threshold, f.measured, f.what_to_do, status, None, at, at])
            gone = [fp for fp, r in known.items() if fp not in seen and r[1] in ran and r[9] in ("open", "snoozed")]
            for fp in gone:
                self.db.execute("UPDATE anomaly_findings SET status = 'resolved' WHERE fingerprint = ?", [fp])
            self.db.execute("INSERT OR REPLACE INTO ll_meta VALUES ('anomalies:last_run', ?)", [jsonutil.dumps({
                "at": report.at, "checks": report.checks, "not_applicable": report.not_applicable,
                "failed": report.failed})])
        stored = {f.fingerprint: f for f in self.list(fingerprints=[f.fingerprint for f in report.findings])}
        report.findings = [stored.get(f.fingerprint, f) for f in report.findings]

    def last_run(self) -> dict[str, Any] | None:
        """When the checks last ran, which, and which did not apply or failed (None: never)."""
        row = self.db.fetchone("SELECT value FROM ll_meta WHERE key = 'anomalies:last_run'")
        return jsonutil.loads(row[0]) if row else None

    def list(self, *, status: str | None = None, checks: Iterable[str] | None = None,
             fingerprints: Iterable[str] | None = None) -> list[AnomalyFinding]:
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if checks:
            checks = list(checks)
            where.append(f'"check" IN ({", ".join("?" * len(checks))})')
            params.extend(checks)
        if fingerprints is not None:
            fps = list(fingerprints)
            if not fps:
                return []
            where.append(f"fingerprint IN ({', '.join('?' * len(fps))})")
            params.extend(fps)
        rows = self.db.fetchall(f"SELECT {_COLUMNS} FROM anomaly_findings"
                                + (f" WHERE {' AND '.join(where)}" if where else "")
                                + ' ORDER BY "check", subject', params)
        return [self._finding(r) for r in rows]

    def decide(self, fingerprints: list[str], action: str, by: str, *, until: date | None = None,
               note: str | None = None, now: datetime | None = None) -> list[AnomalyFinding]:
        """Acknowledge, snooze (until a date) or reopen findings; an unknown fingerprint is a ConfigError and
        nothing is changed."""
        if action not in ACTIONS:
            raise ConfigError(f"no action {action!r} for a finding", where="action",
                              hint=f"one of {', '.join(ACTIONS)}")
        at = _naive(now or datetime.now(timezone.utc))
        if action == "snooze":
            if until is None:
                raise ConfigError("a snooze needs the date it ends", where="until", hint="e.g. until 2026-12-31")
            if datetime.combine(until, datetime.min.time()) <= at:
                raise ConfigError(f"snooze until {until} is not in the future", where="until",
                                  hint="give a later date, or acknowledge the finding instead")
        if not fingerprints:
            raise ConfigError("name at least one finding", where="fingerprints")
        found = {f.fingerprint for f in self.list(fingerprints=fingerprints)}
        unknown = [fp for fp in fingerprints if fp not in found]
        if unknown:
            raise ConfigError(f"no finding with fingerprint {', '.join(unknown)}", where="fingerprints",
                              hint="fingerprints come from `ledgerlink anomalies PIPELINE --json` or the console")
        ends = datetime.combine(until, datetime.min.time()) if until else None
        with self.db.transaction():
            for fp in fingerprints:
                self.db.execute("UPDATE anomaly_findings SET status = ?, snoozed_until = ?, decided_by = ?, "
                                "decided_at = ?, note = ? WHERE fingerprint = ?",
                                [ACTIONS[action], ends, by, at, note, fp])
                self.db.execute("INSERT INTO anomaly_decisions VALUES (?, ?, ?, ?, ?, ?)",
                                [fp, action, by, at, ends, note])
        return self.list(fingerprints=fingerprints)

    def due(self, now: datetime) -> None:
        """Snoozes whose date has passed come back as open."""
        self.db.execute("UPDATE anomaly_findings SET status = 'open' WHERE status = 'snoozed' AND snoozed_until <= ?",
                        [_naive(now)])
