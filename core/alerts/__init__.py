"""Alerts that reach a person: rules in the workspace's `alerts.yaml` turn what the served pipelines say (a failed
run, a dead-letter backlog, a reconcile finding, an anomaly, a silent Web Connector, a credential about to expire,
documents waiting for review) into e-mail, Slack-compatible and signed-webhook messages — deduplicated, batched
into digests, held in quiet hours, retried with backoff, and persisted before they are sent."""

from .config import ALERTS_FILE, EVENT_KINDS, AlertsConfig, alerts_path, load_alerts, parse_alerts, parse_alerts_text
from .delivery import DeliveryError
from .engine import SendReport, WorkspaceAlerts
from .events import AlertEvent, Condition
from .outbox import AlertOutbox, alerts_db_path
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, MESSAGE_HEADER, sign, verify
from .sources import AnomalyFinding, AnomalySource, TokenExpirySource

__all__ = ["ALERTS_FILE", "EVENT_KINDS", "AlertsConfig", "alerts_path", "load_alerts", "parse_alerts",
           "parse_alerts_text", "DeliveryError", "SendReport", "WorkspaceAlerts", "AlertEvent", "Condition",
           "AlertOutbox", "alerts_db_path", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "MESSAGE_HEADER", "sign", "verify",
           "AnomalyFinding", "AnomalySource", "TokenExpirySource"]
