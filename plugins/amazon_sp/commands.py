"""`ledgerlink amazon notifications subscribe|list|unsubscribe PIPELINE`: the seller's SP-API notification
subscriptions, made through the pipeline's own SP-API application and seller (its source config).

Amazon delivers the types a sync cares about (ORDER_CHANGE, REPORT_PROCESSING_FINISHED,
FBA_INVENTORY_AVAILABILITY_CHANGES, TRANSACTION_UPDATE) to an SQS queue; the listings types to EventBridge.
The queue reaches ledgerlink's receiver through an EventBridge Pipe and an API destination (docs/systems/amazon.md).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import click

from ledgerlink import ConfigError, LedgerlinkError, json_dumps, load_pipeline, mask

from .config import AmazonSPConfig
from .notifications import PAYLOAD_VERSIONS, SYNCING_TYPES
from .subscriptions import Destinations, NotificationsClient, check_types

__all__ = ["amazon_group", "load_source_config"]

DEFAULT_TYPES = ",".join(SYNCING_TYPES)


def load_source_config(pipeline_file: str) -> AmazonSPConfig:
    """The pipeline's Amazon source config, validated (ConfigError naming the field otherwise)."""
    source = load_pipeline(pipeline_file).source
    if source.connector != "amazon_sp":
        raise ConfigError(f"the pipeline's source is {source.connector}, not amazon_sp", where="source.connector",
                          hint="subscribe with the pipeline that reads the Amazon seller")
    try:
        return AmazonSPConfig.model_validate(source.config)
    except ValueError as exc:  # pydantic's message names the field
        raise ConfigError(mask(str(exc)).splitlines()[0], where="source.config") from None


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except LedgerlinkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)


@click.group("amazon")
def amazon_group() -> None:
    """Amazon Selling Partner API tools."""


@amazon_group.group("notifications")
def notifications_group() -> None:
    """Subscribe the seller to SP-API notifications, so Amazon's events start syncs (Notifications API v1)."""


_pipeline = click.argument("pipeline_file", metavar="PIPELINE", type=click.Path())
_types = click.option("--types", default=DEFAULT_TYPES, show_default=True,
                      help=f"notification types, comma-separated (known: {', '.join(sorted(PAYLOAD_VERSIONS))})")


@notifications_group.command("subscribe")
@_pipeline
@_types
@click.option("--sqs-arn", default=None, help="the SQS queue Amazon delivers to (ORDER_CHANGE and most types), "
                                               "e.g. arn:aws:sqs:us-east-1:123456789012:sp-api-notifications")
@click.option("--eventbridge-account", default=None, help="12-digit AWS account for EventBridge-workflow types "
                                                           "(the listings types)")
@click.option("--eventbridge-region", default=None, help="its AWS region, e.g. us-east-1")
@click.option("--destination-name", default="ledgerlink", show_default=True, help="names created destinations")
def subscribe(pipeline_file: str, types: str, sqs_arn: str | None, eventbridge_account: str | None,
              eventbridge_region: str | None, destination_name: str) -> None:
    """Create the destination(s) and subscribe each type (idempotent: existing subscriptions are kept)."""
    config = _run(lambda: load_source_config(pipeline_file))
    wanted = _run(lambda: check_types(types.split(",")))
    where = Destinations(sqs_arn, eventbridge_account, eventbridge_region, destination_name)

    def go() -> Any:
        with NotificationsClient(config) as client:
            return client.subscribe(wanted, where)
    for result in _run(go):
        click.echo(f"{result.notification_type}\t{result.action}\t{result.subscription_id}\t{result.destination_id}")


@notifications_group.command("list")
@_pipeline
@_types
def list_(pipeline_file: str, types: str) -> None:
    """The application's destinations and the seller's subscriptions to the types, as JSON lines."""
    config = _run(lambda: load_source_config(pipeline_file))
    wanted = _run(lambda: check_types(types.split(",")))

    def go() -> list[dict[str, Any]]:
        with NotificationsClient(config) as client:
            lines: list[dict[str, Any]] = [{"destination": d} for d in client.destinations()]
            for kind in wanted:
                lines.append({"notificationType": kind, "subscription": client.subscription(kind)})
            return lines
    for line in _run(go):
        click.echo(json_dumps(line))


@notifications_group.command("unsubscribe")
@_pipeline
@_types
def unsubscribe(pipeline_file: str, types: str) -> None:
    """Delete the seller's subscriptions to the types (destinations are kept: other sellers may use them)."""
    config = _run(lambda: load_source_config(pipeline_file))
    wanted = _run(lambda: check_types(types.split(",")))

    def go() -> Any:
        with NotificationsClient(config) as client:
            return client.unsubscribe(wanted)
    for result in _run(go):
        click.echo(f"{result.notification_type}\t{result.action}\t{result.subscription_id or ''}")
