"""What the API does with a served pipeline, each through the core function the CLI calls (store.requeue,
held_revisions/apply_revision, settlement_trail, reconcile, store.trace, status_lines), the state file touched
only through the service's own store. Ids are all checked before anything changes: a bad one changes nothing."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .. import jsonutil
from ..errors import ConfigError
from ..reconcile import CHECKS, open_context
from ..reconcile import reconcile as run_checks
from ..revisions import apply_revision, discard_revision, held_revisions, select_held  # noqa: F401 - pages
from ..runtime import status_lines
from ..settlements.trail import settlement_trail
from .diff import payload_diff
from .errors import ApiError
from .settlement_bank import bank_check

__all__ = ["summary", "runs", "dead_letters", "dead_letter", "retry", "discard", "revisions", "apply_revisions",
           "discard_revisions", "settlements", "settlement", "reconcile", "trace", "plugin_status", "run_now",
           "DEAD_LETTER_STATUSES", "review_queue", "review_document", "review_decide"]

DEAD_LETTER_STATUSES = ("open", "retried", "discarded", "resolved", "all")
#: how long a reject waits for a running sync to end before answering 409
REJECT_WAIT_S = 30.0


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """JSON-safe (Decimals, timestamps) exactly as the CLI's --json prints it."""
    return jsonutil.loads(jsonutil.dumps(value))


def plugin_status(service: Any) -> list[str]:
    return status_lines(service.pipeline, service.store, plugin_host=service.plugin_host)


def summary(service: Any, *, detail: bool = False) -> dict[str, Any]:
    """A pipeline's health at a glance: last and next run, the last run's counts, open dead letters, held
    revisions, the last reconcile verdict, and (in detail) the plugins' status lines."""
    p, store = service.pipeline, service.store
    last = store.runs.list(1)
    last_run = last[0] if last else None
    counts = (last_run or {}).get("counts") or {}
    reconcile_report = service.last_reconcile
    out = {
        "name": p.name, "file": str(service.source_file) if service.source_file else None,
        "source": p.source.connector, "destination": p.destination.connector,
        "syncing": service.running, "syncs_since_start": service.syncs, "every_s": service.every,
        "last_run": None if last_run is None else {
            "id": last_run["id"], "status": last_run["status"], "started_at": last_run["started_at"],
            "finished_at": last_run["finished_at"], "error": last_run["error"],
            "read": counts.get("read_total", 0), "planned": counts.get("planned_new", 0),
            "posted": sum((counts.get("created") or {}).values())},
        "next_run_at": _iso(service.next_run_at()),
        "last_error": service.last_error,
        "dead_letters_open": store.dead_letters.count_open(),
        "held_revisions": len(held_revisions(store)),
        "review": p.review, **_review_counts(service),
        "reconcile": None if reconcile_report is None else {
            "ok": reconcile_report["ok"], "findings": len(reconcile_report["findings"]), "at": reconcile_report["at"]},
    }
    alerts = []
    if service.last_error:
        alerts.append(f"the last sync failed: {service.last_error}")
    if out["dead_letters_open"]:
        alerts.append(f"{out['dead_letters_open']} dead letter(s) open")
    if out["awaiting_approval"]:
        alerts.append(f"{out['awaiting_approval']} document(s) awaiting approval")
    if reconcile_report is not None and not reconcile_report["ok"]:
        alerts.append(f"reconcile found {len(reconcile_report['findings'])} difference(s)")
    if detail:
        out["status_lines"] = plugin_status(service)
        alerts += [line[len("warning: "):] for line in out["status_lines"] if line.startswith("warning: ")]
    out["alerts"] = alerts
    return out


def _review_counts(service: Any) -> dict[str, int]:
    from ..review import review_counts

    counts = review_counts(service.store, service.pipeline.destination.connector)
    return {"awaiting_approval": counts["awaiting_approval"], "approved_not_posted": counts["approved_not_posted"]}


def runs(service: Any, limit: int) -> list[dict[str, Any]]:
    return _plain(service.store.runs.list(limit))


