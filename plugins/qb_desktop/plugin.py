"""Registers the QuickBooks Desktop destination, its stock source, its Web Connector service (mounted by
`ledgerlink serve` at /qbwc), its simulator and the `ledgerlink qbd` commands (entry point
`ledgerlink_qb_desktop.plugin`)."""

from __future__ import annotations

from typing import Any, Callable

from ledgerlink import hookimpl

MOUNT = "/qbwc"


@hookimpl
def register_connectors(register: Callable[[type], None]) -> None:
    from .destination import QuickBooksDesktopDestination
    from .source import QuickBooksDesktopSource

    # both are named `qb_desktop`: the host keys connectors by name and role
    register(QuickBooksDesktopSource)
    register(QuickBooksDesktopDestination)


@hookimpl
def register_sandboxes(register: Callable[[type], None]) -> None:
    from .sandbox import QuickBooksDesktopSimulator

    register(QuickBooksDesktopSimulator)


def service_for(context: Any) -> Any:
    """The Web Connector SOAP app for a served pipeline (or a no-op app when its destination is not qb_desktop)."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from .bridge import Company, WebConnectorBridge
    from .config import QbdConfig
    from .soap import qbwc_app

    if context.destination_connector != "qb_desktop":
        async def absent(request: Any) -> PlainTextResponse:
            return PlainTextResponse("this pipeline does not write to QuickBooks Desktop\n", status_code=404)
        return Starlette(routes=[Route("/", absent, methods=["GET", "POST"])])
    config = QbdConfig.model_validate(context.destination_config)
    # under `serve` the pipeline's state is open for the service's life; in the fleet, a gate opens it for each
    # Web Connector session under the pipeline's lease (its awaiting and references reach the open state)
    gate = getattr(context, "state_gate", None)
    company = Company(username=config.username, password_hash=config.password_hash, owner_id=config.owner_id,
                      file_id=config.file_id, company_file=config.company_file,
                      awaiting=gate.awaiting if gate is not None else context.awaiting,
                      references=gate.references if gate is not None else context.references,
                      gate=gate, label=config.company_file or context.pipeline_name,
                      requests_per_message=config.requests_per_message, ticket_ttl_s=config.ticket_ttl_s,
                      stock_snapshot=config.stock_snapshot,
                      stored_password_hash=_stored_hash(context, config.username))
    app = qbwc_app(WebConnectorBridge([company]), max_request_bytes=config.max_request_bytes)
    app.state.holds_state_per_session = gate is not None  # the fleet hosts only apps that say so
    return app


def _stored_hash(context: Any, username: str) -> Callable[[], str | None] | None:
    """The password hash set from the console's Connections page, read from the pipeline's credential store."""
    from .auth import stored_hash_name

    load = getattr(context, "load_credential", None)
    return (lambda: load(stored_hash_name(username))) if load is not None else None


@hookimpl
def register_status_lines(register: Callable[[str, Callable[..., Any]], None]) -> None:
    from .status import status_lines

    register("qb_desktop", status_lines)


@hookimpl
def register_web_routes(register: Callable[[str, Callable[[Any], Any]], None]) -> None:
    register(MOUNT, service_for)


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import qbd

    cli.add_command(qbd)
