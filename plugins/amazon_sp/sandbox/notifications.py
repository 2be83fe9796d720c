"""The sandbox's Notifications API v1: destinations and subscriptions, refusing what Amazon refuses.

Amazon splits the API by who authorises the call. createDestination, getDestinations, getDestination,
deleteDestination, getSubscriptionById and deleteSubscriptionById are **grantless**: they need an access token
Login with Amazon issued for the application itself (`grant_type=client_credentials`,
`scope=sellingpartnerapi::notifications`), and a seller's token is refused (403). createSubscription and
getSubscription act for a seller and need the seller's token (from the refresh token); a grantless token is
refused there. Checked as the model and Amazon's docs say: a destination names exactly one of `sqs` (an ARN) or
`eventBridge` (region and 12-digit account; one EventBridge destination per account); a subscription needs the
type's payload version and a destination of the workflow Amazon delivers that type through (the listings types
to EventBridge, the rest to SQS); one subscription per type and payload version (409); `eventFilter` and
`filterExpression` exclude each other.

`routes(api)` serves them next to the other families; `PLANS` adds their usage plans (1 request/s, burst 5).
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ledgerlink import json_loads

from ..notifications import EVENTBRIDGE_TYPES, PAYLOAD_VERSIONS
from .replies import refuse, reply

__all__ = ["PLANS", "routes", "NotificationsApi", "GRANTLESS_SCOPE", "GRANTLESS_OPERATIONS"]

GRANTLESS_SCOPE = "sellingpartnerapi::notifications"
GRANTLESS_OPERATIONS = frozenset({"createDestination", "getDestinations", "getDestination", "deleteDestination",
                                  "getSubscriptionById", "deleteSubscriptionById"})
PLANS: dict[str, tuple[float, int]] = {op: (1.0, 5) for op in (
    *GRANTLESS_OPERATIONS, "createSubscription", "getSubscription")}
_SQS_ARN = re.compile(r"^arn:aws:sqs:\S+:\S+:\S+")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_FILTER_TYPES = ("ANY_OFFER_CHANGED", "ORDER_CHANGE", "SHIPMENT_TRACKING_MILESTONE_CHANGED")
_FILTER_FIELDS = frozenset({"eventFilterType", "aggregationSettings", "marketplaceIds", "orderChangeTypes",
                            "trackingIdentifier"})
_ORDER_CHANGE_TYPES = ("BuyerRequestedChange", "DeliveryTipChange", "OrderStatusChange")
_SANDBOX_APPLICATION = "amzn1.sellerapps.app.sandbox"


class _Invalid(Exception):
    """400 InvalidInput with this message."""


class NotificationsApi:
    """The application's destinations and the seller's subscriptions."""

    def __init__(self, api: Any):
        self.api = api
        self.destinations: dict[str, dict[str, Any]] = {}
        #: (notificationType, payloadVersion) -> subscription
        self.subscriptions: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- gatekeeping: which kind of token, then faults and the usage plan ---------------------------------------
    def _gate(self, request: Request, operation: str) -> Response | None:
        token = request.headers.get("x-amz-access-token")
        if operation in GRANTLESS_OPERATIONS:
            if token not in self.api.grantless_tokens:
                why = ("this is a grantless operation: use an access token from Login with Amazon's "
                       "client_credentials grant with scope sellingpartnerapi::notifications"
                       if token in self.api.tokens else
                       "The access token you provided is revoked, malformed or invalid.")
                return self.api._count(operation, refuse(403, "Unauthorized", "Access to requested resource is "
                                                         "denied.", why))
        elif token not in self.api.tokens:
            why = ("a grantless token cannot act for a seller: use the seller's access token (refresh_token grant)"
                   if token in self.api.grantless_tokens else
                   "The access token you provided is revoked, malformed or invalid.")
            return self.api._count(operation, refuse(403, "Unauthorized", "Access to requested resource is denied.",
                                                     why))
        return self.api._admit(operation)

    async def _call(self, request: Request, operation: str, handler: Any) -> Response:
        refused = self._gate(request, operation)
        if refused is not None:
            return refused
        try:
            status, body = handler(request, await request.body())
        except _Invalid as exc:
            return self.api._count(operation, refuse(400, "InvalidInput", str(exc)))
        return self.api._count(operation, body if isinstance(body, Response) else reply(body, status))

    @staticmethod
    def _object(raw: bytes, what: str) -> dict[str, Any]:
        try:
            body = json_loads(raw) if raw else None
        except ValueError:
            raise _Invalid(f"The request body is not valid JSON ({what}).") from None
        if not isinstance(body, dict):
            raise _Invalid(f"The request body must be a JSON object ({what}).")
        return body

    # -- destinations (grantless) ---------------------------------------------------------------------------------
    def _create_destination(self, request: Request, raw: bytes) -> tuple[int, Any]:
        body = self._object(raw, "CreateDestinationRequest")
        name, spec = body.get("name"), body.get("resourceSpecification")
        unknown = sorted(set(body) - {"name", "resourceSpecification"})
        if unknown:
            raise _Invalid(f"Unknown field(s) in CreateDestinationRequest: {', '.join(unknown)}.")
        if not isinstance(name, str) or not name.strip() or len(name) > 256:
            raise _Invalid("name is required: a text of 1 to 256 characters.")
        if not isinstance(spec, dict):
            raise _Invalid("resourceSpecification is required.")
        kinds = [k for k in ("sqs", "eventBridge") if k in spec]
        if len(kinds) != 1 or set(spec) - {"sqs", "eventBridge"}:
            raise _Invalid("resourceSpecification must hold exactly one of sqs or eventBridge.")
        resource: dict[str, Any]
        if kinds == ["sqs"]:
            arn = (spec["sqs"] or {}).get("arn") if isinstance(spec["sqs"], dict) else None
            if not isinstance(arn, str) or len(arn) > 1000 or not _SQS_ARN.match(arn):
                raise _Invalid("sqs.arn must be an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:QUEUE).")
            resource, same = {"sqs": {"arn": arn}}, lambda d: d["resource"].get("sqs", {}).get("arn") == arn
        else:
            bridge = spec["eventBridge"] if isinstance(spec["eventBridge"], dict) else {}
            region, account = bridge.get("region"), bridge.get("accountId")
            if not isinstance(region, str) or not _REGION.match(region):
                raise _Invalid("eventBridge.region is required: an AWS region such as us-east-1.")
            if not isinstance(account, str) or not _ACCOUNT.match(account):
                raise _Invalid("eventBridge.accountId is required: the 12-digit AWS account id.")
            app = self.api.options.application_id or _SANDBOX_APPLICATION
            resource = {"eventBridge": {"name": f"aws.partner/sellingpartnerapi.amazon/{app}", "region": region,
                                        "accountId": account}}
            same = lambda d: d["resource"].get("eventBridge", {}).get("accountId") == account  # noqa: E731
        with self._lock:
            existing = next((d for d in self.destinations.values() if same(d)), None)
            if existing is not None:
                return 409, {"errors": [{"code": "Conflict", "message": "A destination for this resource already "
                             "exists (one EventBridge destination per AWS account).",
                             "details": f"destinationId: {existing['destinationId']}"}]}
            destination = {"name": name, "destinationId": str(uuid.uuid4()), "resource": resource}
            self.destinations[destination["destinationId"]] = destination
        return 200, {"payload": destination}

    def _get_destinations(self, request: Request, raw: bytes) -> tuple[int, Any]:
        with self._lock:
            return 200, {"payload": list(self.destinations.values())}

    def _destination(self, request: Request) -> dict[str, Any] | None:
        return self.destinations.get(request.path_params["destinationId"])

    def _get_destination(self, request: Request, raw: bytes) -> tuple[int, Any]:
        found = self._destination(request)
        if found is None:
            return 404, {"errors": [{"code": "NotFound", "message": "The destination was not found."}]}
        return 200, {"payload": found}

    def _delete_destination(self, request: Request, raw: bytes) -> tuple[int, Any]:
        with self._lock:
            found = self._destination(request)
            if found is None:
                return 404, {"errors": [{"code": "NotFound", "message": "The destination was not found."}]}
            if any(s["destinationId"] == found["destinationId"] for s in self.subscriptions.values()):
                return 409, {"errors": [{"code": "Conflict", "message": "The destination has subscriptions: delete "
                                         "them first."}]}
            del self.destinations[found["destinationId"]]
        return 200, {}

    # -- subscriptions --------------------------------------------------------------------------------------------
    @staticmethod
    def _type(request: Request) -> str:
        kind = request.path_params["notificationType"]
        if kind not in PAYLOAD_VERSIONS:
            raise _Invalid(f"{kind[:80]!r} is not a valid notificationType.")
        return kind

    @staticmethod
    def _directive(kind: str, directive: Any) -> None:
        if not isinstance(directive, dict) or set(directive) - {"eventFilter", "filterExpression"}:
            raise _Invalid("processingDirective may hold eventFilter or filterExpression only.")
        if "eventFilter" in directive and "filterExpression" in directive:
            raise _Invalid("eventFilter and filterExpression are mutually exclusive.")
        expression = directive.get("filterExpression")
        if expression is not None and (not isinstance(expression, str) or not 1 <= len(expression) <= 256):
            raise _Invalid("filterExpression must be a text of 1 to 256 characters.")
        event_filter = directive.get("eventFilter")
        if event_filter is not None:
            kind_of = event_filter.get("eventFilterType") if isinstance(event_filter, dict) else None
            if kind_of not in _FILTER_TYPES:
                raise _Invalid(f"eventFilter.eventFilterType is required: one of {', '.join(_FILTER_TYPES)}.")
            if kind_of != kind:
                raise _Invalid(f"eventFilterType {kind_of} does not apply to {kind} notifications.")
            unknown = sorted(set(event_filter) - _FILTER_FIELDS)
            if unknown:
                raise _Invalid(f"Unknown field(s) in eventFilter: {', '.join(unknown)}.")
            changes = event_filter.get("orderChangeTypes", [])
            if not isinstance(changes, list) or any(c not in _ORDER_CHANGE_TYPES for c in changes):
                raise _Invalid(f"orderChangeTypes must list values of {', '.join(_ORDER_CHANGE_TYPES)}.")
            markets = event_filter.get("marketplaceIds", [])
            if not isinstance(markets, list) or not all(isinstance(m, str) and m for m in markets):
                raise _Invalid("marketplaceIds must be a list of marketplace ids.")
            aggregation = event_filter.get("aggregationSettings")
            if aggregation is not None and (not isinstance(aggregation, dict) or aggregation.get(
                    "aggregationTimePeriod") not in ("FiveMinutes", "TenMinutes") or len(aggregation) != 1):
                raise _Invalid("aggregationSettings.aggregationTimePeriod must be FiveMinutes or TenMinutes.")

    def _create_subscription(self, request: Request, raw: bytes) -> tuple[int, Any]:
        kind = self._type(request)
        body = self._object(raw, "CreateSubscriptionRequest")
        unknown = sorted(set(body) - {"payloadVersion", "destinationId", "processingDirective"})
        if unknown:
            raise _Invalid(f"Unknown field(s) in CreateSubscriptionRequest: {', '.join(unknown)}.")
        version, destination_id = body.get("payloadVersion"), body.get("destinationId")
        if not isinstance(version, str) or not version or not isinstance(destination_id, str) or not destination_id:
            raise _Invalid("payloadVersion and destinationId are required.")
        if version != PAYLOAD_VERSIONS[kind]:
            raise _Invalid(f"payloadVersion {version[:40]!r} is not supported for {kind}: use "
                           f"{PAYLOAD_VERSIONS[kind]}.")
        if "processingDirective" in body:
            self._directive(kind, body["processingDirective"])
        with self._lock:
            destination = self.destinations.get(destination_id)
            if destination is None:
                raise _Invalid(f"destinationId {destination_id[:80]!r} does not exist: create the destination first.")
            wanted = "eventBridge" if kind in EVENTBRIDGE_TYPES else "sqs"
            if wanted not in destination["resource"]:
                raise _Invalid(f"{kind} notifications are delivered through the "
                               f"{'Amazon EventBridge' if wanted == 'eventBridge' else 'Amazon SQS'} workflow: "
                               f"subscribe them to an {wanted} destination.")
            existing = self.subscriptions.get((kind, version))
            if existing is not None:
                return 409, {"errors": [{"code": "Conflict", "message": f"A subscription for {kind} (payload "
                             f"version {version}) already exists.",
                             "details": f"subscriptionId: {existing['subscriptionId']}"}]}
            subscription = {"subscriptionId": str(uuid.uuid4()), "payloadVersion": version,
                            "destinationId": destination_id}
            if "processingDirective" in body:
                subscription["processingDirective"] = body["processingDirective"]
            self.subscriptions[(kind, version)] = subscription
        return 200, {"payload": subscription}

    def _get_subscription(self, request: Request, raw: bytes) -> tuple[int, Any]:
        kind = self._type(request)
        version = request.query_params.get("payloadVersion") or PAYLOAD_VERSIONS[kind]
        found = self.subscriptions.get((kind, version))
        if found is None:
            return 404, {"errors": [{"code": "NotFound", "message": f"No subscription for {kind} (payload version "
                                     f"{version[:40]})."}]}
        return 200, {"payload": found}

    def _by_id(self, request: Request) -> tuple[str, str, dict[str, Any]] | None:
        kind = self._type(request)
        wanted = request.path_params["subscriptionId"]
        for (k, version), found in self.subscriptions.items():
            if k == kind and found["subscriptionId"] == wanted:
                return k, version, found
        return None

    def _get_subscription_by_id(self, request: Request, raw: bytes) -> tuple[int, Any]:
        hit = self._by_id(request)
        if hit is None:
            return 404, {"errors": [{"code": "NotFound", "message": "The subscription was not found."}]}
        return 200, {"payload": hit[2]}

    def _delete_subscription_by_id(self, request: Request, raw: bytes) -> tuple[int, Any]:
        with self._lock:
            hit = self._by_id(request)
            if hit is None:
                return 404, {"errors": [{"code": "NotFound", "message": "The subscription was not found."}]}
            del self.subscriptions[(hit[0], hit[1])]
        return 200, {}

    # -- routes ---------------------------------------------------------------------------------------------------
    def endpoint(self, operation: str, handler: Any) -> Any:
        async def serve(request: Request) -> Response:
            return await self._call(request, operation, handler)
        return serve


def routes(api: Any) -> list[Route]:
    n = api.notifications = NotificationsApi(api)
    base = "/notifications/v1"
    return [
        Route(f"{base}/destinations", n.endpoint("getDestinations", n._get_destinations), methods=["GET"]),
        Route(f"{base}/destinations", n.endpoint("createDestination", n._create_destination), methods=["POST"]),
        Route(f"{base}/destinations/{{destinationId}}", n.endpoint("getDestination", n._get_destination),
              methods=["GET"]),
        Route(f"{base}/destinations/{{destinationId}}", n.endpoint("deleteDestination", n._delete_destination),
              methods=["DELETE"]),
        Route(f"{base}/subscriptions/{{notificationType}}", n.endpoint("getSubscription", n._get_subscription),
              methods=["GET"]),
        Route(f"{base}/subscriptions/{{notificationType}}",
              n.endpoint("createSubscription", n._create_subscription), methods=["POST"]),
        Route(f"{base}/subscriptions/{{notificationType}}/{{subscriptionId}}",
              n.endpoint("getSubscriptionById", n._get_subscription_by_id), methods=["GET"]),
        Route(f"{base}/subscriptions/{{notificationType}}/{{subscriptionId}}",
              n.endpoint("deleteSubscriptionById", n._delete_subscription_by_id), methods=["DELETE"]),
    ]
