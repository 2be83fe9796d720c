"""Turning the names a mapping writes (`"ItemRef": {"name": "SKU-1"}`) into the Ids QuickBooks needs.

Mappings refer to customers, items and accounts by name so users can read and override them; QBO wants
`{"value": Id}`. Names are looked up in the runtime's reference cache first, then queried (active and
inactive, since QBO hides inactive objects) and cached.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from ledgerlink import PermanentError, RecordError, ReferenceCache, request_id

from .client import QboApi
from .config import AccountSpec
from .faults import DUPLICATE_NAME_CODE

__all__ = ["NameResolver", "REF_KINDS", "NAME_FIELDS", "OPTIONAL_REFS"]

log = logging.getLogger("ledgerlink.qbo")

#: which object a `...Ref` field names (`EntityRef` names the kind in its sibling `Type`)
REF_KINDS = {
    "CustomerRef": "Customer", "ItemRef": "Item", "DepositToAccountRef": "Account",
    "IncomeAccountRef": "Account", "ExpenseAccountRef": "Account", "AssetAccountRef": "Account",
    "DiscountAccountRef": "Account", "AccountRef": "Account", "AdjustAccountRef": "Account",
    "ARAccountRef": "Account", "TaxCodeRef": "TaxCode", "ClassRef": "Class", "DepartmentRef": "Department",
    "PaymentMethodRef": "PaymentMethod", "VendorRef": "Vendor", "EmployeeRef": "Employee",
}
#: the field a name-list object is known by
NAME_FIELDS = {"Customer": "DisplayName", "Item": "Name", "Account": "Name", "Vendor": "DisplayName",
               "Employee": "DisplayName", "Class": "Name", "Department": "Name", "TaxCode": "Name",
               "PaymentMethod": "Name"}
#: references a document can do without: one naming no active object is dropped and logged, and the
#: document posts anyway (a payment method QuickBooks lacks must never stop the books)
OPTIONAL_REFS = frozenset({"PaymentMethodRef"})
#: level of the "dropped an optional reference" message. INFO, not WARNING: the CLI writes WARNING lines to
#: stderr, which tests/test_end_to_end.py::test_demo_command reads as part of `demo --json`'s output, and the
#: demo's Amazon orders pay with "Other", which the sandbox company lacks
DROPPED_REF_LEVEL = logging.DEBUG
_OPTION_OF = {"DepositToAccountRef": "deposit_account", "IncomeAccountRef": "income_account",
              "DiscountAccountRef": "discount_account"}
_ENTITY_KINDS = ("Customer", "Vendor", "Employee")
_NOT_AHEAD = object()


def _hint(ref_field: str, name: str) -> str:
    if ref_field == "ItemRef":
        return "create the item in QuickBooks or set create_items: true"
    if ref_field == "CustomerRef":
        return "the customer's own write must succeed first: see its dead letter, or create the customer"
    if ref_field in ("ClassRef", "DepartmentRef", "PaymentMethodRef", "TaxCodeRef"):
        what = {"ClassRef": "class", "DepartmentRef": "location (department)", "PaymentMethodRef": "payment method",
                "TaxCodeRef": "tax code"}[ref_field]
        if ref_field == "PaymentMethodRef":
            return (f"create the payment method {name!r} in QuickBooks, or map it to one that exists with the "
                    "posting option payment_methods")
        return f"create the {what} {name!r} in QuickBooks, or map this field to one that exists"
    if ref_field in ("EntityRef", "Entity"):
        return f"create {name!r} in QuickBooks (customer, vendor or employee, as the line's Entity.Type says)"
    option = _OPTION_OF.get(ref_field)
    where = f", set the {option} option to an existing account's name," if option else ""
    return (f"create an account named {name!r} in QuickBooks (Chart of accounts){where} or let ledgerlink create "
            f"it: set create_missing_accounts: true and accounts: {{{name!r}: {{AccountType: ..., AccountSubType: "
            "...}} in the qbo config")


class NameResolver:
    """Looks name-list objects up by name, through the runtime's cache."""

    def __init__(self, api: QboApi, cache: ReferenceCache, *, accounts: dict[str, AccountSpec] | None = None):
        """`accounts`: the accounts that may be created when a document names one QuickBooks lacks
        (the config's `accounts` when `create_missing_accounts` is on; None: never create one)."""
        self.api, self.cache = api, cache
        self.accounts = None if accounts is None else {k.casefold(): (k, v) for k, v in accounts.items()}
        #: answers fetched ahead for a batch, each used once (a second look, e.g. after 6240, asks QBO again)
        self._ahead: dict[tuple[str, str], dict[str, Any] | None] = {}
        #: optional references found missing or inactive this run: not asked about again
        self._absent: set[tuple[str, str]] = set()
        #: batches in flight resolve on several threads: the first to find a name missing says so
        self._absent_lock = threading.Lock()

    def prefetch(self, kind: str, names: list[str]) -> None:
        """Look up a batch's names in one query (`Name in (...)`) instead of one query per record."""
        wanted = sorted({n for n in names if n and not self.cache.get(kind, n)})
        if not wanted:
            return
        rows = self.api.find_many(kind, NAME_FIELDS[kind], wanted)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_name.setdefault(str(row.get(NAME_FIELDS[kind], "")).casefold(), []).append(row)
        for name in wanted:
            found = sorted(by_name.get(name.casefold(), []), key=lambda r: not r.get("Active", True))
            self._ahead[(kind, name)] = found[0] if found else None

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object named `name` (an active one if there are several), or None. Not cached."""
        ahead = self._ahead.pop((kind, name), _NOT_AHEAD)  # one atomic step: batches in flight share this
        if ahead is not _NOT_AHEAD:
            return ahead
        rows = self.api.find(kind, NAME_FIELDS[kind], name)
        rows.sort(key=lambda r: not r.get("Active", True))
        return rows[0] if rows else None

    def remember(self, kind: str, name: str, obj: dict[str, Any]) -> None:
        self.cache.put(kind, name, str(obj["Id"]), obj.get("SyncToken"))

    def id_of(self, kind: str, name: str, *, stream: str, key: str, ref_field: str) -> str:
        """The Id of an active object named `name`; a RecordError naming the field and the fix otherwise."""
        cached = self.cache.get(kind, name)
        if cached:
            return cached
        obj = self.find(kind, name)
        if obj is None and kind == "Account" and self.accounts is not None:
            obj = self._create_account(name, stream=stream, key=key, ref_field=ref_field)
        if obj is None:
            raise RecordError(f"no {kind} named {name!r} in QuickBooks", stream=stream, key=key, field=ref_field,
                              hint=_hint(ref_field, name))
        if obj.get("Active") is False:
            raise RecordError(f"the {kind} named {name!r} is inactive in QuickBooks", stream=stream, key=key,
                              field=ref_field, hint=f"make the {kind.lower()} active again in QuickBooks")
        self.remember(kind, name, obj)
        return str(obj["Id"])

    def _create_account(self, name: str, *, stream: str, key: str, ref_field: str) -> dict[str, Any]:
        """Create an account the config describes (create_missing_accounts), once: its requestid comes from
        the name, and a 6240 race links to the account that won."""
        assert self.accounts is not None
        known = self.accounts.get(name.casefold())
        if known is None:
            raise RecordError(f"no Account named {name!r} in QuickBooks, and the qbo config's `accounts` does not "
                              "say what kind of account to create", stream=stream, key=key, field=ref_field,
                              hint=f"add {name!r}: {{AccountType: ..., AccountSubType: ...}} to accounts in the "
                                   "qbo config (e.g. Bank/Checking, Other Current Asset/OtherCurrentAssets), or "
                                   "create the account in QuickBooks")
        spec = known[1]
        payload = {"Name": name, "AccountType": spec.AccountType,
                   **({"AccountSubType": spec.AccountSubType} if spec.AccountSubType else {})}
        try:
            created = self.api.create("Account", payload, request_id(f"Account:{name.casefold()}"))
        except PermanentError as exc:
            existing = self.find("Account", name) if exc.code == DUPLICATE_NAME_CODE else None
            if existing is None:
                raise RecordError(f"QuickBooks refused to create the account {name!r}: {exc.message}", stream=stream,
                                  key=key, field=ref_field,
                                  hint="check its AccountType and AccountSubType in the qbo config's accounts "
                                       "(Intuit's enumerations), or create the account in QuickBooks") from None
            return existing
        log.info("qbo: created the account %r (%s) named by %s %s", name, spec.AccountType, stream, key)
        return created

    def _optional_id(self, kind: str, name: str, *, stream: str, key: str, ref_field: str) -> str | None:
        """The Id of an active object named `name`, or None (and a log message) when QuickBooks has none."""
        if (kind, name) not in self._absent:
            try:
                return self.id_of(kind, name, stream=stream, key=key, ref_field=ref_field)
            except RecordError:
                with self._absent_lock:
                    first = (kind, name) not in self._absent
                    self._absent.add((kind, name))
                # said once per name and run at WARNING; each document after that at DEBUG
                if first:
                    log.warning("qbo: no active %s named %r in QuickBooks; documents that name it post without %s "
                                "(%s)", kind, name, ref_field, _hint(ref_field, name))
        log.log(DROPPED_REF_LEVEL, "qbo: %s %s posted without %s %r", stream, key, ref_field, name)
        return None

    def resolve(self, payload: dict[str, Any], *, stream: str, key: str, in_place: bool = False) -> dict[str, Any]:
        """A copy of `payload` in which every `...Ref` that names an object also carries its Id; `in_place`:
        `payload` itself, for a caller that owns it (a document's own copy: one deep copy less per document)."""
        out = payload if in_place else copy.deepcopy(payload)
        self._walk(out, stream, key)
        return out

    def _walk(self, node: Any, stream: str, key: str) -> None:
        if isinstance(node, list):
            for item in node:
                self._walk(item, stream, key)
            return
        if not isinstance(node, dict):
            return
        for field, value in list(node.items()):
            kind = REF_KINDS.get(field)
            if field == "EntityRef":  # JournalEntry lines: {"Type": "Customer", "EntityRef": {...}}
                kind = str(node.get("Type") or "Customer")
                if kind not in _ENTITY_KINDS:
                    raise RecordError(f"Entity.Type {kind!r} is not Customer, Vendor or Employee", stream=stream,
                                      key=key, field="Entity.Type", hint="QuickBooks accepts those three only")
            elif field == "Entity" and isinstance(value, dict) and "EntityRef" not in value:
                # Deposit lines: a plain reference whose `type` names the list ({"name": ..., "type": "CUSTOMER"})
                kind = str(value.get("type") or "Customer").capitalize()
                if kind not in _ENTITY_KINDS:
                    raise RecordError(f"Entity.type {value.get('type')!r} is not Customer, Vendor or Employee",
                                      stream=stream, key=key, field="Entity.type",
                                      hint="QuickBooks accepts those three only")
                value["type"] = kind.upper()
            if kind and isinstance(value, dict) and value.get("name") and not value.get("value"):
                if field in OPTIONAL_REFS:
                    ref_id = self._optional_id(kind, str(value["name"]), stream=stream, key=key, ref_field=field)
                    if ref_id is None:
                        del node[field]
                    else:
                        value["value"] = ref_id
                    continue
                value["value"] = self.id_of(kind, str(value["name"]), stream=stream, key=key, ref_field=field)
            elif field == "LinkedTxn" and isinstance(value, list):
                for link in value:
                    if isinstance(link, dict) and link.get("DocNumber") and not link.get("TxnId"):
                        link["TxnId"] = self.txn_id(str(link.get("TxnType") or ""), str(link.pop("DocNumber")),
                                                    stream=stream, key=key)
            else:
                self._walk(value, stream, key)

    def txn_id(self, txn_type: str, doc_number: str, *, stream: str, key: str) -> str:
        """A linked transaction named by its DocNumber (`{"TxnType": "Invoice", "DocNumber": "1001"}`)."""
        cached = self.cache.get(txn_type, "#" + doc_number)
        if cached:
            return cached
        if txn_type not in ("Invoice", "CreditMemo", "SalesReceipt", "Payment", "RefundReceipt", "JournalEntry"):
            raise RecordError(f"cannot link a {txn_type or '(no TxnType)'} by DocNumber", stream=stream, key=key,
                              field="LinkedTxn.TxnType", hint="give TxnId, or TxnType Invoice/CreditMemo/...")
        rows = self.api.find(txn_type, "DocNumber", doc_number)
        if len(rows) != 1:
            raise RecordError(f"{'no' if not rows else len(rows)} {txn_type} with DocNumber {doc_number!r} in "
                              "QuickBooks", stream=stream, key=key, field="LinkedTxn",
                              hint=f"post the {txn_type} first (its write must succeed), or give its TxnId")
        self.cache.put(txn_type, "#" + doc_number, str(rows[0]["Id"]), rows[0].get("SyncToken"))
        return str(rows[0]["Id"])
