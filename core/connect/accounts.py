"""The accounts of a workspace's pipelines, and connecting, checking and disconnecting them.

Every pipeline's source and destination whose connector has a `connect_flow` is an account *slot*. Slots of one
family naming the same account (two pipelines posting into QuickBooks company 9341…) are one account: its
secrets are stored once per credential store those pipelines read, so a refresh token one of them rotates is the
token the other uses next. A pipeline with no `credentials:` file of its own reads the workspace's store
(`.ledgerlink/credentials.sqlite` beside the pipeline files) as soon as it exists."""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, LedgerlinkError
from ..secrets import mask
from ..store.shared_credentials import SharedCredentials
from .flows import ConnectedAccount, ConnectFlow, ConnectRefused, Download, FormConnect, OAuthConnect, connect_flow_of
from .expiry import slot_expiries
from .states import ConnectStates

__all__ = ["WORKSPACE_CREDENTIALS", "workspace_credentials_path", "AccountSlot", "slots", "slot", "describe",
           "start_oauth", "finish_oauth", "connect_form", "disconnect", "check", "download", "plugin_url", "store_path",
           "connect_states"]

#: the workspace's credential store, relative to the folder of pipeline files
WORKSPACE_CREDENTIALS = Path(".ledgerlink") / "credentials.sqlite"
ROLES = ("source", "destination")
#: what a failed run or check says when the stored token no longer works (OAuth2RefreshAuth's wording, HTTP 401s)
_AUTH_WORDS = ("token refresh refused", "invalid_grant", "invalid_client", "re-authorise", "Unauthorized", "HTTP 401")


def workspace_credentials_path(folder: str | Path) -> Path:
    return Path(folder).resolve() / WORKSPACE_CREDENTIALS


@dataclass(frozen=True)
class AccountSlot:
    """A pipeline's source or destination that can be connected."""

    pipeline: str
    role: str
    connector: str
    flow: ConnectFlow
    config: Mapping[str, Any]
    #: the account the pipeline's config names (None: not named yet)
    account: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.flow.family, self.account or f"?{self.pipeline}.{self.role}")


def slots(workspace: Any) -> list[AccountSlot]:
    out = []
    for name in sorted(workspace.services):
        pipeline = workspace.services[name].pipeline
        for role in ROLES:
            section = pipeline.source if role == "source" else pipeline.destination
            try:
                cls = workspace.plugin_host.connector(section.connector, role)
            except LedgerlinkError:
                continue
            flow = connect_flow_of(cls)
            if flow is None:
                continue
            try:
                account = flow.account(section.config)
            except LedgerlinkError:
                account = None
            out.append(AccountSlot(name, role, section.connector, flow, section.config, account))
    return out


def slot(workspace: Any, pipeline: str, role: str) -> AccountSlot:
    workspace.service(pipeline)  # a clear "no pipeline named …" first
    if role not in ROLES:
        raise ConfigError(f"{role[:40]!r} is not a role", where="role", hint="source or destination")
    for s in slots(workspace):
        if s.pipeline == pipeline and s.role == role:
            return s
    raise ConfigError(f"the {role} of {pipeline} has no account to connect from the console", where="role",
                      hint="its connector keeps its credentials in the pipeline file (see its connector page)")


def peers(workspace: Any, target: AccountSlot) -> list[AccountSlot]:
    """The slots that use the same account as `target` (itself included)."""
    if target.account is None:
        return [target]
    return [s for s in slots(workspace) if s.key == target.key]


def store_path(workspace: Any, pipeline_name: str) -> Path:
    """Where a pipeline's connected secrets live: its own `credentials:` file, else the workspace's store."""
    pipeline = workspace.services[pipeline_name].pipeline
    if pipeline.credentials:
        return pipeline.credentials_path
    return workspace_credentials_path(pipeline.base_dir)


# -- state of each slot -------------------------------------------------------------------------------------------

_checks: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], dict[str, Any]]]" = weakref.WeakKeyDictionary()
_checks_lock = threading.Lock()


def _record_check(workspace: Any, s: AccountSlot, ok: bool, message: str) -> dict[str, Any]:
    result = {"ok": ok, "message": message, "at": time.time()}
    with _checks_lock:
        _checks.setdefault(workspace, {})[(s.pipeline, s.role)] = result
    return result


def _auth_problem(text: str | None, s: AccountSlot) -> bool:
    """A run's error that says this slot's stored token no longer works (a run names the side that failed:
    `destination qbo: token refresh refused …`)."""
    if not text or not any(w.lower() in text.lower() for w in _AUTH_WORDS):
        return False
    sides = [f"{role} " for role in ROLES]
    return not any(text.startswith(side) for side in sides) or text.startswith(f"{s.role} {s.connector}")


