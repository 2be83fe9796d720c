"""QuickBooks Desktop refunds as refund cheques (issue 19): with `returns.refund_document: refund_receipt` a
refund posts as its credit memo and a cheque from `refund_account` applied to it, both through the Web Connector
into the simulator; accounts receivable nets to zero and the money leaves the refund account. The default stays a
credit memo alone."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink import OutboundRecord, json_dumps, json_loads
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.sandbox import CompanyFile
from returns_helpers import PlanCtx, make_order, make_refund, sale_of
from sandbox_helpers import AwaitingQueue, ReferenceBook, bridge_session

QBD = QuickBooksDesktopDestination()


def _through_the_web_connector(company: CompanyFile, records: list[OutboundRecord]) -> AwaitingQueue:
    return bridge_session(company, records)


def test_a_refund_paid_back_by_cheque_posts_the_credit_memo_and_a_cheque_applied_to_it():
    order = make_order(tax_collected_by="seller")
    options = {"returns": {"refund_document": "refund_receipt", "refund_account": "Undeposited Funds"}}
    writes = QBD.plan(make_refund(shipping="5.00"), PlanCtx(QBD, options, sales=[sale_of(QBD, order)]))
    memo, check = [w for w in writes if w.stream in ("CreditMemo", "Check")]
    assert check.depends_on == [memo.key]
    add = check.data["CheckAdd"]
    total = sum((Decimal(str(l["Amount"])) for l in memo.data["CreditMemoAdd"]["CreditMemoLineAdd"]), Decimal(0))
    assert add["AccountRef"] == {"FullName": "Undeposited Funds"} and add["ExpenseLineAdd"][0]["Amount"] == total
    assert add["Memo"].split("\n")[0] == f"ledgerlink {check.key}" and memo.key in add["Memo"]

    company = CompanyFile()
    records = [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]
    first = _through_the_web_connector(company, [r for r in records if r.stream != "Check"])
    assert not first.failed and memo.key in first.confirmed, first.failed
    # the cheque goes once its credit memo is in QuickBooks (the bridge fills in the credit memo's TxnID)
    book = ReferenceBook({("qbd:txn", memo.key): first.confirmed[memo.key][0]})
    queue = bridge_session(company, [r for r in records if r.stream == "Check"], rounds=5, references=book)
    assert not queue.failed and check.key in queue.confirmed, queue.failed
    [cheque] = company.txns["Check"]
    assert Decimal(cheque["TotalAmount"]) == total
    assert company.txns["CreditMemo"][0]["CreditRemaining"] == "0.00"
    assert company.account_balance("Accounts Receivable") == 0  # the credit memo's credit, paid out
    assert company.account_balance("Undeposited Funds") == -total


def test_by_default_a_desktop_refund_is_a_credit_memo_alone():
    writes = QBD.plan(make_refund(), PlanCtx(QBD, sales=[sale_of(QBD, make_order())]))
    assert "Check" not in {w.stream for w in writes}
