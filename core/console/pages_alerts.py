"""The console's Alerts page: the rules in effect (or why the file is not), each channel with a "Send a test"
button, the outbox's recent messages, and the rules file itself — shown to bookkeepers, edited by admins (saved
only when it validates, so a typo never switches alerts off)."""

from __future__ import annotations

from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..alerts import DeliveryError
from ..errors import ConfigError
from .accounts import role_allows
from .api_alerts import alerts_view
from .auth import Principal, authenticate, check_csrf, require
from .errors import ApiError, read_json
from .pages import MAX_FIELD, _context, _error_page, _render, page

__all__ = ["alerts_page_routes", "STARTER_RULES"]

#: what the editor offers when the workspace has no alerts.yaml yet
STARTER_RULES = """\
# Alert rules for this workspace (see the alerts guide). Secrets are never written here:
# each channel names the environment variable that holds its password, secret or URL.
console_url: http://127.0.0.1:8700   # the console's address as people reach it (links point here)
timezone: UTC
digest_minutes: 15                    # events within this window go out as one message
quiet_hours: {start: "22:00", end: "07:00"}
channels:
  books:
    type: email
    host: smtp.example.com
    port: 587
    security: starttls
    username: alerts@example.com
    password_env: LEDGERLINK_SMTP_PASSWORD
    from: alerts@example.com
    to: [books@example.com]
rules:
  - name: needs a person
    events: [run_failed, dead_letters, reconcile_finding, anomaly, web_connector_silent, review_waiting]
    channels: [books]
"""


def _editor(role: str) -> Callable[..., Any]:
    """Like `page(role, action=True)`, for the one form whose field is a whole file (longer than MAX_FIELD)."""

    def wrap(handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            principal: Principal | None = None
            try:
                principal = await run_in_threadpool(authenticate, request.app.state.workspace, request)
                require(principal, role)
                form = await read_json(request)  # bounded (1 MB), as every console body
                check_csrf(principal, request, form)
                return await run_in_threadpool(handler, request, principal, form)
            except Exception as exc:
                return _error_page(request, exc, principal)

        run.__name__ = handler.__name__
        return run

    return wrap


def _show(request: Request, principal: Principal, code: int = 200, **extra: Any) -> Response:
    alerts = request.app.state.workspace.alerts
    view = alerts_view(alerts)
    messages = [m.to_dict() for m in alerts.outbox.messages(None, 50)]
    return _render(request, "alerts_page.html", code=code,
                   **_context(request, principal, view=view, messages=messages, starter=STARTER_RULES,
                              can_edit=role_allows(principal.role, "admin"), **extra))


@page("bookkeeper")
def alerts_page(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    return _show(request, principal)


@_editor("admin")
def save_rules(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    text = form.get("yaml")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "the rules are empty", where="form.yaml", hint="nothing was changed")
    try:
        workspace.alerts.save_text(text.replace("\r\n", "\n"))
    except ConfigError as exc:  # shown above the editor, with what was typed kept in it to fix
        return _show(request, principal, code=400, draft=text, save_error=str(exc))
    workspace.audit.record(principal.actor, "alert rules changed", target=workspace.alerts.path.name)
    return _show(request, principal, saved=True)


@page("admin", action=True)
def test_channel(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    channel = form.get("channel")
    if not isinstance(channel, str) or not channel or len(channel) > MAX_FIELD:
        raise ApiError(400, "name the channel to test", where="form.channel")
    try:
        workspace.alerts.send_test(channel)
        line = f"{channel}: a test message was sent"
        workspace.audit.record(principal.actor, "alert test sent", target=channel)
    except DeliveryError as exc:
        line = f"{channel}: not sent: {exc.message}"
        workspace.audit.record(principal.actor, "alert test failed", target=channel, detail={"error": exc.message})
    return _render(request, "done.html", **_context(request, principal, title="Alerts: send a test",
                                                    results=[line], back="/alerts"))


@page("bookkeeper", action=True)
def send_now(request: Request, principal: Principal, form: dict[str, Any]) -> Response:
    workspace = request.app.state.workspace
    if workspace.alerts.reload() is None:
        raise ApiError(409, "there are no alert rules in effect", hint=workspace.alerts.error or
                       "an admin writes them on this page")
    report = workspace.alerts.send_pending()
    workspace.audit.record(principal.actor, "alerts sent", detail=report.to_dict())
    lines = [f"sent {report.sent}, retrying later {report.retrying}, failed {report.failed}, "
             f"held for quiet hours {report.held}", *report.errors]
    return _render(request, "done.html", **_context(request, principal, title="Alerts: send pending",
                                                    results=lines, back="/alerts"))


def alerts_page_routes() -> list[Route]:
    return [
        Route("/alerts", alerts_page, methods=["GET"]),
        Route("/alerts/rules", save_rules, methods=["POST"]),
        Route("/alerts/test", test_channel, methods=["POST"]),
        Route("/alerts/send-pending", send_now, methods=["POST"]),
    ]