def describe(workspace: Any, s: AccountSlot) -> dict[str, Any]:
    """A slot as the Connections page and the API show it: whether it is connected, by whom and when, and when
    its stored token no longer works, which pipeline that stops and why."""
    path = store_path(workspace, s.pipeline)
    record = None
    if s.account is not None and path.exists():
        store = SharedCredentials(path)
        record = store.connection(s.flow.family, s.account)
        for legacy in s.flow.legacy_accounts(s.config) if record is None else []:
            record = record or store.connection(s.flow.family, legacy)
    service = workspace.services[s.pipeline]
    with _checks_lock:
        last_check = dict(_checks.get(workspace, {}).get((s.pipeline, s.role)) or {}) or None
    problem = None
    if last_check and not last_check["ok"]:
        problem = last_check["message"]
    elif last_check is None and _auth_problem(service.last_error, s):
        problem = mask(service.last_error or "")
    if problem is not None and record is not None and last_check is None and \
            (service.last_finished_at or 0) < record["connected_at"]:
        problem = None  # the failed run came before this connection
    status = "needs re-authorising" if problem and record else "failing" if problem else \
        "connected" if record else "not connected"
    return {"pipeline": s.pipeline, "role": s.role, "connector": s.connector, "kind": s.flow.kind,
            "title": s.flow.title, "account": s.account, "status": status, "problem": problem,
            "connected_by": record["connected_by"] if record else None,
            "connected_at": record["connected_at"] if record else None,
            "fields": [{"name": f.name, "label": f.label, "secret": f.secret, "default": f.default,
                        "required": f.required, "help": f.help} for f in s.flow.form_fields(s.config)],
            "files": list(s.flow.files),
            "expires": slot_expiries(workspace, s),
            "store": str(path), "shared_with": [f"{p.pipeline} ({p.role})" for p in peers(workspace, s)
                                                if (p.pipeline, p.role) != (s.pipeline, s.role)],
            "last_check": last_check}


# -- connecting -----------------------------------------------------------------------------------------------------

def connect_states(workspace: Any) -> ConnectStates:
    return ConnectStates(workspace.db)


def _values(flow: ConnectFlow, config: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, str]:
    """The form's values for the flow's fields, each a string; a required one missing is named."""
    out: dict[str, str] = {}
    for f in flow.form_fields(config):
        raw = values.get(f.name)
        value = raw.strip() if isinstance(raw, str) else ""
        if not value and f.required:
            raise ConnectRefused(f"{f.label} is required", where=f"form.{f.name}",
                                 hint="fill it in and submit again; nothing was stored")
        out[f.name] = value
    return out


def start_oauth(workspace: Any, pipeline: str, role: str, *, binding: str, actor: str, redirect_uri: str,
                values: Mapping[str, Any]) -> str:
    """The vendor consent URL to send the user to, with a fresh state bound to this session."""
    s = slot(workspace, pipeline, role)
    if not isinstance(s.flow, OAuthConnect):
        raise ConfigError(f"the {role} of {pipeline} is connected with a form, not a consent page", where="role",
                          hint="fill in its form on the Connections page")
    checked = _values(s.flow, s.config, values)
    state = connect_states(workspace).issue(binding=binding, actor=actor, pipeline=pipeline, role=role,
                                            redirect_uri=redirect_uri)
    return s.flow.authorize_url(s.config, state=state, redirect_uri=redirect_uri, values=checked)


def finish_oauth(workspace: Any, params: Mapping[str, str], *, binding: str) -> dict[str, Any]:
    """The vendor's redirect back: the state checked and used up, the vendor's refusal reported, the code
    exchanged, the account checked against the pipeline's, then every secret stored at once (or none)."""
    pending = connect_states(workspace).consume(params.get("state"), binding)
    s = slot(workspace, pending.pipeline, pending.role)
    assert isinstance(s.flow, OAuthConnect)
    error = params.get("error")
    if error:
        described = (params.get("error_description") or "")[:200]
        if error == "access_denied":
            raise ConnectRefused(f"consent was denied at {s.flow.title}: {pending.pipeline} is not connected",
                                 where="consent page", hint="Connect again and choose Allow (Connect) to let "
                                                             "ledgerlink use the account; nothing was stored")
        raise ConnectRefused(f"{s.flow.title} refused the connection: {error[:80]}"
                             + (f" ({described})" if described else ""), where="consent page",
                             hint="check the app's client id and redirect URI at the vendor; nothing was stored")
    connected = s.flow.finish(s.config, params, redirect_uri=pending.redirect_uri)
    return _store(workspace, s, connected, pending.actor)