def dead_letters(service: Any, status: str, stage: str | None) -> list[dict[str, Any]]:
    letters = service.store.dead_letters.list(status=None if status == "all" else status, stage=stage)
    return _plain([d.to_dict() for d in letters])


def dead_letter(service: Any, letter_id: int) -> dict[str, Any]:
    letter = service.store.dead_letters.get(letter_id)
    if letter is None:
        raise ApiError(404, f"no dead letter {letter_id}", where="id",
                       hint=f"`ledgerlink dlq list {service.pipeline.name}` shows the open ones")
    return _plain(letter.to_dict())


def _letters(service: Any, ids: list[int] | None, every_open: bool) -> list[Any]:
    store = service.store
    if every_open:
        return store.dead_letters.list("open")
    found = [(i, store.dead_letters.get(i)) for i in ids or []]
    missing = [str(i) for i, letter in found if letter is None]
    if missing:
        raise ApiError(404, f"no dead letter {', '.join(missing)}", where="ids", hint="nothing was changed")
    return [letter for _, letter in found]


def retry(service: Any, ids: list[int] | None, every_open: bool) -> list[dict[str, Any]]:
    """Queue dead letters to go through again on the next sync; what happens to each."""
    return [{"id": letter.id, "result": service.store.requeue(letter)}
            for letter in _letters(service, ids, every_open)]


def discard(service: Any, ids: list[int] | None, every_open: bool) -> list[dict[str, Any]]:
    out = []
    for letter in _letters(service, ids, every_open):
        service.store.dead_letters.set_status(letter.id, "discarded")
        out.append({"id": letter.id, "result": "discarded"})
    return out


def revisions(service: Any) -> list[dict[str, Any]]:
    return _plain([{**h.to_dict(with_payloads=True), "diff": payload_diff(h.old, h.new)}
                   for h in held_revisions(service.store)])


def _held_keys(service: Any, keys: list[str]) -> None:
    held = {h.key for h in held_revisions(service.store)}
    missing = [k for k in keys if k not in held]
    if missing:
        raise ApiError(404, f"no held revision for {', '.join(repr(k) for k in missing)}", where="keys",
                       hint="`ledgerlink revisions list` shows what is held; nothing was changed")


def revision_filters(types: Any, since: Any, until: Any, where: str) -> dict[str, Any]:
    """`--all`'s filters from a request (document types, ISO dates), checked: an ApiError names the field."""
    from datetime import date

    out: dict[str, Any] = {"streams": [t for t in ([types] if isinstance(types, str) else types or []) if t]}
    for name, label, value in (("since", "from", since), ("until", "to", until)):
        if value in (None, ""):
            out[name] = None
            continue
        try:
            out[name] = date.fromisoformat(str(value))
        except ValueError:
            raise ApiError(400, f"must be a date (YYYY-MM-DD), not {str(value)[:40]!r}", where=f"{where}.{label}") \
                from None
    return out


