"""The alerts API, `/api/v1/alerts…`: the rules (read by bookkeepers, replaced by admins, validated before they
are written), a test message per channel (admin), the outbox's messages, and sending what is due now."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..alerts import EVENT_KINDS, DeliveryError
from .api import Call, endpoint
from .errors import ApiError, field, int_param, str_param

__all__ = ["alerts_api_routes", "alerts_view", "MESSAGE_STATUSES"]

MESSAGE_STATUSES = ("pending", "sending", "sent", "failed", "all")


def alerts_view(alerts: Any) -> dict[str, Any]:
    """The rules file, whether it is in effect (and why not), its channels and rules, and the outbox's counts."""
    config = alerts.reload()
    return {
        "file": str(alerts.path), "exists": alerts.path.exists(), "in_effect": config is not None,
        "error": alerts.error, "yaml": alerts.text(), "event_kinds": list(EVENT_KINDS),
        "channels": [] if config is None else [
            {"name": name, "type": spec.type, "target": spec.target()} for name, spec in config.channels.items()],
        "rules": [] if config is None else [rule.model_dump() for rule in config.rules],
        "counts": alerts.outbox.counts(),
    }


@endpoint("bookkeeper")
def show_alerts(call: Call) -> Any:
    return alerts_view(call.workspace.alerts)


@endpoint("admin")
def replace_alerts(call: Call) -> Any:
    text = field(call.body, "yaml", str)
    call.workspace.alerts.save_text(text)  # a ConfigError (400) names the key; the file is then unchanged
    call.audit("alert rules changed", target=call.workspace.alerts.path.name)
    return alerts_view(call.workspace.alerts)


def send_test(call: Call, channel: str) -> dict[str, Any]:
    try:
        call.workspace.alerts.send_test(channel)
    except DeliveryError as exc:
        call.audit("alert test failed", target=channel, detail={"error": exc.message})
        raise ApiError(502, exc.message, where=f"channels.{channel}",
                       hint="fix the channel in alerts.yaml (or its environment variable) and send a test again")
    call.audit("alert test sent", target=channel)
    return {"channel": channel, "sent": True}


@endpoint("admin")
def test_channel(call: Call) -> Any:
    return send_test(call, field(call.body, "channel", str))


@endpoint("bookkeeper")
def list_messages(call: Call) -> Any:
    status = str_param(call.request, "status", choices=MESSAGE_STATUSES, default="all")
    messages = call.workspace.alerts.outbox.messages(None if status == "all" else status,
                                                     int_param(call.request, "limit", 50, high=10000))
    return [m.to_dict() for m in messages]


@endpoint("bookkeeper")
def send_pending(call: Call) -> Any:
    alerts = call.workspace.alerts
    if alerts.reload() is None:
        raise ApiError(409, "there are no alert rules in effect", where=alerts.path.name,
                       hint=alerts.error or "write alerts.yaml (see the alerts guide)")
    report = alerts.send_pending().to_dict()
    call.audit("alerts sent", detail=report)
    return report


def alerts_api_routes() -> list[Route]:
    return [
        Route("/alerts", show_alerts, methods=["GET"]),
        Route("/alerts", replace_alerts, methods=["PUT"]),
        Route("/alerts/test", test_channel, methods=["POST"]),
        Route("/alerts/messages", list_messages, methods=["GET"]),
        Route("/alerts/send-pending", send_pending, methods=["POST"]),
    ]
