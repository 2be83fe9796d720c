"""Settlement journals posted into the QuickBooks Online sandbox and the QuickBooks Desktop simulator over their
real protocols, then read back: the documents hold the journal's lines and totals, and the bank line is the
settlement's total."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import httpx
import pytest

from ledgerlink import OutboundRecord, PlannedWrite, RetryPolicy, WriteContext, json_dumps, json_loads
from ledgerlink.settlements import BALANCE_SHEET_ROLES, Role, default_account_map
from ledgerlink_qb_desktop.bridge import Company, WebConnectorBridge
from ledgerlink_qb_desktop.destination import QuickBooksDesktopDestination
from ledgerlink_qb_desktop.passwords import hash_password
from ledgerlink_qb_desktop.sandbox import CompanyFile
from ledgerlink_qbo.destination import QuickBooksOnlineDestination
from sandbox_helpers import AwaitingQueue, ReferenceBook, sandbox_running
from settlement_helpers import PlanCtx, line, order_rows, settlement

INCOME = {Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.REIMBURSEMENTS}


def test_settlement():
    """A settlement over a month end, with fees, a reserve held and released, and MFT that nets to zero."""
    return settlement([*order_rows(1, "111-1", "20.00", shipping="4.99", tax="1.60", mft=True, posted="2025-08-30"),
                       line(8, "other-transaction", "other-transaction", "Storage Fee", "-7.00", posted="2025-08-31"),
                       *order_rows(10, "111-2", "50.00", promo="-5.00", posted="2025-09-02"),
                       line(20, "other-transaction", "other-transaction", "Previous Reserve Amount Balance", "30.00",
                            posted="2025-09-03"),
                       line(21, "other-transaction", "other-transaction", "Current Reserve Amount", "-25.00",
                            posted="2025-09-08")],
                      start="2025-08-25", end="2025-09-08", deposit="2025-09-10", sid="24288684799")


test_settlement.__test__ = False  # a fixture-like builder, not a test


def _account_type(role: Role) -> tuple[str, str]:
    """(QBO AccountType, qbXML AccountType) a bookkeeper would give the role's account."""
    if role == Role.BANK:
        return "Bank", "Bank"
    if role in BALANCE_SHEET_ROLES:
        return "Other Current Liability", "OtherCurrentLiability"
    if role in INCOME:
        return "Income", "Income"
    return "Expense", "Expense"


# ---------------------------------------------------------------------------------------- QuickBooks Online


def _outbox(writes: list[PlannedWrite]) -> list[OutboundRecord]:
    return [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]


def _accounts_for(writes: list[PlannedWrite]) -> list[OutboundRecord]:
    """Account writes for every account the journals name (the bookkeeper's chart of accounts)."""
    by_name = {acc.name: role for role, acc in reversed(list(default_account_map().accounts.items()))}
    names = sorted({(l.get("JournalEntryLineDetail") or l.get("DepositLineDetail"))["AccountRef"]["name"]
                    for w in writes for l in w.data["Line"]})
    return [OutboundRecord(key=f"Account:{n}", stream="Account",
                           data={"Name": n, "AccountType": _account_type(by_name[n])[0]}) for n in names]


def _write(dest, records):
    results = {}
    for stream in dest.write_order:
        batch = [r for r in records if r.stream == stream]
        if batch:
            for result in dest.write_batch(stream, batch):
                results[result.key] = result
    return results


@contextlib.contextmanager
def _qbo(**options):
    with sandbox_running("qbo", rotate_refresh_tokens=False, **options) as (url, sandbox), \
            httpx.Client(base_url=url, timeout=10) as http:
        o = sandbox.options
        config = {"base_url": url, "token_url": f"{url}/oauth2/v1/tokens/bearer", "realm_id": o.realm_id,
                  "client_id": o.client_id, "client_secret": o.client_secret, "refresh_token": o.refresh_token}
        stored: dict[str, str] = {}

        def open_destination():
            dest = QuickBooksOnlineDestination(retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002,
                                                                 jitter=False), sleep=lambda s: None)
            dest.open(dest.parse_config(config), WriteContext(save_credential=stored.__setitem__,
                                                              load_credential=stored.get))
            return dest
        yield open_destination, dest_api(http, sandbox)


@pytest.fixture
def qbo():
    with _qbo() as world:
        yield world


