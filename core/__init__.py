"""ledgerlink: keeps an online store's books right.

This module is the public API: plugins import only what `__all__` names here.
"""

from . import commerce, protocol
from . import settlements  # settlement posting engine: roles, account maps, journals
from . import posting  # order-to-cash rules every ledger shares: documents, customers, items, tax
from . import inventory  # stock levels both ways: masters, the shared baseline, the drift check
from .commerce import (
    Address, CanonicalObject, Customer, Fee, InventoryLevel, Order, OrderLine, Product, Refund, RefundLine, Return,
    Settlement, SettlementLine, Shipment, ShipmentLine, SourceRef,
)
from .connectors import (
    CHECKPOINT, CheckContext, Checkpoint, ChildStream, Destination, HttpStream, LedgerDocument, Normaliser, ObjectType,
    OutboundRecord, PlanContext, PlannedWrite, PostedDocument, ReferenceCache, Source, Stream, StoreContext, WriteContext, WriteResult, idempotency_key, request_id,
    state_by_stream,
)
from .connectors import fields_schema  # issue 20: every stream declares its fields
from .encoded_record import EncodedRecord  # issue 18: a record handed over as the remote's JSON text
from .errors import (
    ConfigError, LedgerlinkError, MappingError, PermanentError, PipelineBusyError, RecordError, RemoteError,
    ThrottledError, TransientError,
)
from .http import HttpClient, Limit, OAuth2RefreshAuth, RetryPolicy, describe_error, parse_retry_after
from .jsonutil import dumps as json_dumps
from .jsonutil import loads as json_loads
from .mapping import MappingEngine
from .mapping import BUILTIN_FILTERS as MAPPING_FILTERS, mapping_value, register_native_mapping  # issue 18
from .money import Amount, Money, Quantity, quantize, to_decimal
from .plugins import hookimpl
from .sandbox import Sandbox, SandboxOptions
from .secrets import mask, register_secret
from .serve import ServeContext
from .served import served_client
from .validators import EARLIEST_DATE, LATEST_DATE, http_url, plausible_date  # config checks every connector shares
from . import web_limits  # limits on what a web caller may send: body size, JSON/XML nesting, query types
from .web_limits import (
    WEBHOOK_MAX_BYTES, BodyLimit, WebInputError, parse_untrusted_json, parse_untrusted_xml, query_int, read_body,
)
from .pipeline import Pipeline, load_pipeline
from .remote_waits import wait_in_run_budget, waiting_state  # waits for a remote that prepares data (issue 21)
from .store import AwaitingWrites, PipelineState
# connecting accounts from the console (issue 16): the contract a connector's `connect_flow` follows
from .connect import (ConnectedAccount, ConnectFlow, ConnectRefused, Download, FormConnect, FormField,
                      OAuthConnect)
from .connect.expiry import authorised_name, expiry_name  # when connected secrets stop working (issue 16)
# options checked before anything runs: the contract a connector declares its options with, and the checker
from . import options
from .options import Options, OptionProblem, OptionsError, Percent, Rate, check_options
from .options.ledger import LedgerOptions, ReconcileOptions
# books an accountant signs (issue 19): cost of goods and Amazon's deferred transactions
from . import cogs, deferred
from . import columnar  # issue 18: the columnar fast path (source SQL projections, destination column planners)
# the designer's pick-lists (issue 16): lists a destination reads when it can (QuickBooks Desktop) and keeps
from .ledger_lists import (LEDGER_LISTS, LEDGER_LISTS_WANTED, keep_ledger_list, kept_ledger_list, ledger_lists_wanted,
                           want_ledger_lists)

__version__ = "0.1.0"

__all__ = [
    "__version__", "hookimpl", "protocol", "commerce", "settlements", "posting", "inventory",
    "fields_schema",
    # connectors
    "Source", "Destination", "Stream", "HttpStream", "ChildStream", "Checkpoint", "CHECKPOINT", "Normaliser", "PlannedWrite",
    "OutboundRecord", "WriteResult", "WriteContext", "PlanContext", "ReferenceCache", "ObjectType", "StoreContext", "CheckContext",
    "idempotency_key", "request_id", "state_by_stream", "PostedDocument", "LedgerDocument", "EncodedRecord",
    # http
    "HttpClient", "Limit", "RetryPolicy", "OAuth2RefreshAuth", "describe_error", "parse_retry_after",
    # money and the canonical model
    "Money", "Amount", "Quantity", "quantize", "to_decimal", "CanonicalObject", "SourceRef", "Address", "Customer", "Product", "Order",
    "OrderLine", "InventoryLevel", "Shipment", "ShipmentLine", "Refund", "RefundLine", "Return", "Fee", "Settlement",
    "SettlementLine",
    # errors
    "LedgerlinkError", "ConfigError", "PipelineBusyError", "RecordError", "MappingError", "RemoteError",
    "TransientError", "ThrottledError", "PermanentError",
    # mapping, sandboxes, secrets, json
    "MappingEngine", "ServeContext", "served_client", "AwaitingWrites", "Pipeline", "PipelineState", "load_pipeline", "Sandbox", "SandboxOptions", "mask", "register_secret", "json_dumps", "json_loads",
    # web callbacks: body size cap, untrusted JSON/XML, typed query parameters
    "http_url", "plausible_date", "EARLIEST_DATE", "LATEST_DATE",
    "web_limits", "WebInputError", "BodyLimit", "read_body", "parse_untrusted_json", "parse_untrusted_xml", "query_int",
    "WEBHOOK_MAX_BYTES",
    # connecting accounts from the console (issue 16)
    "ConnectFlow", "OAuthConnect", "FormConnect", "FormField", "ConnectedAccount", "ConnectRefused", "Download",
    # performance (issue 18): default mappings written as Python, equal to their templates
    "register_native_mapping", "mapping_value", "MAPPING_FILTERS",
    # options checked before anything runs: `Destination.options_model`, its base and number types, the checker
    "options", "Options", "OptionProblem", "OptionsError", "Rate", "Percent", "check_options", "LedgerOptions",
    "ReconcileOptions",
    # books an accountant signs (issue 19): cost of goods and Amazon's deferred transactions
    "cogs", "deferred",
    # the designer's pick-lists (issue 16): the ledger's lists a destination keeps in its reference cache
    "expiry_name", "authorised_name",
    "LEDGER_LISTS", "LEDGER_LISTS_WANTED", "want_ledger_lists", "ledger_lists_wanted", "keep_ledger_list",
    "kept_ledger_list",
    # the columnar fast path of normalise + plan (issue 18): `columnar.register_order_projection`, `register_order_planner`
    "columnar",
    # a report a remote prepares: waited for in this run, or saved in the stream's state for the next (issue 21)
    "wait_in_run_budget", "waiting_state",
]