def connect_form(workspace: Any, pipeline: str, role: str, values: Mapping[str, Any], *, actor: str) -> dict[str, Any]:
    s = slot(workspace, pipeline, role)
    if not isinstance(s.flow, FormConnect):
        raise ConfigError(f"the {role} of {pipeline} is connected through the vendor's consent page",
                          where="role", hint="use its Connect button")
    connected = s.flow.connect(s.config, _values(s.flow, s.config, values))
    return _store(workspace, s, connected, actor)


def _store(workspace: Any, s: AccountSlot, connected: ConnectedAccount, actor: str) -> dict[str, Any]:
    if s.account is not None and connected.account != s.account:
        raise ConnectRefused(f"{connected.label} was connected, but {s.pipeline}'s {s.role} names account "
                             f"{s.account}", where=f"{s.role}.config",
                             hint=f"connect the account the pipeline names, or change the pipeline file to name "
                                  f"{connected.account}; nothing was stored")
    targets = peers(workspace, s) if s.account is not None else [s]
    paths = list(dict.fromkeys(store_path(workspace, p.pipeline) for p in targets))
    for path in paths:
        SharedCredentials(path).connect(s.flow.family, connected.account, connected.label, connected.secrets, actor)
    with _checks_lock:
        for p in targets:
            _checks.get(workspace, {}).pop((p.pipeline, p.role), None)
    pipelines = sorted({p.pipeline for p in targets})
    workspace.audit.record(actor, "account connected", pipeline=s.pipeline,
                           target=f"{s.flow.family}:{connected.account}", detail={"pipelines": pipelines})
    return {"pipeline": s.pipeline, "role": s.role, "account": connected.account, "label": connected.label,
            "pipelines": pipelines, "stores": [str(p) for p in paths]}


def disconnect(workspace: Any, pipeline: str, role: str, *, actor: str) -> dict[str, Any]:
    """Forget the account's stored secrets in every store its pipelines read (after asking the vendor to revoke
    them, best effort): those pipelines stop until it is connected again."""
    s = slot(workspace, pipeline, role)
    if s.account is None:
        raise ConfigError(f"the {role} of {pipeline} names no account", where="role")
    targets = peers(workspace, s)
    names = s.flow.credential_names(s.config)
    revoked = None
    paths = [p for p in dict.fromkeys(store_path(workspace, t.pipeline) for t in targets) if p.exists()]
    for path in paths:
        store = SharedCredentials(path)
        if revoked is None and store.connection(s.flow.family, s.account) is not None:
            held = {n: v for n in names if (v := store.load(n))}
            try:
                revoked = s.flow.revoke(s.config, held) or ""
            except LedgerlinkError as exc:
                revoked = f"the vendor did not confirm the revocation: {mask(exc.message)}"
        store.disconnect(s.flow.family, s.account, names)
    pipelines = sorted({t.pipeline for t in targets})
    workspace.audit.record(actor, "account disconnected", pipeline=pipeline, target=f"{s.flow.family}:{s.account}",
                           detail={"pipelines": pipelines})
    return {"pipeline": pipeline, "role": role, "account": s.account, "pipelines": pipelines,
            "revoked": revoked or None}


def check(workspace: Any, pipeline: str, role: str) -> dict[str, Any]:
    """`check` of the slot's connector with the newest stored secrets, remembered for the Connections page."""
    from ..runtime.check import check_pipeline
    from .. import protocol

    s = slot(workspace, pipeline, role)
    service = workspace.services[pipeline]
    status = check_pipeline(service.pipeline, role, plugin_host=workspace.plugin_host, store=service.store)
    ok = status.status == protocol.Status.SUCCEEDED
    return {"pipeline": pipeline, "role": role,
            **_record_check(workspace, s, ok, "" if ok else mask(status.message or "check failed"))}


def download(workspace: Any, pipeline: str, role: str, name: str, *, base_url: str) -> Download:
    s = slot(workspace, pipeline, role)
    if name not in s.flow.files:
        raise ConfigError(f"no file {name[:40]!r} for the {role} of {pipeline}", where="file",
                          hint=f"files: {', '.join(s.flow.files) or 'none'}")
    return s.flow.download(s.config, name, plugin_url=lambda mount: plugin_url(workspace, base_url, pipeline, mount))


def plugin_url(workspace: Any, base_url: str, pipeline: str, mount: str) -> str:
    """Where the console serves a pipeline's plugin app mounted at `mount` (as `console.app.mount_paths` does:
    at the plugin's own path when the workspace serves one pipeline, under `/<pipeline>` when it serves several)."""
    prefix = f"/{pipeline}" if len(workspace.services) > 1 else ""
    return base_url.rstrip("/") + prefix + mount.rstrip("/") + "/"
