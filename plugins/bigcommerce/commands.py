"""`ledgerlink bigcommerce webhooks create|list|check --pipeline FILE --destination-url URL`.

Subscriptions go through BigCommerce's `/v3/hooks` with the source config of the pipeline file (its base URL,
store hash, token and `webhook_secret`, which is sent back in every callback's `X-Ledgerlink-Webhook-Secret`).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ledgerlink import ConfigError, LedgerlinkError, json_dumps, load_pipeline, mask

from .client import bc_client
from .config import BigCommerceConfig
from .streams import get_json
from .webhooks import SCOPES, SECRET_HEADER

__all__ = ["bigcommerce_group", "load_source_config", "ensure_hooks", "check_hooks"]

def load_source_config(pipeline_file: str) -> BigCommerceConfig:
    source = load_pipeline(pipeline_file).source
    if source.connector != "bigcommerce":
        raise ConfigError("the pipeline's source is not bigcommerce", where="source.connector")
    config = source.config
    try:
        return BigCommerceConfig.model_validate(config)
    except Exception as exc:  # pydantic's message names the field
        raise ConfigError(mask(str(exc)).splitlines()[0], where="source.config") from None


def _hooks(client: Any) -> list[dict[str, Any]]:
    out, page = [], 1
    while True:
        body = get_json(client, "/v3/hooks", "getWebhooks", {"page": page, "limit": 250}) or {}
        out.extend(body.get("data") or [])
        pagination = (body.get("meta") or {}).get("pagination") or {}
        if page >= int(pagination.get("total_pages") or 1):
            return out
        page += 1


def ensure_hooks(config: BigCommerceConfig, destination: str) -> list[tuple[str, str, int]]:
    """Create (or reactivate and re-key) one hook per scope for `destination`: [(scope, action, id)]."""
    if not config.webhook_secret:
        raise ConfigError("webhook_secret is not set: the receiver could not verify any callback",
                          where="source.config.webhook_secret", hint="e.g. webhook_secret: ${BIGCOMMERCE_WEBHOOK_SECRET}")
    headers = {SECRET_HEADER: config.webhook_secret}
    done = []
    with bc_client(config) as client:
        existing = {(h["scope"], h["destination"]): h for h in _hooks(client)}
        for scope in SCOPES:
            hook = existing.get((scope, destination))
            body = {"scope": scope, "destination": destination, "is_active": True, "headers": headers}
            if hook is None:
                created = client.post("/v3/hooks", operation="createWebhook", bucket="store", json=body).json()["data"]
                done.append((scope, "created", int(created["id"])))
            elif hook.get("is_active") and (hook.get("headers") or {}) == headers:
                done.append((scope, "unchanged", int(hook["id"])))
            else:
                client.request("PUT", f"/v3/hooks/{hook['id']}", operation="updateWebhook", bucket="store", json=body)
                done.append((scope, "updated", int(hook["id"])))
    return done


def check_hooks(config: BigCommerceConfig, destination: str) -> list[str]:
    """What is wrong with the subscriptions for `destination` (empty: all good)."""
    problems = []
    with bc_client(config) as client:
        existing = {(h["scope"], h["destination"]): h for h in _hooks(client)}
    for scope in SCOPES:
        hook = existing.get((scope, destination))
        if hook is None:
            problems.append(f"{scope}: no subscription to {destination}")
        elif not hook.get("is_active"):
            problems.append(f"{scope}: hook {hook['id']} is inactive (BigCommerce deactivates failing hooks)")
        elif not config.webhook_secret or (hook.get("headers") or {}).get(SECRET_HEADER) != config.webhook_secret:
            problems.append(f"{scope}: hook {hook['id']} does not send the configured {SECRET_HEADER}")
    return problems


def _run(fn: Any) -> Any:
    try:
        return fn()
    except LedgerlinkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)


@click.group("bigcommerce")
def bigcommerce_group() -> None:
    """BigCommerce tools."""


@bigcommerce_group.group("webhooks")
def webhooks_group() -> None:
    """Subscribe a receiver to the store's order, inventory and shipment events (BigCommerce /v3/hooks)."""


_pipeline = click.option("--pipeline", "pipeline_file", required=True, type=click.Path(), help="pipeline YAML")
_url = click.option("--destination-url", required=True, help="public https URL of the receiver, e.g. "
                                                              "https://books.example.com/webhooks/bigcommerce")


@webhooks_group.command("create")
@_pipeline
@_url
def create(pipeline_file: str, destination_url: str) -> None:
    """Create the subscriptions (idempotent: existing ones are reactivated and re-keyed)."""
    config = _run(lambda: load_source_config(pipeline_file))
    for scope, action, hook_id in _run(lambda: ensure_hooks(config, destination_url)):
        click.echo(f"{scope}\t{action}\t{hook_id}")


@webhooks_group.command("list")
@_pipeline
@click.option("--destination-url", default=None, help="only hooks to this URL")
def list_(pipeline_file: str, destination_url: str | None) -> None:
    """List the store's hooks as JSON lines (custom header values masked)."""
    config = _run(lambda: load_source_config(pipeline_file))

    def fetch() -> list[dict[str, Any]]:
        with bc_client(config) as client:
            return _hooks(client)
    for hook in _run(fetch):
        if destination_url and hook.get("destination") != destination_url:
            continue
        shown = {**hook, "headers": {k: "***" for k in (hook.get("headers") or {})}}
        click.echo(json_dumps(shown))


@webhooks_group.command("check")
@_pipeline
@_url
def check(pipeline_file: str, destination_url: str) -> None:
    """Exit 0 when every scope is subscribed, active and sends the secret; else list what is wrong (exit 1)."""
    config = _run(lambda: load_source_config(pipeline_file))
    problems = _run(lambda: check_hooks(config, destination_url))
    for p in problems:
        click.echo(p)
    if problems:
        sys.exit(1)
    click.echo(f"ok: {len(SCOPES)} subscriptions to {destination_url}")