def dest_api(http: httpx.Client, sandbox):
    def get(tail: str) -> dict:
        o = sandbox.options
        token = http.post("/oauth2/v1/tokens/bearer", auth=(o.client_id, o.client_secret),
                          data={"grant_type": "refresh_token",
                                "refresh_token": sandbox.tokens._refresh_tokens[-1]}).json()["access_token"]
        r = http.get(f"/v3/company/{o.realm_id}/{tail}", params={"minorversion": "75"},
                     headers={"Accept": "application/json", "Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return json_loads(r.content)
    return get


@pytest.mark.parametrize("mode", ["summary", "per_order"])
def test_a_settlement_posts_into_qbo_and_reads_back_tied_to_the_bank(qbo, mode):
    open_destination, get = qbo
    s = test_settlement()
    writes = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": {"mode": mode}}))
    dest = open_destination()
    results = _write(dest, [*_accounts_for(writes), *_outbox(writes)])
    assert all(r.ok for r in results.values()), results
    deposits = Decimal(0)
    for w in writes:
        if w.stream == "Deposit":  # per-order mode: the payout goes from clearing to the bank by a deposit
            doc = get(f"deposit/{results[w.key].destination_id}")["Deposit"]
            assert mode == "per_order" and doc["PrivateNote"].split("\n")[0] == f"ledgerlink {w.key}"
            deposits += Decimal(str(doc["TotalAmt"]))
            continue
        doc = get(f"journalentry/{results[w.key].destination_id}")["JournalEntry"]
        assert doc["PrivateNote"].split("\n")[0] == f"ledgerlink {w.key}"
        assert doc["DocNumber"] == w.data["DocNumber"] and doc["TxnDate"] == w.data["TxnDate"]
        assert len(doc["Line"]) == len(w.data["Line"])
        debits = sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                      if l["JournalEntryLineDetail"]["PostingType"] == "Debit"), Decimal(0))
        credits = sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                       if l["JournalEntryLineDetail"]["PostingType"] == "Credit"), Decimal(0))
        assert debits == credits == Decimal(str(doc["TotalAmt"]))
        planned = sorted((l["JournalEntryLineDetail"]["AccountRef"]["name"], l["JournalEntryLineDetail"]["PostingType"],
                          Decimal(str(l["Amount"]))) for l in w.data["Line"])
        stored = sorted((l["JournalEntryLineDetail"]["AccountRef"].get("name") or _name(get, l), 
                         l["JournalEntryLineDetail"]["PostingType"], Decimal(str(l["Amount"]))) for l in doc["Line"])
        assert stored == planned
        deposits += sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                         if _name(get, l) == "Checking"), Decimal(0))
    assert deposits == s.total.amount == Decimal("58.99")
    # posting again (a new run, same outbox) creates nothing
    again = _write(open_destination(), _outbox(writes))
    assert all(r.ok and not r.created for r in again.values())
    assert {k: r.destination_id for k, r in again.items()} == {w.key: results[w.key].destination_id for w in writes}


def _post_to_qbo(world, s, options):
    open_destination, get = world
    writes = QuickBooksOnlineDestination().plan(s, PlanCtx({"settlements": options}))
    results = _write(open_destination(), [*_accounts_for(writes), *_outbox(writes)])
    assert all(r.ok for r in results.values()), results
    return writes, [get(f"journalentry/{results[w.key].destination_id}")["JournalEntry"] for w in writes
                    if w.stream == "JournalEntry"]


@pytest.mark.parametrize("mode", ["summary", "per_order"])
@pytest.mark.parametrize("name, total", [("v1_flatfile_CAD_settlement_24288684721.txt", Decimal("1016.08")),
                                         ("v1_flatfile_CAD_settlement_23874396421_negative_total.txt",
                                          Decimal("-321.69"))])
def test_the_real_amazon_ca_files_post_into_a_cad_qbo_company_and_tie_out(reference_dir, name, total, mode):
    from test_settlement_real_files import _parse

    s = _parse(reference_dir / "amazon-sp-api" / "settlement-reports" / name)
    with _qbo(home_currency="CAD") as world:
        writes, docs = _post_to_qbo(world, s, {"mode": mode, "home_currency": "CAD"})
        get = world[1]
        for doc in docs:
            assert Decimal(str(doc["TotalAmt"])) == sum((Decimal(str(l["Amount"])) for l in doc["Line"]
                                                         if l["JournalEntryLineDetail"]["PostingType"] == "Debit"),
                                                        Decimal(0))
        deposit = [(l["JournalEntryLineDetail"]["PostingType"], Decimal(str(l["Amount"]))) for doc in docs
                   for l in doc["Line"] if _name(get, l) in ("Checking", "Payable to Amazon")
                   and l["Description"].startswith(("Deposit", "Negative balance payable"))]
        if mode == "per_order" and total > 0:  # the payout is a Deposit from clearing, not a journal line
            (payout,) = [w for w in writes if w.stream == "Deposit"]
            deposit = [("Debit", Decimal(str(payout.data["Line"][0]["Amount"])))]
        assert deposit == [("Debit" if total > 0 else "Credit", abs(total))]


