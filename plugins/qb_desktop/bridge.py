"""The Web Connector bridge: what each QBWC call means for the queue of writes waiting for QuickBooks.

A Web Connector session is: authenticate → (sendRequestXML → receiveResponseXML)* → closeConnection. Each
sendRequestXML answers one qbXML message holding several requests, built from `AwaitingWrites.list()`; each
receiveResponseXML settles the keys whose requests were answered (`confirm` / `fail`).

Exactly once, in layers:
- before an Add is handed to the Web Connector, a "sent" mark is stored for its key in the pipeline's state
  file (the reference table), so it outlives this process;
- a key that carries a mark but whose answer never came (a lost response, an hresult, a restart) is never sent
  again blind: a query by Name or RefNumber (the key is in the Memo) says whether QuickBooks has it, and only a
  "not found" lets the Add go again;
- a key QuickBooks acknowledged is confirmed and leaves the queue, so it is never sent again.

Answered or lost, as for QuickBooks Online: a request QuickBooks *answered* with an error statusCode was not
saved (a qbXML Add is all or nothing), so its sent mark is cleared and it may go again blind (3170–3180 in a
later session, a 3140 after the repair, a dead letter after `ledgerlink dlq retry`). A request whose answer was
*lost* (an hresult, a connectionError, an unreadable response, a stopOnError message cut short, a restart)
keeps its mark and is looked up before it is sent again. A `requestID` here only pairs a request with its answer
in one message (QuickBooks Desktop does not replay by it), so a fresh one per message strands nothing. A Mod is
not marked: resent after a lost answer it meets a stale EditSequence (3200) if the first went through, and is
read again and re-applied with the same values.

Status codes: 0 confirms (ListID/TxnID and EditSequence); 1 and 500 (nothing found) answer queries; 3100 (name
in use) looks the object up and links it; 3140 (invalid reference) creates the missing customer or item from the
payload the document carries, then retries the document in the same stopOnError message; 3170–3180 (record in
use, save failed) resend in a later session; 3200 (stale EditSequence) re-queries and retries the Mod; anything
else is a dead letter with QuickBooks' statusMessage.

Stock: a company with a `stock_snapshot` file ends each session, once its writes are sent, with an
ItemInventoryQuery (paged by iterator) whose answers are written to that file for the `qb_desktop` source.
Balances: a session that posted a journal or a deposit ends with an AccountQuery whose balances are kept for
`ledgerlink reconcile` (see balances.py).

Name lists: when the designer has asked for the ledger's lists (`ledgerlink.want_ledger_lists`), the next session
ends with one message of AccountQuery, ItemQuery, SalesTaxCodeQuery, PaymentMethodQuery and ClassQuery (active
names only), each list kept whole in the reference cache for the designer's pick-lists (`keep_ledger_list`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ledgerlink import (LEDGER_LISTS_WANTED, OutboundRecord, PermanentError, RecordError, TransientError, json_dumps,
                        json_loads, keep_ledger_list, ledger_lists_wanted)

from .destination import split_payload
from .logins import LoginThrottle, ThrottlePolicy
from .passwords import verify_password
from .balances import BALANCE_STREAMS, save_balances
from .qbxml import QbxmlError, Request, Response, account_query, add_request, build_message, customer_query, \
    item_inventory_query, item_query, NAME_LISTS, name_list_query, negotiate_version, parse_response, \
    resolve_placeholders, txn_query
from .plans.orders import MEMO_PREFIX
from .stock import snapshot_row, write_snapshot

__all__ = ["Company", "WebConnectorBridge", "SENT", "CONTACT", "TXN", "LOGINS", "RESEND_LIMIT"]

log = logging.getLogger("ledgerlink.qb_desktop")

#: reference-cache kinds used as small persistent tables
SENT = "qbd:sent"
CONTACT = "qbd:contact"
#: user name → its recent login failures and lockout (JSON), for `ledgerlink qbd status` and across restarts
LOGINS = "qbd:logins"
#: a refused login's ticket is remembered this long (and at most this many), only so getLastError can explain it
_REFUSED_TICKET_S, _REFUSED_TICKETS = 300, 1000
#: outbox key → the TxnID QuickBooks gave that document (a payment refers to its invoice, a void to what it voids,
#: by a placeholder the bridge replaces with this when it builds the request)
TXN = "qbd:txn"
#: a record QuickBooks could not save (3170–3180) is resent in this many later sessions, then goes back to the sync
RESEND_LIMIT = 5
#: a document whose reference was recreated after 3140 and still gets 3140 for it is a dead letter; a document
#: may miss several references (its class, then its payment method): each is created once
REPAIR_LIMIT = 1
#: ... and at most this many different references are created for one document
MAX_REPAIRED_REFERENCES = 4
_INVALID_REF = re.compile(r'invalid reference to QuickBooks (\w[\w ]*?) "(.*?)"', re.S)
_STALE = 3200
#: what a user can do about a refusal, by statusCode
_HINTS = {
    3250: "the company file has this feature off; for a currency: turn on Multiple Currencies in QuickBooks (Edit → "
          "Preferences → Multiple Currencies) and set the destination option multicurrency: true, or post this "
          "currency to a company file whose home currency it is; then `ledgerlink dlq retry`",
    3210: "QuickBooks refused a value (a payment larger than the invoice's balance, a void of a paid invoice): fix "
          "the document in QuickBooks or the order in the channel, then `ledgerlink dlq retry`",
    3120: "the transaction it refers to is not in QuickBooks (deleted, or another customer's): check it in "
          "QuickBooks, then `ledgerlink dlq retry`",
}
_NOT_FOUND = (1, 500)


@dataclass
class Company:
    """One company file the Web Connector serves, with its own credentials and its own queue."""

    username: str
    password_hash: str
    owner_id: str
    file_id: str
    awaiting: Any  # ledgerlink.AwaitingWrites
    references: Any  # ledgerlink.ReferenceCache
    company_file: str = ""
    label: str = ""
    requests_per_message: int = 25
    ticket_ttl_s: int = 3600
    #: when set, each session ends with an ItemInventoryQuery whose answers are written here (see stock.py)
    stock_snapshot: str | None = None
    #: the hash of a password set from the console (auth.py), read at each login; None: `password_hash` only
    stored_password_hash: Callable[[], str | None] | None = None
    #: in the fleet: the pipeline's state is opened per session under its lease (ledgerlink.fleet.held_state's
    #: `StateGate`: open(ticket, until_s) → None or seconds to come back after, holds(ticket), close(ticket));
    #: None under `serve`, which holds the state for its whole life
    gate: Any = None

    def __post_init__(self) -> None:
        self.label = self.label or self.company_file or self.username

    def current_password_hash(self) -> str:
        """The password set from the console, when there is one, else the pipeline file's."""
        stored = self.stored_password_hash() if self.stored_password_hash is not None else None
        return stored or self.password_hash


