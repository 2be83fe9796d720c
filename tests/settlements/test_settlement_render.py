"""The journals in each ledger's shape: QBO JournalEntry and qbXML JournalEntryAdd, planned by the destinations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink import PlannedWrite, RecordError
from ledgerlink.settlements import Role, SettlementOnHold, SettlementOptions, journals_for
from ledgerlink_qb_desktop.plans import orders as qbd_plan
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.qbxml import add_request, check_limits
from ledgerlink_qb_desktop.plans.settlements import journal_entry_add, settlement_ref_number
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from ledgerlink_qbo.plans.settlements import journal_entry, settlement_doc_number
from settlement_helpers import PlanCtx, line, order_rows, settlement


def month_split():
    return settlement([*order_rows(1, "111-1", "20.00", posted="2025-08-30"),
                       line(5, "other-transaction", "other-transaction", "Storage Fee", "-7.00", posted="2025-08-31"),
                       *order_rows(10, "111-2", "50.00", posted="2025-09-02")],
                      start="2025-08-25", end="2025-09-08", deposit="2025-09-10", sid="24288684721")


def _signed(lines, posting_field):
    return sum((Decimal(str(l["Amount"])) * (1 if posting_field(l) == "Debit" else -1) for l in lines), Decimal(0))


def test_qbo_plans_a_balanced_journal_entry_per_month_with_the_key_and_the_rows():
    s = month_split()
    writes = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": {"mode": "summary"}}))
    assert [w.stream for w in writes] == ["JournalEntry", "JournalEntry"]
    aug, sep = (w.data for w in writes)
    assert aug["DocNumber"] == "24288684721-2025-08" and len(aug["DocNumber"]) <= 21
    assert aug["TxnDate"] == "2025-08-31" and sep["TxnDate"] == "2025-09-08"
    assert sep["PrivateNote"].split("\n")[0] == f"ledgerlink {writes[1].key}"
    assert writes[1].key == "JournalEntry:amazon_sp/settlement/24288684721/2025-09"
    assert writes[0].key in sep["PrivateNote"]  # linked to the other part
    for payload in (aug, sep):
        assert _signed(payload["Line"], lambda l: l["JournalEntryLineDetail"]["PostingType"]) == 0
        assert all(l["Amount"] > 0 and l["DetailType"] == "JournalEntryLineDetail" for l in payload["Line"])
    bank = [l for l in sep["Line"] if l["JournalEntryLineDetail"]["AccountRef"]["name"] == "Checking"]
    assert len(bank) == 1 and bank[0]["Amount"] == s.total.amount == Decimal("54.00")
    assert bank[0]["JournalEntryLineDetail"]["PostingType"] == "Debit"
    # every row is traceable from the document's lines
    assert sorted(int(ref.key.rsplit("/", 1)[1]) for w in writes for _, ref in w.line_refs) == \
        sorted(l.row for l in s.lines)
    sales_index = next(i for i, l in enumerate(aug["Line"]) if "Sales (principal)" in l["Description"])
    assert [ref.key for i, ref in writes[0].line_refs if i == sales_index] == ["24288684721/row/1"]
    assert "rows 1" in aug["Line"][sales_index]["Description"]


def test_qbo_uses_the_account_id_and_entity_from_the_account_map(tmp_path):
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  sales: Sales\n  commission: Fees\n  fba_fees: Fees\n"
                        "  bank: {name: Checking, id: '35'}\n"
                        "  payable_to_amazon: {name: Accounts Payable (A/P), entity: {type: Vendor, name: Amazon}}\n")
    ctx = PlanCtx({"settlements": {"accounts": str(accounts)}})
    (write,) = QuickBooksOnlineDestination().plan(settlement(order_rows(1, "111-1", "20.00")), ctx)
    bank = write.data["Line"][-1]["JournalEntryLineDetail"]
    assert bank["AccountRef"] == {"name": "Checking", "value": "35"}
    (write,) = QuickBooksOnlineDestination().plan(
        settlement([line(1, "other-transaction", "other-transaction", "Subscription Fee", "-39.99")], sid="2"),
        PlanCtx({"settlements": {"accounts": {"subscription": "Fees", "payable_to_amazon": {
            "name": "Accounts Payable (A/P)", "entity": {"type": "Vendor", "name": "Amazon"}}}}}))
    payable = write.data["Line"][-1]["JournalEntryLineDetail"]
    assert payable["Entity"] == {"Type": "Vendor", "EntityRef": {"name": "Amazon"}}
    assert payable["PostingType"] == "Credit"


def test_a_foreign_settlement_carries_its_currency_and_rate_to_qbo():
    s = settlement(order_rows(1, "701-1", "100.00", currency="CAD"), currency="CAD")
    (j,) = journals_for(s, SettlementOptions(home_currency="USD", exchange_rates={"CAD": "0.7312"}))
    payload = journal_entry(j)
    assert payload["CurrencyRef"] == {"value": "CAD"} and payload["ExchangeRate"] == Decimal("0.7312")
    (j,) = journals_for(s, SettlementOptions(home_currency="USD", exchange_rates={"CAD": "0.7312"}, convert=True))
    payload = journal_entry(j)
    assert payload["CurrencyRef"] == {"value": "USD"} and "ExchangeRate" not in payload


def test_qbd_plans_journal_entry_add_with_debit_and_credit_lines_that_fit_qbxml():
    s = month_split()
    writes = QuickBooksDesktopDestination().plan(s, PlanCtx({"settlements": {}}))
    assert len(writes) == 2
    for w in writes:
        body = w.data["JournalEntryAdd"]
        assert len(body["RefNumber"]) <= qbd_plan.REF_NUMBER_MAX
        assert body["Memo"].split("\n")[0] == f"ledgerlink {w.key}"
        debits = sum((l["Amount"] for l in body["JournalDebitLine"]), Decimal(0))
        credits = sum((l["Amount"] for l in body["JournalCreditLine"]), Decimal(0))
        assert debits == credits > 0
        add_request("JournalEntryAdd", body, "1")  # element order and names as qbXML 16 has them
        assert check_limits("JournalEntryAdd", body) == []
    assert [w.data["JournalEntryAdd"]["RefNumber"] for w in writes] == ["88684721-08", "88684721-09"]
    (single,) = QuickBooksDesktopDestination().plan(settlement(order_rows(1, "1", "5.00"), sid="24288684721"),
                                                   PlanCtx())
    assert single.data["JournalEntryAdd"]["RefNumber"] == "24288684721"
    # QuickBooks Desktop accepts the queued write (it is confirmed when the Web Connector polls)
    from ledgerlink import OutboundRecord
    dest = QuickBooksDesktopDestination()
    results = dest.write_batch("JournalEntry", [OutboundRecord(key=w.key, stream=w.stream, data=w.data) for w in writes])
    assert all(r.awaiting and r.ok for r in results), results


def test_qbd_line_refs_follow_the_document_order_debits_then_credits():
    s = settlement(order_rows(1, "111-1", "20.00"))
    (j,) = journals_for(s, SettlementOptions())
    payload, ordered = journal_entry_add(j)
    (w,) = QuickBooksDesktopDestination().plan(s, PlanCtx())
    body = payload["JournalEntryAdd"]
    lines = body["JournalDebitLine"] + body["JournalCreditLine"]
    for index, ref in w.line_refs:
        row = int(ref.key.rsplit("/", 1)[1])
        assert row in ordered[index].rows and "rows" in lines[index]["Memo"]


def test_a_settlement_on_hold_plans_nothing_and_says_why():
    s = settlement(order_rows(1, "111-1", "20.00"), total="99.00")
    for dest in (QuickBooksOnlineDestination(), QuickBooksDesktopDestination()):
        with pytest.raises(SettlementOnHold) as caught:
            dest.plan(s, PlanCtx())
        assert isinstance(caught.value, RecordError) and "total-amount is 99.00" in str(caught.value)


def test_orders_still_plan_as_before_and_other_objects_plan_nothing():
    from ledgerlink import Shipment
    # (stock levels plan inventory adjustments since issue 8: tests/inventory); a shipment is not the ledger's
    shipment = Shipment(source="x", shipment_id="S1", order_id="1")
    assert QuickBooksOnlineDestination().plan(shipment, PlanCtx()) == []
    assert QuickBooksDesktopDestination().plan(shipment, PlanCtx()) == []
    assert isinstance(QuickBooksOnlineDestination().plan(settlement(order_rows(1, "1", "5.00")), PlanCtx())[0],
                      PlannedWrite)
    assert settlement_doc_number(journals_for(settlement(order_rows(1, "1", "5.00")), SettlementOptions())[0]) \
        == "12345678901"
    assert settlement_ref_number(journals_for(settlement(order_rows(1, "1", "5.00"), sid="123456789012345"),
                                              SettlementOptions())[0]) != "123456789012345"
    assert Role.BANK.value == "bank"


def test_per_order_mode_refuses_a_clearing_account_other_than_where_orders_are_deposited():
    from ledgerlink import ConfigError

    s = settlement(order_rows(1, "111-1", "20.00"))
    ctx = PlanCtx({"deposit_account": "Amazon Clearing", "settlements": {"mode": "per_order"}})
    for dest in (QuickBooksOnlineDestination(), QuickBooksDesktopDestination()):
        with pytest.raises(ConfigError) as caught:
            dest.plan(s, PlanCtx(dict(ctx.options)))
        assert "'Amazon Clearing'" in str(caught.value) and "clearing: Amazon Clearing" in caught.value.hint
    ok = PlanCtx({"deposit_account": "Amazon Clearing",
                  "settlements": {"mode": "per_order", "accounts": {"clearing": "Amazon Clearing", "commission": "Fees",
                                                                      "fba_fees": "Fees", "bank": "Checking"}}})
    write, deposit = QuickBooksOnlineDestination().plan(s, ok)
    clearing = [l for l in write.data["Line"] if l["JournalEntryLineDetail"]["AccountRef"]["name"] == "Amazon Clearing"]
    # the orders closed (credit) and the payout put back (debit), which the deposit then takes to the bank
    assert [(l["JournalEntryLineDetail"]["PostingType"], l["Amount"]) for l in clearing] == [
        ("Credit", Decimal("20.00")), ("Debit", s.total.amount)]
    assert deposit.stream == "Deposit" and deposit.data["Line"][0]["DepositLineDetail"]["AccountRef"]["name"] == \
        "Amazon Clearing" and deposit.data["DepositToAccountRef"]["name"] == "Checking"
    # summary mode does not touch clearing, so it does not care
    assert QuickBooksOnlineDestination().plan(s, PlanCtx({"deposit_account": "Amazon Clearing"}))


def test_settlement_and_reconcile_options_do_not_stop_orders_from_planning():
    """Both QuickBooks destinations validate their options strictly: the settlement and reconcile sections
    must be known keys there, or every order in a pipeline that sets them would fail to plan."""
    from ledgerlink_qb_desktop.config import PostingOptions as DesktopOptions
    from ledgerlink_qbo.config import PostingOptions as OnlineOptions

    options = {"settlements": {"mode": "per_order", "accounts": "accounts.yaml"},
               "reconcile": {"settlement_gap_seconds": 5}}
    assert OnlineOptions.model_validate(options).settlements.mode == "per_order"  # typed sections (LedgerOptions)
    assert DesktopOptions.model_validate(options).reconcile.settlement_gap_seconds == 5