def apply_revisions(service: Any, keys: list[str], every: bool,
                    filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    keys = [h.key for h in select_held(service.store, **(filters or {}))] if every else keys
    _held_keys(service, keys)
    destination = service.plugin_host.connector(service.pipeline.destination.connector, "destination")()
    return [{"key": key, "queued": apply_revision(service.store, destination, key)} for key in keys]


def discard_revisions(service: Any, keys: list[str], every: bool,
                      filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    keys = [h.key for h in select_held(service.store, **(filters or {}))] if every else keys
    _held_keys(service, keys)
    for key in keys:
        discard_revision(service.store, key)
    return [{"key": key, "result": "kept as posted"} for key in keys]


def settlements(service: Any) -> list[dict[str, Any]]:
    """Every settlement the pipeline planned or holds, newest id first: its documents' statuses and whether it
    is on hold."""
    store = service.store
    rows = store.db.fetchall(
        "SELECT split_part(natural_key, '/settlement/', 2) AS sid, count(*), "
        "count(*) FILTER (WHERE status = 'done'), min(updated_at) FROM outbox "
        "WHERE natural_key LIKE '%/settlement/%' GROUP BY sid ORDER BY sid DESC")
    out = {sid: {"settlement_id": sid, "documents": n, "posted": done, "updated_at": str(at), "on_hold": []}
           for sid, n, done, at in rows}
    for letter in store.dead_letters.list(status="open"):
        key = letter.record_key or ""
        if "/settlement/" in key:
            sid = key.rsplit("/settlement/", 1)[1]
            entry = out.setdefault(sid, {"settlement_id": sid, "documents": 0, "posted": 0, "updated_at": None,
                                         "on_hold": []})
            entry["on_hold"].append({"dead_letter": letter.id, "message": letter.message, "hint": letter.hint})
    return list(out.values())


def settlement(service: Any, settlement_id: str) -> dict[str, Any]:
    trail = settlement_trail(service.store, settlement_id)
    if not trail["documents"] and not trail["on_hold"]:
        raise ApiError(404, f"settlement {settlement_id} has not been planned by this pipeline", where="settlement_id")
    trail["bank_check"] = bank_check(service, trail)  # the bank line against the report's total
    return _plain(trail)


def reconcile(service: Any, offline: bool, checks: list[str]) -> dict[str, Any]:
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ConfigError(f"no reconcile check named {', '.join(unknown)}", hint=f"checks: {', '.join(CHECKS)}")
    ctx = open_context(service.pipeline, remote=not offline, plugin_host=service.plugin_host, store=service.store)
    report = _plain(run_checks(ctx, checks or None).to_dict())
    report["at"] = _iso(time.time())
    report["offline"] = offline
    service.last_reconcile = report
    return report


def trace(service: Any, stream: str, key: str) -> list[dict[str, Any]]:
    return _plain(service.store.trace(stream, key))


def run_now(service: Any, reason: str) -> dict[str, Any]:
    before, busy = service.syncs, service.running
    service.trigger(reason)
    # a sync already under way finishes first; the asked-for one is the run after it
    return {"queued": True, "pipeline": service.pipeline.name, "syncs_before": before + (1 if busy else 0)}


# -- the review queue (review before posting) ----------------------------------------------------------------------

def review_queue(service: Any, where: Any, limit: int, offset: int) -> dict[str, Any]:
    """A page of the review queue matching `where`, with the queue's counts."""
    from ..review import review_counts, review_items

    store, dest = service.store, service.pipeline.destination.connector
    items = review_items(store, where, destination=dest, limit=limit, offset=offset)
    return _plain({"pipeline": service.pipeline.name, "review": service.pipeline.review,
                   "counts": review_counts(store, dest), "limit": limit, "offset": offset,
                   "items": [i.to_dict() for i in items]})


def review_document(service: Any, key: str) -> dict[str, Any]:
    """One document as the ledger will receive it, beside the source rows it came from."""
    from ..review import review_document as document

    return _plain(document(service.store, key).to_dict())


def review_decide(service: Any, decision: str, by: str, *, keys: list[str] | None, where: Any,
                  reason: str | None = None) -> dict[str, Any]:
    """Approve or reject (keys, or every match of `where`). Approved documents post on a sync the service queues
    now (`trigger`): the decision and the posting run in series with the scheduler, never beside it."""
    from ..review import approve, reject

    selection = {"keys": keys} if keys is not None else {"where": where}
    if decision == "reject":
        # an approved document may be on its way to the ledger while a sync runs: reject between syncs only
        deadline = time.monotonic() + REJECT_WAIT_S
        while service.running and time.monotonic() < deadline:
            time.sleep(0.1)
        if service.running:
            raise ApiError(409, f"a sync of {service.pipeline.name} is posting now: reject when it has finished",
                           hint="try again in a moment; nothing was changed")
    if decision == "approve":
        done = approve(service.store, by, **selection)
    else:
        done = reject(service.store, by, reason=reason, **selection)
    out = _plain(done.to_dict())
    out["sync_queued"] = False
    if decision == "approve" and done.keys:
        before, busy = service.syncs, service.running
        service.trigger(f"{len(done.keys)} document(s) approved by {by}")
        out["sync_queued"], out["syncs_before"] = True, before + (1 if busy else 0)
    return out
