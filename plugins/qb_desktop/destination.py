"""The QuickBooks Desktop destination: plans orders into qbXML-shaped payloads and queues them for the Web
Connector. QuickBooks Desktop cannot be called; it calls us. So `write_batch` never talks to QuickBooks: it
checks each payload against the qbXML element order and QuickBooks' field limits, and answers
`WriteResult(awaiting=True)`. The Web Connector service (`ledgerlink_qb_desktop.bridge`) sends the queued writes
when the Web Connector next polls, and settles each one through `AwaitingWrites`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, ClassVar

from ledgerlink import CanonicalObject, Destination, ObjectType, Order, OutboundRecord, PlanContext, PlannedWrite, \
    RecordError, WriteContext, WriteResult

from .auth import WebConnectorConnect
from .balances import read_balance
from .config import PostingOptions, QbdConfig
from .plans.orders import plan_order
from .plans.revisions import revise as revise_journal
from .plans.books import plan_deferred_transaction, plan_settlement_books
from .plans.refunds import plan_refund, plan_return
from .plans.inventory import plan_inventory
from .qbxml import add_request, check_limits

__all__ = ["QuickBooksDesktopDestination", "WRITE_ORDER", "split_payload"]

#: references first, then the documents that use them
WRITE_ORDER = ["Customer", "Item", "SalesReceipt", "Invoice", "CreditMemo", "Check", "ReceivePayment", "JournalEntry",
               "Deposit", "InventoryAdjustment", "Void"]
_REQUESTS = {
    "Customer": ("CustomerAdd", "CustomerMod"),
    "Item": ("ItemNonInventoryAdd", "ItemServiceAdd", "ItemInventoryAdd"),
    "SalesReceipt": ("SalesReceiptAdd",), "Invoice": ("InvoiceAdd",), "CreditMemo": ("CreditMemoAdd",),
    # a refund paid back by cheque (returns.refund_document: refund_receipt), applied to its credit memo
    "Check": ("CheckAdd",),
    "ReceivePayment": ("ReceivePaymentAdd",), "JournalEntry": ("JournalEntryAdd",), "Deposit": ("DepositAdd",),
    "InventoryAdjustment": ("InventoryAdjustmentAdd",),
    # a cancelled order's posted receipt or invoice (last: after anything queued for it in the same run)
    "Void": ("TxnVoid",),
}


def split_payload(stream: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(request kind, its fields) of an outbox payload: exactly one qbXML request key, plus private `_…` keys."""
    kinds = [k for k in data if not k.startswith("_")]
    allowed = _REQUESTS.get(stream)
    if allowed is None:
        raise RecordError(f"the qb_desktop destination cannot write {stream!r}", stream=stream,
                          hint=f"it writes {', '.join(WRITE_ORDER)}")
    if len(kinds) != 1 or kinds[0] not in allowed or not isinstance(data[kinds[0]], dict):
        raise RecordError(f"a {stream} payload is one object keyed by {' or '.join(allowed)}; got {kinds}",
                          stream=stream, field=kinds[0] if kinds else None)
    return kinds[0], data[kinds[0]]


#: canonical kind → the posting rules that plan it (a kind not listed plans nothing)
PLANNERS: dict[str, Callable[[Any, PlanContext], list[PlannedWrite]]] = {
    "order": plan_order, "settlement": plan_settlement_books, "refund": plan_refund, "return": plan_return,
    "inventory_level": plan_inventory, "deferred_transaction": plan_deferred_transaction,
}


class QuickBooksDesktopDestination(Destination):
    """Queues Customers, Items and SalesReceipts (and the other qbXML documents, written directly) for the
    QuickBooks Web Connector; they are confirmed when QuickBooks answers."""

    name: ClassVar[str] = "qb_desktop"
    #: the Web Connector password is set and the .qwc downloaded from the console (auth.py)
    connect_flow: ClassVar[WebConnectorConnect] = WebConnectorConnect()
    config_model = QbdConfig
    #: `destination.options`, checked when the pipeline is loaded
    options_model = PostingOptions
    documentation_url = "https://developer.intuit.com/app/developer/qbdesktop/docs/get-started"
    objects: ClassVar[list[ObjectType]] = [
        ObjectType("Customer", matching_keys=[["CustomerAdd", "Name"]]),
        ObjectType("Item", matching_keys=[["ItemNonInventoryAdd", "Name"]]),
        *(ObjectType(doc, matching_keys=[[f"{doc}Add", "RefNumber"]]) for doc in WRITE_ORDER[2:-1]),
        ObjectType("Void", matching_keys=[["TxnVoid", "TxnID"]]),
    ]
    write_order: ClassVar[list[str]] = WRITE_ORDER
    batch_size: ClassVar[int] = 200
    mappings: ClassVar[dict[str, tuple[str, str]]] = {
        name: ("ledgerlink_qb_desktop", f"mappings/{name}")
        for name in ("customer.json.j2", "item.json.j2", "sales_receipt.json.j2",
                     "credit_memo.json.j2", "restock.json.j2",  # returns: plans/refunds.py
                     "invoice.json.j2", "receive_payment.json.j2", "txn_void.json.j2", "cancel_credit_memo.json.j2")
    }

    def plan(self, obj: CanonicalObject, ctx: PlanContext) -> list[PlannedWrite]:
        planner = PLANNERS.get(obj.kind)
        return planner(obj, ctx) if planner is not None else []

    def revise(self, posted: Any, new_data: dict[str, Any], number: int) -> list[PlannedWrite]:
        """A posted document whose plan changed: its reversal or void, and the new version (plans/revisions.py)."""
        return revise_journal(posted, new_data, number)

    def open(self, config: Any, context: WriteContext) -> None:
        self.context = context
        self.config = config if isinstance(config, QbdConfig) else self.parse_config(config)

    def account_balance(self, config: Any, name: str) -> Decimal | None:
        """An account's balance, debits positive, as the Web Connector's last session that posted a journal or a
        deposit read it (balances.py), for `reconcile`'s clearing_residual and reserve_balance; None: never read."""
        return read_balance(getattr(self, "context", None) and self.context.references, name)

    def write_batch(self, stream: str, records: list[OutboundRecord]) -> list[WriteResult]:
        return [self._queue(stream, r) for r in records]

    @staticmethod
    def _queue(stream: str, record: OutboundRecord) -> WriteResult:
        try:
            kind, fields = split_payload(stream, record.data)
            add_request(kind, fields, "check")  # the schema's element order: unknown keys are refused here
            problems = check_limits(kind, fields)
        except RecordError as exc:
            if exc.key:
                return WriteResult(record.key, error=exc)
            return WriteResult(record.key, error=RecordError(exc.message, stream=stream, key=record.key,
                                                             hint=getattr(exc, "hint", None)))
        except (TypeError, ValueError) as exc:
            return WriteResult(record.key, error=RecordError(str(exc), stream=stream, key=record.key))
        if problems:
            field = problems[0].split(" ", 1)[0]
            return WriteResult(record.key, error=RecordError(
                "; ".join(problems), stream=stream, key=record.key, field=field,
                hint="shorten it in the mapping (QuickBooks Desktop refuses, it does not truncate)"))
        return WriteResult(record.key, awaiting=True)
