"""Anomaly checks that accountants value: fee rates drifting per SKU, settlements missing, overlapping, held or
counted twice, deposits that differ, facilitator tax booked as a liability, tax rates drifting per region,
negative margins and missing costs, refunds with no restock, unreimbursed lost stock, refund and cancellation
spikes, orders not posted, a quiet Web Connector and a growing dead-letter queue.

Each finding says what it is in words, the rows behind it and the threshold it crossed (options:
`destination.options.anomalies`); a check whose data the pipeline lacks says why instead of passing. Findings
are kept in the pipeline's state with a stable fingerprint, so a person can acknowledge or snooze them.
`open_findings` is what alerts call."""

from .context import AnomalyContext
from .findings import ACTIONS, STATUSES, FindingBook
from .model import SEVERITIES, AnomalyFinding, AnomalyReport, NotApplicable, fingerprint
from .options import AnomalyOptions, parse_anomaly_options
from .registry import CHECKS, check_names, register, run_checks
from .service import (decide_findings, list_findings, open_findings, parse_thresholds, run_anomalies,
                      with_thresholds)

#: the console page that lists a pipeline's findings (for links in alerts)
CONSOLE_PAGE = "/anomalies"

__all__ = ["CONSOLE_PAGE", "AnomalyFinding", "AnomalyReport", "AnomalyOptions", "AnomalyContext", "NotApplicable",
           "FindingBook", "CHECKS", "ACTIONS", "STATUSES", "SEVERITIES", "check_names", "register", "run_checks", "run_anomalies",
           "open_findings", "list_findings", "decide_findings", "parse_anomaly_options", "fingerprint",
           "parse_thresholds", "with_thresholds"]