@dataclass
class _Sent:
    """One request of a message in flight: what it was for."""

    action: str  # add | verify | link | ref | refresh | mod
    kind: str  # the request, e.g. SalesReceiptAdd
    key: str | None = None
    stream: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    #: how to create each reference a document uses (its payload's `_references`), for a 3140 repair
    refs: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Session:
    ticket: str
    company: Company | None
    expires: float
    version: tuple[int, int] | None = None
    in_flight: dict[str, _Sent] = field(default_factory=dict)
    sent_keys: set[str] = field(default_factory=set)
    last_error: str = ""
    settled: int = 0
    failed: int = 0
    messages: int = 0
    #: the next stock query page to ask for: ("Start", None), ("Continue", iteratorID), or None (asked, or off)
    stock_next: tuple[str, str | None] | None = None
    stock_rows: list[dict[str, Any]] = field(default_factory=list)
    #: a journal or deposit was posted: the session ends by reading the account balances (balances.py)
    balances_due: bool = False
    #: the designer asked for the ledger's name lists: they go once this session's writes and stock are done
    lists_wanted: bool = False
    #: list → names read so far this session, and how many list answers are still to come
    lists_read: dict[str, list[str]] = field(default_factory=dict)
    lists_pending: int = 0


@dataclass
class _Followup:
    """Requests that must go before new work (a look-up after 3100, a repair after 3140, a refresh after 3200)."""

    requests: list[tuple[_Sent, Callable[[str], Request]]]
    on_error: str = "continueOnError"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class WebConnectorBridge:
    """The state and rules behind the SOAP methods. Thread-safe; one instance per mounted service."""

    def __init__(self, companies: list[Company], *, clock: Callable[[], float] = time.monotonic,
                 login_policy: ThrottlePolicy | None = None):
        users = [c.username for c in companies]
        if len(set(users)) != len(users):
            raise ValueError("two company files share a Web Connector user name")
        self.companies = {c.username: c for c in companies}
        self._clock = clock
        self._lock = threading.RLock()
        self._sessions: dict[str, _Session] = {}
        self._followups: dict[str, list[_Followup]] = {c.username: [] for c in companies}
        self._busy: dict[str, set[str]] = {c.username: set() for c in companies}  # keys with a follow-up queued
        self._deferred: dict[str, dict[str, str]] = {c.username: {} for c in companies}  # key → ticket it was refused in
        self._resends: dict[str, int] = {}
        self._repairs: dict[str, int] = {}
        self._repaired: dict[str, set[str]] = {}  # key → references created for it after 3140
        self._seq = 0
        self.logins = LoginThrottle(login_policy, clock=clock)
        self._refused_logins: OrderedDict[str, tuple[str, float]] = OrderedDict()  # ticket → (why, until)
        for company in companies:
            self._restore_logins(company)

    # ------------------------------------------------------------------------------------------ sessions

    def _session(self, ticket: str | None, method: str) -> _Session | None:
        session = self._sessions.get(ticket or "")
        if session is None:
            log.warning("qbwc %s: unknown ticket %r (expired, from another service, or from before a restart)",
                        method, (ticket or "")[:40])
            return None
        if self._clock() > session.expires:
            log.warning("qbwc %s: ticket for %s expired", method, session.company.label if session.company else "-")
            del self._sessions[session.ticket]
            self._end(session, "ticket expired")
            return None
        return session

    def _contact(self, company: Company, event: str) -> None:
        try:
            company.references.put(CONTACT, company.file_id, _now_iso(), event)
        except Exception as exc:  # recording contact must never break a Web Connector call
            log.warning("qbwc: could not record last contact for %s: %s", company.label, exc)

    def authenticate(self, username: str | None, password: str | None, address: str | None = None) -> list[str]:
        """[ticket, ""|company file|"none"|"nvu"]. The password is never logged, nor compared in variable time.
        A user name or client `address` that keeps failing is refused before its password is checked (see
        logins.py); a refused login gets a ticket that opens no session, only an explanation for getLastError."""
        user = (username or "")[:200]
        refusal = self.logins.refusal(user, address)
        if refusal:
            log.warning("qbwc authenticate: refused without checking the password: %s", refusal)
            return self._refuse_login(f"ledgerlink: {refusal}.")
        company = self.companies.get(user)
        # outside the lock: a password check takes a while and must not hold up other sessions; an unknown user
        # costs the same check, so timing does not tell which user names exist
        valid = verify_password(password, company.current_password_hash() if company else self._any_hash)
        if company is None or not valid:
            self.logins.failed(user, address)
            self._save_logins(company)
            log.warning("qbwc authenticate: invalid user or password for user %r from %s", user[:100],
                        address or "an unknown address")
            return self._refuse_login("The user name or password is not valid for this service.")
        self.logins.succeeded(user, address)
        with self._lock:
            self._expire()
            ticket = str(uuid.uuid4())
            if company.gate is not None:
                wait = company.gate.open(ticket, company.ticket_ttl_s)
                if wait is not None:  # a sync holds the pipeline's state: come back later, nothing is touched
                    log.info("qbwc authenticate: %s is busy; the Web Connector is asked to come back in %d s",
                             company.label, wait)
                    return self._busy_login(ticket, wait)
            try:
                return self._start_session(company, ticket)
            except Exception:  # the state could not be read: in the fleet, let the pipeline's lease go at once
                if company.gate is not None:
                    self._sessions.pop(ticket, None)
                    company.gate.close(ticket, "authenticate failed")
                raise

    def _start_session(self, company: Company, ticket: str) -> list[str]:
        with self._lock:
            self._sessions[ticket] = _Session(ticket, company, self._clock() + company.ticket_ttl_s,
                                              stock_next=("Start", None) if company.stock_snapshot else None,
                                              lists_wanted=self._lists_wanted(company))
            self._deferred[company.username].clear()  # what could not be saved last session may go again
            self._contact(company, "authenticate")
            self._save_logins(company, only_if_recorded=True)
            if not self._has_work(company, self._sessions[ticket]):
                log.info("qbwc authenticate: %s has nothing to send", company.label)
                if company.gate is not None:  # nothing to do: the pipeline's state goes back to the syncs now
                    company.gate.close(ticket, "authenticate: nothing to send")
                return [ticket, "none"]
            log.info("qbwc authenticate: session for %s", company.label)
            return [ticket, company.company_file]

    @property
    def _any_hash(self) -> str:
        return next(iter(self.companies.values())).password_hash if self.companies else ""

    def _busy_login(self, ticket: str, wait: float) -> list[str]:
        """[ticket, "busy", seconds]: the Web Connector postpones the update (QBWC's third element)."""
        seconds = max(1, int(wait + 0.999))
        with self._lock:
            self._refused_logins[ticket] = (f"ledgerlink: the pipeline is syncing; come back in {seconds} s.",
                                            self._clock() + _REFUSED_TICKET_S)
            while len(self._refused_logins) > _REFUSED_TICKETS:
                self._refused_logins.popitem(last=False)
        return [ticket, "busy", str(seconds)]

    def _refuse_login(self, why: str) -> list[str]:
        ticket = str(uuid.uuid4())
        with self._lock:
            self._refused_logins[ticket] = (why, self._clock() + _REFUSED_TICKET_S)
            while len(self._refused_logins) > _REFUSED_TICKETS:
                self._refused_logins.popitem(last=False)
        return [ticket, "nvu"]

    def _refused_login(self, ticket: str | None) -> str | None:
        entry = self._refused_logins.get(ticket or "")
        return entry[0] if entry and self._clock() <= entry[1] else None

    def _save_logins(self, company: Company | None, only_if_recorded: bool = False) -> None:
        """Record a company user's login failures in the state file (what `qbd status` shows)."""
        if company is None:
            return
        try:
            if only_if_recorded and not company.references.get(LOGINS, company.username):
                return
            company.references.put(LOGINS, company.username, json_dumps(self.logins.user_report(company.username)))
        except Exception as exc:  # recording must never break a login
            log.warning("qbwc: could not record login failures for %s: %s", company.label, exc)

    def _restore_logins(self, company: Company) -> None:
        try:
            recorded = company.references.get(LOGINS, company.username)
            if recorded:
                self.logins.restore_user(company.username, json_loads(recorded))
        except Exception as exc:  # a damaged record must not stop the service
            log.warning("qbwc: could not read recorded login failures for %s: %s", company.label, exc)

    def _expire(self) -> None:
        now = self._clock()
        for t in [t for t, s in self._sessions.items() if now > s.expires]:
            self._end(self._sessions.pop(t), "ticket expired")

    @staticmethod
    def _end(session: _Session, event: str) -> None:
        """A session is over: in the fleet, the pipeline's state goes back to the syncs."""
        if session.company is not None and session.company.gate is not None:
            session.company.gate.close(session.ticket, event)

    def _held(self, session: _Session, method: str) -> bool:
        """Whether the session may touch the pipeline's state (always under `serve`; in the fleet, while it
        holds the lease)."""
        company = session.company
        if company is None or company.gate is None or company.gate.holds(session.ticket):
            return True
        session.last_error = ("ledgerlink: this session ran past its time (or lost the pipeline's lease); the "
                              "Web Connector's next run starts a new one.")
        log.warning("qbwc %s: the session for %s no longer holds the pipeline; stopped", method, company.label)
        return False

    def close(self, ticket: str | None) -> str:
        with self._lock:
            session = self._sessions.pop(ticket or "", None)
            if session is None:
                return ("ledgerlink: not signed in." if self._refused_logins.pop(ticket or "", None)
                        else "ledgerlink: unknown or expired session.")
            if session.company is None:
                return "ledgerlink: not signed in."
            self._contact(session.company, "closeConnection")
            self._end(session, "closeConnection")
            unanswered = len(session.in_flight)
            if unanswered:
                log.warning("qbwc closeConnection: %d request(s) of %s never answered; they are checked before "
                            "being sent again", unanswered, session.company.label)
            return (f"ledgerlink: {session.settled} written, {session.failed} refused, in {session.messages} "
                    f"message(s).")

    def last_error(self, ticket: str | None) -> str:
        with self._lock:
            session = self._sessions.get(ticket or "")
            if session is None:
                return self._refused_login(ticket) or ("ledgerlink: unknown or expired session ticket; the next "
                                                       "scheduled run starts a new session.")
            return session.last_error or "ledgerlink: no error."

    def connection_error(self, ticket: str | None, hresult: str | None, message: str | None) -> str:
        """The Web Connector could not reach QuickBooks: log it, keep every queued write, stop this session."""
        with self._lock:
            session = self._session(ticket, "connectionError")
            label = session.company.label if session and session.company else "unknown session"
            log.error("qbwc connectionError from %s: hresult %s: %s", label, (hresult or "")[:40], (message or "")[:500])
            if session is not None:
                session.last_error = f"QuickBooks could not be reached: {hresult} {message}"
                session.in_flight.clear()  # their sent marks stay: they are checked before being sent again
                if session.company:
                    self._contact(session.company, f"connectionError {hresult}")
                    self._end(session, "connectionError")  # "done": this session writes nothing more
            return "done"

    # ------------------------------------------------------------------------------------------ sending

    def _request_id(self) -> str:
        self._seq += 1
        return f"{self._seq}"

    @staticmethod
    def _lists_wanted(company: Company) -> bool:
        try:
            return ledger_lists_wanted(company.references)
        except Exception as exc:  # a wish that cannot be read must never break a login
            log.warning("qbwc: could not read whether %s's lists are wanted: %s", company.label, exc)
            return False

    def _has_work(self, company: Company, session: _Session) -> bool:
        if self._followups[company.username] or session.stock_next or session.lists_wanted:
            return True
        return any(True for _ in self._candidates(company, session, 1))

    def _candidates(self, company: Company, session: _Session, limit: int):
        busy, deferred = self._busy[company.username], self._deferred[company.username]
        found = 0
        for record in company.awaiting.list(limit=limit + len(session.sent_keys) + len(busy) + len(deferred)):
            if record.key in session.sent_keys or record.key in busy or record.key in deferred:
                continue
            yield record
            found += 1
            if found >= limit:
                return

    def send_request(self, ticket: str | None, hcp_response: str | None, company_file: str | None,
                     major: int | None, minor: int | None) -> str:
        """The next qbXML message for this session, or "" when there is nothing (more) to do."""
        with self._lock:
            session = self._session(ticket, "sendRequestXML")
            if session is None or session.company is None or not self._held(session, "sendRequestXML"):
                return ""
            company = session.company
            self._contact(company, "sendRequestXML")
            if company.company_file and company_file and company_file.strip().lower() != company.company_file.lower():
                session.last_error = (f"this ticket is for {company.company_file}, not {company_file}; nothing was sent")
                log.error("qbwc sendRequestXML: ticket for %s used with company file %r; refused",
                          company.label, company_file[:300])
                return ""
            if session.version is None:
                session.version = negotiate_version(major, minor)
                if session.version is None:
                    session.last_error = (f"QuickBooks speaks qbXML {major}.{minor}; ledgerlink needs 13.0 or newer "
                                          "(QuickBooks 2014 or later)")
                    log.error("qbwc sendRequestXML: %s", session.last_error)
                    return ""
            requests, on_error = self._next_requests(company, session)
            if not requests:
                return ""
            session.messages += 1
            session.in_flight.update({r.request_id: sent for sent, r in requests})
            log.info("qbwc sendRequestXML: %d request(s) to %s (qbXML %d.%d, %s)", len(requests), company.label,
                     *session.version, on_error)
            return build_message([r for _, r in requests], session.version, on_error)

    def _next_requests(self, company: Company, session: _Session) -> tuple[list[tuple[_Sent, Request]], str]:
        queue = self._followups[company.username]
        if queue and queue[0].on_error == "stopOnError":  # a dependent pair travels alone, stopping on error
            follow = queue.pop(0)
            return [(sent, build(self._request_id())) for sent, build in follow.requests], "stopOnError"
        out: list[tuple[_Sent, Request]] = []
        while queue and queue[0].on_error == "continueOnError" and len(out) < company.requests_per_message:
            for sent, build in queue.pop(0).requests:
                out.append((sent, build(self._request_id())))
        for record in self._candidates(company, session, company.requests_per_message - len(out)):
            session.sent_keys.add(record.key)
            try:
                out.append(self._request_for(company, record))
            except Exception as exc:  # a payload that cannot be built: refuse that one record, send the rest
                log.error("qbwc: %s cannot be sent: %s", record.key, exc)
                self._fail(company, session, record.key, PermanentError(
                    f"cannot build its qbXML request: {getattr(exc, 'message', exc)}",
                    hint=getattr(exc, "hint", None)))
        if not out and not queue and session.balances_due and not session.stock_next:
            session.balances_due = False  # the writes moved accounts reconcile reads: read the balances
            out.append((_Sent("balances", "AccountQuery"), account_query(self._request_id())))
        if not out and not queue and session.stock_next:  # the session's writes are done: read the stock
            iterator, iterator_id = session.stock_next
            session.stock_next = None
            out.append((_Sent("stock", "ItemInventoryQuery"),
                        item_inventory_query(self._request_id(), iterator=iterator, iterator_id=iterator_id)))
        if not out and not queue and session.lists_wanted:  # writes and stock done: the designer's name lists
            session.lists_wanted = False
            session.lists_pending = len(NAME_LISTS)
            out.extend((_Sent("lists", kind), name_list_query(kind, self._request_id())) for kind in NAME_LISTS)
        return out, "continueOnError"

    # ------------------------------------------------------------------ documents that refer to documents

    def _resolve(self, company: Company, record: OutboundRecord, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload with each TxnID placeholder (a payment's invoice, a void's receipt) replaced by the TxnID
        QuickBooks gave that document. The outbox sends a record only after the documents it depends on are
        confirmed, so an unknown one is a dead letter, not a wait."""
        def txn_id(ref_key: str) -> str:
            found = company.references.get(TXN, ref_key)
            if not found:
                raise RecordError(f"{ref_key} has no QuickBooks TxnID on record, so {record.key} cannot refer to it",
                                  stream=record.stream, key=record.key,
                                  hint=f"check that {ref_key} was posted (`ledgerlink dlq list`), then "
                                       "`ledgerlink dlq retry`")
            return found
        return resolve_placeholders(payload, txn_id)

    def _request_for(self, company: Company, record: OutboundRecord) -> tuple[_Sent, Request]:
        kind, payload = split_payload(record.stream, record.data)
        payload = self._resolve(company, record, payload)
        request_id = self._request_id()
        if kind.endswith("Mod"):
            return _Sent("mod", kind, record.key, record.stream, payload), add_request(kind, payload, request_id)
        if company.references.get(SENT, record.key):
            # sent before and never answered: ask QuickBooks before sending it again
            log.info("qbwc: %s was sent before without an answer; looking it up first", record.key)
            sent = _Sent("verify", kind, record.key, record.stream, payload, refs=record.data.get("_references") or {})
            return sent, _lookup(kind, payload, request_id)
        request = add_request(kind, payload, request_id)
        company.references.put(SENT, record.key, request_id, kind)  # durable before it leaves
        return _Sent("add", kind, record.key, record.stream, payload, refs=record.data.get("_references") or {}), request

    # ---------------------------------------------------------------------------------------- receiving

    def receive_response(self, ticket: str | None, response: str | None, hresult: str | None,
                         message: str | None) -> int:
        """Settle what QuickBooks answered; return the percentage done (100: finished, negative: error)."""
        with self._lock:
            session = self._session(ticket, "receiveResponseXML")
            if session is None:
                return -1
            company = session.company
            if company is None or not self._held(session, "receiveResponseXML"):
                return -1  # its requests keep their sent marks: they are looked up before being sent again
            self._contact(company, "receiveResponseXML")
            if hresult:
                session.last_error = f"QuickBooks could not process the request: {hresult} {message or ''}".strip()
                log.error("qbwc receiveResponseXML from %s: hresult %s: %s; %d request(s) will be checked before "
                          "being sent again", company.label, hresult[:40], (message or "")[:500], len(session.in_flight))
                self._unanswered(company, session)
                return -1
            try:
                responses = parse_response(response or "")
            except QbxmlError as exc:
                session.last_error = f"the qbXML response could not be read: {exc}"
                log.error("qbwc receiveResponseXML from %s: %s; %d request(s) will be checked before being sent "
                          "again", company.label, exc, len(session.in_flight))
                self._unanswered(company, session)
                return -1
            for rs in responses:
                sent = session.in_flight.pop(rs.request_id or "", None)
                if sent is None:
                    log.warning("qbwc receiveResponseXML from %s: a %sRs for requestID %r we never sent (or already "
                                "settled); ignored", company.label, rs.kind, (rs.request_id or "")[:40])
                    continue
                try:
                    self._settle(company, session, sent, rs)
                except Exception as exc:  # one bad answer must not lose the others
                    what = sent.key or sent.name or ""
                    session.last_error = f"the answer to {sent.kind} {what} could not be used: {exc}"
                    log.exception("qbwc: settling %s failed: %s", sent.key, exc)
            self._unanswered(company, session)
            remaining = (sum(1 for _ in self._candidates(company, session, 1)) + len(self._followups[company.username])
                         + (1 if session.stock_next else 0) + (1 if session.balances_due else 0)
                         + (1 if session.lists_wanted else 0))
            if not remaining:
                return 100
            done = session.settled + session.failed
            return max(1, min(99, int(100 * done / (done + remaining)) if done else 1))

    def _unanswered(self, company: Company, session: _Session) -> None:
        """Requests of the last message with no answer (stopped by stopOnError, or the whole answer lost): their
        sent marks stay, so they are looked up before being sent again; they may go again in this session."""
        for sent in session.in_flight.values():
            if sent.key:
                session.sent_keys.discard(sent.key)
                self._busy[company.username].discard(sent.key)
        session.in_flight.clear()

    def _settle(self, company: Company, session: _Session, sent: _Sent, rs: Response) -> None:
        code, key = rs.status_code, sent.key
        handler = getattr(self, f"_on_{sent.action}")
        log.debug("qbwc: %s %s → %s %s", sent.action, key or sent.name, code, rs.message[:200])
        handler(company, session, sent, rs, code, key)

    def _confirm(self, company: Company, session: _Session, key: str, ret: dict[str, Any] | None, stream: str | None,
                 created: bool) -> None:
        ret = ret or {}
        dest_id = ret.get("TxnID") or ret.get("ListID")
        company.references.put(SENT, key, "")
        if ret.get("TxnID") and stream not in ("Customer", "Item"):
            company.references.put(TXN, key, str(ret["TxnID"]))
        name = ret.get("FullName") or ret.get("Name")
        if stream in ("Customer", "Item") and name and ret.get("ListID"):
            company.references.put(stream, str(name), str(ret["ListID"]), ret.get("EditSequence"))
        company.awaiting.confirm(key, dest_id, ret.get("EditSequence"), created=created)
        self._busy[company.username].discard(key)
        session.settled += 1
        session.balances_due = session.balances_due or stream in BALANCE_STREAMS

    def _fail(self, company: Company, session: _Session, key: str, error: Exception, *, retry: bool = False) -> None:
        company.references.put(SENT, key, "")
        company.awaiting.fail(key, error, retry=retry)
        self._busy[company.username].discard(key)
        session.failed += 1

    def _refused(self, rs: Response, sent: _Sent) -> PermanentError:
        return PermanentError(f"QuickBooks statusCode {rs.status_code} on {sent.kind}: {rs.message}",
                              code=str(rs.status_code), hint=_HINTS.get(rs.status_code))

    def _on_add(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str) -> None:
        if code == 0:
            self._confirm(company, session, key, rs.first, sent.stream, created=True)
        elif code == 3100:  # the name is taken: find the object and link it
            self._queue(company, key, [(_Sent("link", sent.kind, key, sent.stream, sent.payload),
                                        lambda rid: _lookup(sent.kind, sent.payload, rid))])
        elif code == 3140:
            self._repair(company, session, sent, rs)
        elif 3170 <= code <= 3180:
            self._resend_later(company, session, sent, rs)
        else:
            log.error("qbwc: %s refused by QuickBooks: %s %s", key, code, rs.message[:500])
            self._fail(company, session, key, self._refused(rs, sent))

    def _on_verify(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str) -> None:
        if code == 0 and (found := _match(sent, rs.rets, key)) is not None:
            log.info("qbwc: %s was already in QuickBooks (an earlier answer was lost); linked", key)
            self._confirm(company, session, key, found, sent.stream, created=True)
        elif code == 0 or code in _NOT_FOUND:
            log.info("qbwc: %s is not in QuickBooks; sending it", key)
            company.references.put(SENT, key, "")
            session.sent_keys.discard(key)  # may go again in this session
        else:
            log.warning("qbwc: looking up %s failed (%s %s); will look again next time", key, code, rs.message[:300])

    def _on_link(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str) -> None:
        found = _match(sent, rs.rets, key, require_marker=False) if code == 0 else None
        if found is not None:
            log.info("qbwc: %s already existed in QuickBooks; linked to %s", key, found.get("ListID"))
            self._confirm(company, session, key, found, sent.stream, created=False)
        else:
            name = sent.payload.get("Name")
            self._fail(company, session, key, PermanentError(
                f"QuickBooks says the name {name!r} is in use, but not by a {sent.stream} (names are shared by "
                "customers, vendors, employees and other names)", code="3100",
                hint="rename the other record in QuickBooks, or map this one to another name"))

    def _on_ref(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str | None):
        if code == 0 or code == 3100:
            log.info("qbwc: created missing reference %s (%s)", sent.name, code)
        else:
            log.error("qbwc: creating missing reference %s failed: %s %s", sent.name, code, rs.message[:300])

    def _on_mod(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str) -> None:
        if code == 0:
            self._confirm(company, session, key, rs.first, sent.stream, created=False)
        elif code == _STALE and self._repairs.get(key, 0) < 3:
            self._repairs[key] = self._repairs.get(key, 0) + 1
            log.info("qbwc: %s had a stale EditSequence; re-reading it", key)
            self._queue(company, key, [(_Sent("refresh", sent.kind, key, sent.stream, sent.payload),
                                        lambda rid: _lookup(sent.kind, sent.payload, rid, by_id=True))])
        elif 3170 <= code <= 3180:
            self._resend_later(company, session, sent, rs)
        else:
            self._fail(company, session, key, self._refused(rs, sent))

    def _on_refresh(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str):
        ret = rs.first if code == 0 else None
        if not ret or not ret.get("EditSequence"):
            self._fail(company, session, key, PermanentError(
                f"{sent.kind} {sent.payload.get('ListID')} could not be re-read ({code} {rs.message})", code=str(code)))
            return
        payload = {**sent.payload, "EditSequence": ret["EditSequence"]}
        self._queue(company, key, [(_Sent("mod", sent.kind, key, sent.stream, payload),
                                    lambda rid: add_request(sent.kind, payload, rid))])

    def _on_stock(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str | None):
        """A page of inventory items: ask for the next, or write the snapshot once the last page is in."""
        if code not in (0, *_NOT_FOUND):
            session.last_error = f"the stock query was refused: {code} {rs.message}"
            log.error("qbwc: %s; the stock snapshot of %s is not updated", session.last_error, company.label)
            return
        session.stock_rows.extend(snapshot_row(r) for r in rs.rets if r.get("_type") == "ItemInventoryRet")
        if code == 0 and rs.iterator_remaining and rs.iterator_id:
            session.stock_next = ("Continue", rs.iterator_id)
            return
        try:
            write_snapshot(company.stock_snapshot or "", session.stock_rows, file_id=company.file_id)
        except OSError as exc:
            session.last_error = f"the stock snapshot could not be written: {exc}"
            log.error("qbwc: %s", session.last_error)
            return
        log.info("qbwc: stock of %d inventory item(s) of %s written to %s", len(session.stock_rows), company.label,
                 company.stock_snapshot)

    def _on_balances(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int,
                     key: str | None) -> None:
        """The chart of accounts with balances: kept for reconcile (a refusal leaves the last ones, logged)."""
        if code != 0:
            session.last_error = f"the account balances could not be read: {code} {rs.message}"
            log.error("qbwc: %s (%s)", session.last_error, company.label)
            return
        log.info("qbwc: balances of %d account(s) of %s read", save_balances(company.references, rs.rets),
                 company.label)
    def _on_lists(self, company: Company, session: _Session, sent: _Sent, rs: Response, code: int, key: str | None):
        """One name list's answer; once all are in, each list read is kept whole and the wish is forgotten (a
        refused query is said in the session's last error; the other lists are kept all the same)."""
        session.lists_pending -= 1
        if code in (0, *_NOT_FOUND):
            names = [str(r.get("FullName") or r.get("Name") or "") for r in rs.rets
                     if str(r.get("IsActive", "true")).lower() != "false"]
            session.lists_read[NAME_LISTS[sent.kind]] = [n for n in names if n]
        else:
            session.last_error = f"the {sent.kind} for the designer's lists was refused: {code} {rs.message}"
            log.error("qbwc: %s", session.last_error)
        if session.lists_pending > 0:
            return
        for kind, names in session.lists_read.items():
            keep_ledger_list(company.references, kind, names)
        company.references.delete(LEDGER_LISTS_WANTED, "*")
        log.info("qbwc: the name lists of %s kept for the designer: %s", company.label,
                 ", ".join(f"{k} {len(v)}" for k, v in session.lists_read.items()))
        session.lists_read = {}

    def _resend_later(self, company: Company, session: _Session, sent: _Sent, rs: Response) -> None:
        key = sent.key or ""
        company.references.put(SENT, key, "")  # QuickBooks did not save it: a resend cannot duplicate
        self._resends[key] = self._resends.get(key, 0) + 1
        if self._resends[key] > RESEND_LIMIT:
            del self._resends[key]
            log.warning("qbwc: %s could not be saved %d times (%s); back to the sync's retries", key, RESEND_LIMIT,
                        rs.message[:200])
            self._fail(company, session, key, TransientError(f"QuickBooks statusCode {rs.status_code}: {rs.message}",
                                                             code=str(rs.status_code)), retry=True)
            return
        log.info("qbwc: %s not saved (%s %s); resending in the next session", key, rs.status_code, rs.message[:200])
        self._deferred[company.username][key] = session.ticket

    def _repair(self, company: Company, session: _Session, sent: _Sent, rs: Response) -> None:
        key = sent.key or ""
        match = _INVALID_REF.search(rs.message or "")
        refs = sent.refs
        kind, name = (match.group(1).strip(), match.group(2)) if match else (None, None)
        create = refs.get(f"{kind}:{name}") if kind else None
        done = self._repaired.setdefault(key, set())
        if create is None or f"{kind}:{name}" in done or len(done) >= MAX_REPAIRED_REFERENCES:
            self._fail(company, session, key, PermanentError(
                f"QuickBooks statusCode 3140 on {sent.kind}: {rs.message}", code="3140",
                hint=(f"create {kind} {name!r} in QuickBooks, then `ledgerlink dlq retry`" if kind
                      else "check the names this document refers to in QuickBooks")))
            return
        done.add(f"{kind}:{name}")
        ref_kind, ref_payload = next((k, v) for k, v in create.items() if not k.startswith("_"))
        log.info("qbwc: %s refers to a missing %s %r; creating it, then sending the document again", key, kind, name)
        company.references.put(SENT, key, "")  # QuickBooks refused it: nothing was created
        self._queue(company, key, [
            (_Sent("ref", ref_kind, None, kind, ref_payload, name=f"{kind} {name}"),
             lambda rid: add_request(ref_kind, ref_payload, rid)),
            (_Sent("add", sent.kind, key, sent.stream, sent.payload, refs=refs),
             lambda rid: self._mark(company, key, sent, rid)),
        ], on_error="stopOnError")

    def _mark(self, company: Company, key: str, sent: _Sent, rid: str) -> Request:
        company.references.put(SENT, key, rid, sent.kind)
        return add_request(sent.kind, sent.payload, rid)

    def _queue(self, company: Company, key: str | None, requests: list, on_error: str = "continueOnError") -> None:
        if key:
            self._busy[company.username].add(key)
        self._followups[company.username].append(_Followup(requests, on_error))

    # ------------------------------------------------------------------------------------------ status

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"company": c.label, "username": c.username, "file_id": c.file_id,
                     "waiting": c.awaiting.count(), "last_contact": c.references.get(CONTACT, c.file_id) or None,
                     "sessions": sum(1 for s in self._sessions.values() if s.company is c),
                     "logins": {k: v for k, v in self.logins.user_report(c.username).items()
                                if k != "last_failure_from"}}
                    for c in self.companies.values()]


