"""Subscribing a seller to SP-API notifications through the Notifications API v1, with the pipeline's client.

Two tokens are involved, as Amazon requires. Destinations (createDestination, getDestinations) and deleting a
subscription (deleteSubscriptionById) are *grantless*: Login with Amazon issues the application's own token for
them (`grant_type=client_credentials`, `scope=sellingpartnerapi::notifications`); no seller authorises them.
createSubscription and getSubscription act for the seller, with the seller's token (the refresh token).

Amazon delivers each type through one workflow: the listings types to an EventBridge destination, everything
else (ORDER_CHANGE, REPORT_PROCESSING_FINISHED, FBA_INVENTORY_AVAILABILITY_CHANGES, TRANSACTION_UPDATE, ...) to an
SQS queue. `subscribe` creates (or finds) the destination each requested type needs and subscribes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ledgerlink import ConfigError, HttpClient, RemoteError

from .auth import LwaAuth, lwa_auth
from .client import read_json, sp_client
from .config import AmazonSPConfig
from .notifications import EVENTBRIDGE_TYPES, PAYLOAD_VERSIONS

__all__ = ["GrantlessAuth", "GRANTLESS_SCOPE", "Destinations", "NotificationsClient", "SubscriptionResult",
           "check_types"]

GRANTLESS_SCOPE = "sellingpartnerapi::notifications"
_BASE = "/notifications/v1"


class GrantlessAuth(LwaAuth):
    """LWA's client-credentials grant: the application's own access token for one scope, no seller involved."""

    def __init__(self, config: AmazonSPConfig, *, scope: str = GRANTLESS_SCOPE, transport: Any = None):
        super().__init__(str(config.lwa_endpoint), config.client_id, config.client_secret, "",
                         header="x-amz-access-token", prefix="", transport=transport)
        self.scope = scope

    def grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": self.scope}


@dataclass(frozen=True)
class Destinations:
    """Where the user's AWS account receives notifications: an SQS queue ARN and/or an EventBridge account."""

    sqs_arn: str | None = None
    eventbridge_account: str | None = None
    eventbridge_region: str | None = None
    name: str = "ledgerlink"

    def kind_for(self, notification_type: str) -> str:
        return "eventBridge" if notification_type in EVENTBRIDGE_TYPES else "sqs"

    def specification(self, kind: str) -> dict[str, Any]:
        if kind == "sqs":
            return {"sqs": {"arn": self.sqs_arn}}
        return {"eventBridge": {"region": self.eventbridge_region, "accountId": self.eventbridge_account}}


@dataclass(frozen=True)
class SubscriptionResult:
    """One notification type: what was done (created, exists, deleted, absent) and the ids involved."""

    notification_type: str
    action: str
    subscription_id: str | None = None
    destination_id: str | None = None


def check_types(types: Iterable[str]) -> list[str]:
    """The requested types, each one Amazon knows (ConfigError naming an unknown one)."""
    wanted = [t.strip().upper() for t in types if t.strip()]
    if not wanted:
        raise ConfigError("no notification type given", where="--types", hint="e.g. --types ORDER_CHANGE")
    unknown = [t for t in wanted if t not in PAYLOAD_VERSIONS]
    if unknown:
        raise ConfigError(f"unknown notification type {unknown[0]}", where="--types",
                          hint=f"one of {', '.join(sorted(PAYLOAD_VERSIONS))}")
    return list(dict.fromkeys(wanted))


class NotificationsClient:
    """The Notifications API calls `ledgerlink amazon notifications` needs, each with the token Amazon wants."""

    def __init__(self, config: AmazonSPConfig, *, transport: Any = None):
        self.config = config
        self.seller: HttpClient = sp_client(config, lwa_auth(config, transport=transport), transport=transport)
        self.grantless: HttpClient = sp_client(config, GrantlessAuth(config, transport=transport),
                                               transport=transport)

    def close(self) -> None:
        self.seller.close()
        self.grantless.close()

    def __enter__(self) -> "NotificationsClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- destinations (grantless) ----------------------------------------------------------------------------------
    def destinations(self) -> list[dict[str, Any]]:
        body = read_json(self.grantless.get(f"{_BASE}/destinations", operation="getDestinations")) or {}
        return list(body.get("payload") or [])

    def ensure_destination(self, where: Destinations, kind: str) -> tuple[str, bool]:
        """The id of the destination of `kind` for `where` (created when missing), and whether it was created."""
        if kind == "sqs" and not where.sqs_arn:
            raise ConfigError("these notification types are delivered to an SQS queue: name it", where="--sqs-arn",
                              hint="e.g. --sqs-arn arn:aws:sqs:us-east-1:123456789012:sp-api-notifications")
        if kind == "eventBridge" and not (where.eventbridge_account and where.eventbridge_region):
            raise ConfigError("these notification types are delivered to Amazon EventBridge: name the AWS account "
                              "and region", where="--eventbridge-account/--eventbridge-region",
                              hint="e.g. --eventbridge-account 123456789012 --eventbridge-region us-east-1")
        wanted = where.specification(kind)[kind]
        for found in self.destinations():
            resource = (found.get("resource") or {}).get(kind) or {}
            if all(resource.get(k) == v for k, v in wanted.items()):
                return str(found["destinationId"]), False
        body = {"name": f"{where.name}-{kind.lower()}", "resourceSpecification": where.specification(kind)}
        created = read_json(self.grantless.post(f"{_BASE}/destinations", operation="createDestination", json=body))
        return str(created["payload"]["destinationId"]), True

    # -- subscriptions --------------------------------------------------------------------------------------------
    def subscription(self, notification_type: str) -> dict[str, Any] | None:
        try:
            response = self.seller.get(f"{_BASE}/subscriptions/{notification_type}", operation="getSubscription",
                                       params={"payloadVersion": PAYLOAD_VERSIONS[notification_type]})
        except RemoteError as exc:
            if exc.status == 404:
                return None
            raise
        return (read_json(response) or {}).get("payload")

    def subscribe(self, types: list[str], where: Destinations) -> list[SubscriptionResult]:
        results, destinations = [], {}
        for kind in types:
            route = where.kind_for(kind)
            if route not in destinations:
                destinations[route] = self.ensure_destination(where, route)[0]
            existing = self.subscription(kind)
            if existing is not None:
                results.append(SubscriptionResult(kind, "exists", existing.get("subscriptionId"),
                                                  existing.get("destinationId")))
                continue
            body = {"payloadVersion": PAYLOAD_VERSIONS[kind], "destinationId": destinations[route]}
            created = read_json(self.seller.post(f"{_BASE}/subscriptions/{kind}", operation="createSubscription",
                                                 json=body))["payload"]
            results.append(SubscriptionResult(kind, "created", created["subscriptionId"], created["destinationId"]))
        return results

    def unsubscribe(self, types: list[str]) -> list[SubscriptionResult]:
        results = []
        for kind in types:
            existing = self.subscription(kind)
            if existing is None:
                results.append(SubscriptionResult(kind, "absent"))
                continue
            self.grantless.request("DELETE", f"{_BASE}/subscriptions/{kind}/{existing['subscriptionId']}",
                                   operation="deleteSubscriptionById")
            results.append(SubscriptionResult(kind, "deleted", existing["subscriptionId"],
                                              existing.get("destinationId")))
        return results