def _name(get, line) -> str:
    ref = line["JournalEntryLineDetail"]["AccountRef"]
    return ref.get("name") or get(f"account/{ref['value']}")["Account"]["Name"]


# ------------------------------------------------------------------------------------- QuickBooks Desktop


class _Queue(AwaitingQueue):
    """The AwaitingWrites the bridge drains; `confirmed` maps each key to QuickBooks' TxnID alone."""

    def confirm(self, key, destination_id, version=None, created=True):
        super().confirm(key, destination_id, version, created)
        self.confirmed[key] = destination_id


@pytest.mark.parametrize("mode", ["summary", "per_order"])
def test_a_settlement_posts_into_quickbooks_desktop_through_the_web_connector(qbxml_xsd, mode):
    s = test_settlement()
    dest = QuickBooksDesktopDestination()
    writes = dest.plan(s, PlanCtx({"settlements": {"mode": mode}}))
    records = [OutboundRecord(key=w.key, stream=w.stream, data=json_loads(json_dumps(w.data))) for w in writes]
    assert all(r.awaiting for stream in ("JournalEntry", "Deposit")
               for r in dest.write_batch(stream, [r for r in records if r.stream == stream]))
    names = {acc.name: role for role, acc in reversed(list(default_account_map().accounts.items()))}
    used = {l["AccountRef"]["FullName"] for w in writes if w.stream == "JournalEntry"
            for side in ("JournalDebitLine", "JournalCreditLine") for l in w.data["JournalEntryAdd"][side]}
    used |= {w.data["DepositAdd"]["DepositToAccountRef"]["FullName"] for w in writes if w.stream == "Deposit"}
    company_file = CompanyFile(accounts={n: _account_type(names[n])[1] for n in used}, xsd=str(qbxml_xsd))
    queue = _Queue(records)
    bridge = WebConnectorBridge([Company(username="qb", password_hash=hash_password("pw-123456", iterations=1000),
                                         owner_id="{0}", file_id="{F}", awaiting=queue, references=ReferenceBook(),
                                         company_file=r"C:\books.qbw")])
    ticket, _ = bridge.authenticate("qb", "pw-123456")
    sent = []
    for _ in range(5):
        request = bridge.send_request(ticket, "", r"C:\books.qbw", 16, 0)
        if not request:
            break
        sent.append(request)
        bridge.receive_response(ticket, company_file.handle(request), "", "")
    assert not queue.failed, queue.failed
    assert set(queue.confirmed) == {w.key for w in writes}
    posted = company_file.txns["JournalEntry"]
    journals = [w for w in writes if w.stream == "JournalEntry"]
    assert len(posted) == len(journals)
    by_key = {t["Memo"].split("\n")[0].removeprefix("ledgerlink "): t for t in posted}
    bank = sum((Decimal(t["TotalAmount"]) for t in company_file.txns.get("Deposit", [])), Decimal(0))
    assert bool(bank) == (mode == "per_order")  # per-order: the payout is a DepositAdd from clearing
    for w in journals:
        t = by_key[w.key]
        body = w.data["JournalEntryAdd"]
        assert t["TxnID"] == queue.confirmed[w.key] and t["RefNumber"] == body["RefNumber"]
        assert t["TxnDate"] == body["TxnDate"]
        debits = sum((Decimal(str(l["Amount"])) for l in body["JournalDebitLine"]), Decimal(0))
        assert Decimal(t["TotalAmount"]) == debits
        bank += sum((Decimal(str(l["Amount"])) for l in body["JournalDebitLine"]
                     if l["AccountRef"]["FullName"] == "Checking"), Decimal(0))
    assert bank == s.total.amount
    assert all("<JournalEntryAddRq" in r for r in sent[:1])