def _lookup(kind: str, payload: dict[str, Any], request_id: str, by_id: bool = False) -> Request:
    """The query that finds what an Add or Mod of `kind` would have created."""
    if kind.startswith("Customer"):
        if by_id:
            return customer_query(request_id, list_ids=[payload["ListID"]])
        return customer_query(request_id, full_names=[payload["Name"]])
    if kind.startswith("Item"):
        if by_id:
            return item_query(request_id, list_ids=[payload["ListID"]])
        return item_query(request_id, full_names=[payload["Name"]])
    if kind == "TxnVoid":  # was it voided? ask for the transaction itself
        return txn_query(f"{payload['TxnVoidType']}Query", request_id, txn_ids=[payload["TxnID"]])
    doc = kind[:-3]  # SalesReceiptAdd → SalesReceipt
    if payload.get("RefNumber"):
        return txn_query(f"{doc}Query", request_id, ref_numbers=[payload["RefNumber"]])
    return txn_query(f"{doc}Query", request_id, date_from=payload.get("TxnDate"), date_to=payload.get("TxnDate"))


def _match(sent: _Sent, rets: list[dict[str, Any]], key: str, require_marker: bool = True) -> dict[str, Any] | None:
    """The returned object that is this write: a list object by name; a transaction by the key in its Memo."""
    if sent.kind.startswith(("Customer", "Item")):
        name = sent.payload.get("Name")
        hits = [r for r in rets if name in (r.get("Name"), r.get("FullName"))]
        if sent.kind.startswith("Item") and hits:
            wanted = sent.kind.replace("Add", "Ret")
            hits = [r for r in hits if r.get("_type") == wanted] or hits
        return hits[0] if hits else None
    if sent.kind == "TxnVoid":  # QuickBooks marks a voided transaction's Memo "VOID:"
        return next((r for r in rets if r.get("TxnID") == sent.payload.get("TxnID")
                     and str(r.get("Memo") or "").startswith("VOID:")), None)
    marker = MEMO_PREFIX + key
    for r in rets:
        memo = r.get("Memo") or ""
        if isinstance(memo, str) and memo.split("\n", 1)[0].strip() == marker:
            return r
    return None
