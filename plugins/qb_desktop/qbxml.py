"""qbXML: build request messages from JSON-shaped payloads, and read QuickBooks' responses.

Payloads in the outbox are plain JSON objects keyed by qbXML element names (`{"Name": …, "CustomerRef":
{"FullName": …}, "SalesReceiptLineAdd": [{…}, …]}`); the mapping decides the values, this module owns the
schema's element order. A key the schema does not allow at that place is a RecordError before anything is
queued, so a mapping override cannot produce a request QuickBooks would reject as malformed.

Responses are untrusted: they are parsed with defusedxml (no entity expansion, no external entities, no DTD),
and refused when larger than MAX_RESPONSE_BYTES or nested deeper than MAX_RESPONSE_DEPTH (a real response nests
about ten levels; the readers below recurse).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable
from xml.etree import ElementTree as ET

from ledgerlink import RecordError, WebInputError, parse_untrusted_xml

__all__ = [
    "ADD_ORDERS", "MAX_VERSION", "MIN_VERSION", "Request", "Response", "QbxmlError", "negotiate_version",
    "build_message", "add_request", "mod_request", "customer_query", "item_query", "account_query",
    "sales_receipt_query", "item_inventory_query", "txn_query", "parse_response", "LIMITS", "check_limits",
    "TXN_PLACEHOLDER", "placeholders", "resolve_placeholders", "NAME_LISTS", "name_list_query",
]

#: the newest qbXML this bridge writes (every request it builds is valid qbXML 16.0)
MAX_VERSION = (16, 0)
#: the oldest it will talk to: the request shapes used here exist unchanged since qbXML 13.0 (QuickBooks 2014)
MIN_VERSION = (13, 0)

_REF = ["ListID", "FullName"]
_ADDRESS = ["Addr1", "Addr2", "Addr3", "Addr4", "Addr5", "City", "State", "PostalCode", "Country", "Note"]
_DATA_EXT = ["OwnerID", "DataExtName", "DataExtValue"]
_PERSON = ["Salutation", "FirstName", "MiddleName", "LastName", "Suffix", "JobTitle"]
_COMM = ["Phone", "Mobile", "Pager", "AltPhone", "Fax", "Email", "Cc", "Contact", "AltContact"]
_CUSTOMER_TAIL = ["CustomerTypeRef", "TermsRef", "SalesRepRef"]
_CUSTOMER_TAX = ["SalesTaxCodeRef", "ItemSalesTaxRef", "SalesTaxCountry", "ResaleNumber", "AccountNumber",
                 "CreditLimit", "PreferredPaymentMethodRef", "JobStatus", "JobStartDate", "JobProjectedEndDate",
                 "JobEndDate", "JobDesc", "JobTypeRef", "Notes"]
_CUSTOMER_END = ["IsStatementWithParent", "DeliveryMethod", "PreferredDeliveryMethod", "PriceLevelRef"]
_LINE = ["ItemRef", "Desc", "Quantity", "UnitOfMeasure", "Rate", "RatePercent", "PriceLevelRef", "ClassRef", "Amount",
         "TaxAmount"]
_LINE_TAIL = ["InventorySiteRef", "InventorySiteLocationRef", "SerialNumber", "LotNumber", "ServiceDate",
              "SalesTaxCodeRef", "IsTaxable", "OverrideItemAccountRef", "Other1", "Other2"]
_SALES_HEAD = ["CustomerRef", "ClassRef"]
_SALES_DOC = ["TemplateRef", "TxnDate", "RefNumber", "BillAddress", "ShipAddress", "IsPending"]
_JOURNAL_LINE = ["TxnLineID", "AccountRef", "Amount", "TaxAmount", "Memo", "EntityRef", "ClassRef", "ItemSalesTaxRef",
                 "BillableStatus"]

#: element order of every object this bridge writes, and of the nested aggregates inside them (from the
#: qbXML 16.0 schema; a payload key outside these lists is refused)
ADD_ORDERS: dict[str, list[str]] = {
    "CustomerAdd": ["Name", "IsActive", "ClassRef", "ParentRef", "CompanyName", *_PERSON, "BillAddress", "ShipAddress",
                    "PrintAs", *_COMM, *_CUSTOMER_TAIL, "OpenBalance", "OpenBalanceDate", *_CUSTOMER_TAX,
                    *_CUSTOMER_END, "ExternalGUID", "TaxRegistrationNumber", "CurrencyRef"],
    "CustomerMod": ["ListID", "EditSequence", "Name", "IsActive", "ClassRef", "ParentRef", "CompanyName", *_PERSON,
                    "BillAddress", "ShipAddress", "PrintAs", *_COMM, *_CUSTOMER_TAIL, *_CUSTOMER_TAX, *_CUSTOMER_END,
                    "TaxRegistrationNumber", "CurrencyRef"],
    "ItemNonInventoryAdd": ["Name", "BarCode", "IsActive", "ParentRef", "ClassRef", "ManufacturerPartNumber",
                            "UnitOfMeasureSetRef", "IsTaxIncluded", "SalesTaxCodeRef", "SalesOrPurchase",
                            "SalesAndPurchase", "ExternalGUID"],
    "ItemServiceAdd": ["Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "UnitOfMeasureSetRef", "IsTaxIncluded",
                       "SalesTaxCodeRef", "SalesOrPurchase", "SalesAndPurchase", "ExternalGUID"],
    "ItemInventoryAdd": ["Name", "BarCode", "IsActive", "ClassRef", "ParentRef", "ManufacturerPartNumber",
                         "UnitOfMeasureSetRef", "IsTaxIncluded", "SalesTaxCodeRef", "SalesDesc", "SalesPrice",
                         "IncomeAccountRef", "PurchaseDesc", "PurchaseCost", "PurchaseTaxCodeRef", "COGSAccountRef",
                         "PrefVendorRef", "AssetAccountRef", "ReorderPoint", "Max", "QuantityOnHand", "TotalValue",
                         "InventoryDate", "ExternalGUID"],
    "SalesReceiptAdd": [*_SALES_HEAD, *_SALES_DOC, "CheckNumber", "PaymentMethodRef", "DueDate", "SalesRepRef",
                        "ShipDate", "ShipMethodRef", "FOB", "ItemSalesTaxRef", "Memo", "CustomerMsgRef",
                        "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef",
                        "DepositToAccountRef", "Other", "ExchangeRate", "ExternalGUID", "SalesReceiptLineAdd"],
    "InvoiceAdd": [*_SALES_HEAD, "ARAccountRef", *_SALES_DOC, "IsFinanceCharge", "PONumber", "TermsRef", "DueDate",
                   "SalesRepRef", "FOB", "ShipDate", "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef",
                   "IsToBePrinted", "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other",
                   "ExchangeRate", "ExternalGUID", "LinkToTxnID", "InvoiceLineAdd"],
    "CreditMemoAdd": [*_SALES_HEAD, "ARAccountRef", *_SALES_DOC, "PONumber", "TermsRef", "DueDate", "SalesRepRef", "FOB",
                      "ShipDate", "ShipMethodRef", "ItemSalesTaxRef", "Memo", "CustomerMsgRef", "IsToBePrinted",
                      "IsToBeEmailed", "IsTaxIncluded", "CustomerSalesTaxCodeRef", "Other", "ExchangeRate",
                      "ExternalGUID", "CreditMemoLineAdd"],
    "ReceivePaymentAdd": ["CustomerRef", "ARAccountRef", "TxnDate", "RefNumber", "TotalAmount", "ExchangeRate",
                          "PaymentMethodRef", "Memo", "DepositToAccountRef", "ExternalGUID", "IsAutoApply",
                          "AppliedToTxnAdd"],
    "JournalEntryAdd": ["TxnDate", "RefNumber", "Memo", "IsAdjustment", "IsHomeCurrencyAdjustment",
                        "IsAmountsEnteredInHomeCurrency", "CurrencyRef", "ExchangeRate", "ExternalGUID",
                        "JournalDebitLine", "JournalCreditLine"],
    "CheckAdd": ["AccountRef", "PayeeEntityRef", "RefNumber", "TxnDate", "Memo", "Address", "IsToBePrinted",
                 "IsTaxIncluded", "SalesTaxCodeRef", "ExchangeRate", "ExternalGUID", "ApplyCheckToTxnAdd",
                 "ExpenseLineAdd", "ItemLineAdd"],
    "DepositAdd": ["TxnDate", "DepositToAccountRef", "Memo", "CashBackInfoAdd", "CurrencyRef", "ExchangeRate",
                   "ExternalGUID", "DepositLineAdd"],
    "InventoryAdjustmentAdd": ["AccountRef", "TxnDate", "RefNumber", "InventorySiteRef", "CustomerRef", "ClassRef",
                               "Memo", "ExternalGUID", "InventoryAdjustmentLineAdd"],
    "ClassAdd": ["Name", "IsActive", "ParentRef"],
    "PaymentMethodAdd": ["Name", "IsActive", "PaymentMethodType"],
    # a void is not wrapped in an aggregate: <TxnVoidRq><TxnVoidType/><TxnID/></TxnVoidRq>
    "TxnVoid": ["TxnVoidType", "TxnID"],
    # nested aggregates
    "SalesReceiptLineAdd": [*_LINE, "OptionForPriceRuleConflict", *_LINE_TAIL, "DataExt"],
    "InvoiceLineAdd": [*_LINE, "OptionForPriceRuleConflict", *_LINE_TAIL, "DataExt"],
    "CreditMemoLineAdd": [*_LINE, *_LINE_TAIL, "DataExt"],
    # a line depositing a payment (PaymentTxnID…) or money from an account (EntityRef, AccountRef…)
    "DepositLineAdd": ["PaymentTxnID", "PaymentTxnLineID", "OverrideMemo", "OverrideCheckNumber", "OverrideClassRef",
                       "EntityRef", "AccountRef", "Memo", "CheckNumber", "PaymentMethodRef", "ClassRef", "Amount"],
    "ApplyCheckToTxnAdd": ["TxnID", "Amount"],
    "ExpenseLineAdd": ["AccountRef", "Amount", "TaxAmount", "Memo", "CustomerRef", "VendorRef", "ClassRef",
                       "SalesTaxCodeRef", "BillableStatus", "SalesRepRef", "DataExt"],
    "JournalDebitLine": _JOURNAL_LINE,
    "JournalCreditLine": _JOURNAL_LINE,
    "InventoryAdjustmentLineAdd": ["ItemRef", "QuantityAdjustment", "ValueAdjustment"],
    "QuantityAdjustment": ["NewQuantity", "QuantityDifference", "SerialNumber", "LotNumber",
                           "InventorySiteLocationRef"],
    "ValueAdjustment": ["NewQuantity", "QuantityDifference", "NewValue", "ValueDifference"],
    "AppliedToTxnAdd": ["TxnID", "PaymentAmount", "DiscountAmount", "DiscountAccountRef", "DiscountClassRef"],
    "SalesOrPurchase": ["Desc", "Price", "PricePercent", "AccountRef"],
    "SalesAndPurchase": ["SalesDesc", "SalesPrice", "IncomeAccountRef", "PurchaseDesc", "PurchaseCost",
                         "PurchaseTaxCodeRef", "ExpenseAccountRef", "PrefVendorRef"],
    "BillAddress": _ADDRESS, "ShipAddress": _ADDRESS, "DataExt": _DATA_EXT,
}

#: QuickBooks' own field limits (qbXML reference): checked before a write is queued, never truncated silently
LIMITS: dict[str, int] = {
    "Customer.Name": 41, "Customer.CompanyName": 41, "Customer.Notes": 4095, "Customer.Email": 1023,
    "Customer.Phone": 21, "Item.Name": 31, "Item.ManufacturerPartNumber": 31, "Item.Desc": 4095,
    "Item.SalesDesc": 4095, "Txn.RefNumber": 11, "Txn.Memo": 4095, "Line.Desc": 4095, "Address.Addr": 41,
    "Address.City": 31, "Address.State": 21, "Address.PostalCode": 13, "Address.Country": 31, "Ref.FullName": 159,
}

_ITEM_ADDS = ("ItemNonInventoryAdd", "ItemServiceAdd", "ItemInventoryAdd")
_TXN_ADDS = ("SalesReceiptAdd", "InvoiceAdd", "CreditMemoAdd", "ReceivePaymentAdd", "JournalEntryAdd", "DepositAdd", "CheckAdd",
             "InventoryAdjustmentAdd")


class QbxmlError(ValueError):
    """A qbXML document that cannot be read (malformed, not QBXML, forbidden constructs)."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a qbXML payload; amounts must be Decimal or text")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _order_for(name: str) -> list[str] | None:
    if name in ADD_ORDERS:
        return ADD_ORDERS[name]
    if name.endswith("Ref"):
        return _REF
    return None


def _emit(parent: ET.Element, name: str, value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _emit(parent, name, item, f"{where}[{i}]")
        return
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        order = _order_for(name)
        if order is None:
            raise RecordError(f"{where}: {name} takes a value, not an object", field=where)
        unknown = [k for k in value if k not in order]
        if unknown:
            raise RecordError(f"{where}: {unknown[0]!r} is not a qbXML element of {name}", field=f"{where}.{unknown[0]}",
                              hint=f"{name} takes {', '.join(order)}")
        for key in order:
            if key in value:
                _emit(node, key, value[key], f"{where}.{key}")
    else:
        node.text = _text(value)


@dataclass
class Request:
    """One request inside a message: its element (`CustomerAddRq`), its requestID and its XML."""

    kind: str
    request_id: str
    element: ET.Element


def add_request(kind: str, payload: dict[str, Any], request_id: str) -> Request:
    """`<{kind}Rq requestID=…><{kind}>…</{kind}></{kind}Rq>` for an Add or Mod of one object."""
    if kind not in ADD_ORDERS:
        raise RecordError(f"the qb_desktop bridge cannot build {kind!r}", hint=f"it builds {', '.join(_ADDS_AND_MODS)}")
    rq = ET.Element(f"{kind}Rq", {"requestID": request_id})
    wrapper = ET.Element("_")
    _emit(wrapper, kind, payload, kind)
    if kind in _UNWRAPPED:
        rq.extend(list(wrapper[0]))
    else:
        rq.append(wrapper[0])
    return Request(kind, request_id, rq)


#: requests whose fields sit directly in the `…Rq` element
_UNWRAPPED = ("TxnVoid",)
#: a payload value `TXN_PLACEHOLDER + key` stands for the TxnID QuickBooks gave the outbox record `key` (an
#: invoice a payment applies to, a receipt a void cancels); the bridge replaces it when it builds the request
TXN_PLACEHOLDER = "ledgerlink-txn:"


def placeholders(payload: Any) -> list[str]:
    """The outbox keys a payload refers to through TXN_PLACEHOLDER, in order."""
    if isinstance(payload, str):
        return [payload[len(TXN_PLACEHOLDER):]] if payload.startswith(TXN_PLACEHOLDER) else []
    if isinstance(payload, dict):
        return [k for v in payload.values() for k in placeholders(v)]
    if isinstance(payload, list):
        return [k for v in payload for k in placeholders(v)]
    return []


def resolve_placeholders(payload: Any, txn_id: Any) -> Any:
    """A copy of `payload` with each placeholder replaced by `txn_id(key)` (which raises when it is unknown)."""
    if isinstance(payload, str):
        return txn_id(payload[len(TXN_PLACEHOLDER):]) if payload.startswith(TXN_PLACEHOLDER) else payload
    if isinstance(payload, dict):
        return {k: resolve_placeholders(v, txn_id) for k, v in payload.items()}
    if isinstance(payload, list):
        return [resolve_placeholders(v, txn_id) for v in payload]
    return payload


def mod_request(kind: str, payload: dict[str, Any], request_id: str) -> Request:
    if "ListID" not in payload or "EditSequence" not in payload:
        raise RecordError(f"{kind} needs ListID and EditSequence", field="ListID")
    return add_request(kind, payload, request_id)


_ADDS_AND_MODS = [k for k in ADD_ORDERS if k.endswith(("Add", "Mod")) and k not in (
    "SalesReceiptLineAdd", "InvoiceLineAdd", "CreditMemoLineAdd", "InventoryAdjustmentLineAdd", "AppliedToTxnAdd")]


def _query_element(kind: str, request_id: str, iterator: str | None, iterator_id: str | None) -> ET.Element:
    """`<KindQueryRq requestID=… [iterator=… iteratorID=…]>`: what every query, list or transaction, starts with."""
    attrs = {"requestID": request_id}
    if iterator:
        attrs["iterator"] = iterator
        if iterator_id:
            attrs["iteratorID"] = iterator_id
    return ET.Element(f"{kind}Rq", attrs)


def _query(kind: str, request_id: str, *, list_ids: Iterable[str] = (), full_names: Iterable[str] = (),
           max_returned: int | None = None, active: str | None = None, iterator: str | None = None,
           iterator_id: str | None = None, extra: list[tuple[str, Any]] = (), tail: list[tuple[str, Any]] = ()) -> Request:
    rq = _query_element(kind, request_id, iterator, iterator_id)
    list_ids, full_names = list(list_ids), list(full_names)
    if list_ids:
        for v in list_ids:
            ET.SubElement(rq, "ListID").text = v
    elif full_names:
        for v in full_names:
            ET.SubElement(rq, "FullName").text = v
    elif iterator != "Continue":
        if max_returned is not None:
            ET.SubElement(rq, "MaxReturned").text = str(max_returned)
        if active:
            ET.SubElement(rq, "ActiveStatus").text = active
        for name, value in extra:
            _emit(rq, name, value, kind)
    for name, value in tail:
        _emit(rq, name, value, kind)
    return Request(kind, request_id, rq)


def customer_query(request_id: str, *, full_names: Iterable[str] = (), list_ids: Iterable[str] = (),
                   max_returned: int | None = None, iterator: str | None = None,
                   iterator_id: str | None = None) -> Request:
    return _query("CustomerQuery", request_id, list_ids=list_ids, full_names=full_names, max_returned=max_returned,
                  iterator=iterator, iterator_id=iterator_id)


def item_query(request_id: str, *, full_names: Iterable[str] = (), list_ids: Iterable[str] = (),
               max_returned: int | None = None, iterator: str | None = None, iterator_id: str | None = None) -> Request:
    return _query("ItemQuery", request_id, list_ids=list_ids, full_names=full_names, max_returned=max_returned,
                  iterator=iterator, iterator_id=iterator_id)


def account_query(request_id: str, *, full_names: Iterable[str] = (), account_types: Iterable[str] = ()) -> Request:
    return _query("AccountQuery", request_id, full_names=full_names,
                  extra=[("AccountType", t) for t in account_types])


#: the list queries the designer's pick-lists come from: qbXML query → the list, in the designer's words (QuickBooks
#: Desktop has no departments; a location is a class there, or a site in Enterprise's Advanced Inventory)
NAME_LISTS = {"AccountQuery": "Account", "ItemQuery": "Item", "SalesTaxCodeQuery": "TaxCode",
              "PaymentMethodQuery": "PaymentMethod", "ClassQuery": "Class"}


def name_list_query(kind: str, request_id: str) -> Request:
    """`<KindQueryRq><ActiveStatus>ActiveOnly</ActiveStatus><IncludeRetElement>FullName…`: a whole name list, only
    the fields a pick-list needs (QuickBooks answers every active object; these lists take no iterator)."""
    if kind not in NAME_LISTS:
        raise ValueError(f"{kind} is not one of the name list queries: {', '.join(NAME_LISTS)}")
    return _query(kind, request_id, active="ActiveOnly",
                  tail=[("IncludeRetElement", ["ListID", "Name", "FullName", "IsActive"])])


def item_inventory_query(request_id: str, *, iterator: str = "Start", iterator_id: str | None = None,
                         max_returned: int = 100, modified_since: datetime | None = None) -> Request:
    """QuickBooks-mastered stock: inventory items with QuantityOnHand, paged with an iterator
    (`Start`, then `Continue` with the iteratorID QuickBooks returned, while iteratorRemainingCount > 0)."""
    extra = [("FromModifiedDate", modified_since)] if modified_since else []
    return _query("ItemInventoryQuery", request_id, max_returned=max_returned, active="All", iterator=iterator,
                  iterator_id=iterator_id, extra=extra)


def txn_query(kind: str, request_id: str, *, ref_numbers: Iterable[str] = (), txn_ids: Iterable[str] = (),
              date_from: date | None = None, date_to: date | None = None, max_returned: int | None = None,
              iterator: str | None = None, iterator_id: str | None = None, include_lines: bool = False) -> Request:
    """A transaction query (`SalesReceiptQuery`, `InvoiceQuery`…): by TxnID, by RefNumber, or (for
    reconciliation) by TxnDate range paged with an iterator."""
    rq = _query_element(kind, request_id, iterator, iterator_id)
    txn_ids, ref_numbers = list(txn_ids), list(ref_numbers)
    if txn_ids:
        for v in txn_ids:
            ET.SubElement(rq, "TxnID").text = v
    elif ref_numbers:
        for v in ref_numbers:
            ET.SubElement(rq, "RefNumber").text = v
    elif iterator != "Continue":
        if max_returned is not None:
            ET.SubElement(rq, "MaxReturned").text = str(max_returned)
        if date_from or date_to:
            rng = ET.SubElement(rq, "TxnDateRangeFilter")
            if date_from:
                ET.SubElement(rng, "FromTxnDate").text = _text(date_from)
            if date_to:
                ET.SubElement(rng, "ToTxnDate").text = _text(date_to)
    if include_lines:
        ET.SubElement(rq, "IncludeLineItems").text = "true"
    return Request(kind, request_id, rq)


def sales_receipt_query(request_id: str, **kwargs: Any) -> Request:
    return txn_query("SalesReceiptQuery", request_id, **kwargs)


def negotiate_version(major: int | None, minor: int | None) -> tuple[int, int] | None:
    """The qbXML version to write: the newest both sides speak. None when QuickBooks is older than MIN_VERSION.
    An unknown version (0 or missing: some Web Connectors report none on the first call) gets MIN_VERSION."""
    if not major:
        return MIN_VERSION
    reported = (int(major), int(minor or 0))
    if reported < MIN_VERSION:
        return None
    return min(reported, MAX_VERSION)


def build_message(requests: list[Request], version: tuple[int, int], on_error: str = "continueOnError") -> str:
    """One qbXML document holding several requests. `on_error` is chosen by the caller: `continueOnError` when
    the requests are independent (each gets its own status), `stopOnError` when a later one needs an earlier one
    (a reference created before the document that uses it)."""
    if on_error not in ("continueOnError", "stopOnError"):
        raise ValueError(f"onError {on_error!r}")
    root = ET.Element("QBXML")
    msgs = ET.SubElement(root, "QBXMLMsgsRq", {"onError": on_error})
    for r in requests:
        msgs.append(r.element)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{version[0]}.{version[1]}"?>\n{body}'


@dataclass
class Response:
    """One `…Rs` element of a QuickBooks response."""

    kind: str  # e.g. CustomerAdd
    request_id: str | None
    status_code: int
    severity: str
    message: str
    rets: list[dict[str, Any]] = field(default_factory=list)
    iterator_id: str | None = None
    iterator_remaining: int | None = None

    @property
    def first(self) -> dict[str, Any] | None:
        return self.rets[0] if self.rets else None


def _to_dict(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {"_type": _local(node.tag)}
    for child in children:
        name = _local(child.tag)
        value = _to_dict(child)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


#: responses whose fields sit directly in the `…Rs` element (no `…Ret` aggregate): read as one ret
_FLAT_RS = ("TxnVoidRs", "TxnDelRs")

#: a response larger than this is refused before parsing (a real message of 50 requests is well under 1 MB)
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: deeper than any real response (QBXML › MsgsRs › …Rs › …Ret › aggregate › line › ref › field ≈ 8)
MAX_RESPONSE_DEPTH = 48


_COUNT = re.compile(r"[0-9]{1,9}")  # ASCII digits: str.isdigit() also accepts "²", which int() refuses


def parse_response(text: str) -> list[Response]:
    """Every `…Rs` in a QBXML response, in order. Raises QbxmlError for anything that is not one."""
    if text is None or not text.strip():
        raise QbxmlError("empty qbXML response")
    if len(text) > MAX_RESPONSE_BYTES:
        raise QbxmlError(f"qbXML response of {len(text)} characters is over the {MAX_RESPONSE_BYTES} limit")
    try:
        root = parse_untrusted_xml(text.strip().encode("utf-8", "replace"), max_depth=MAX_RESPONSE_DEPTH,
                                   what="the qbXML response")
    except WebInputError as exc:
        raise QbxmlError(exc.message) from None
    if _local(root.tag) != "QBXML":
        raise QbxmlError(f"qbXML response root is <{_local(root.tag)}>, not <QBXML>")
    msgs = next((c for c in root if _local(c.tag) == "QBXMLMsgsRs"), None)
    if msgs is None:
        raise QbxmlError("qbXML response has no <QBXMLMsgsRs>")
    out = []
    for rs in msgs:
        name = _local(rs.tag)
        if not name.endswith("Rs"):
            continue
        try:
            code = int(rs.get("statusCode", ""))
        except ValueError:
            raise QbxmlError(f"<{name}> has no numeric statusCode") from None
        remaining = rs.get("iteratorRemainingCount")
        out.append(Response(kind=name[:-2], request_id=rs.get("requestID"), status_code=code,
                            severity=rs.get("statusSeverity", ""), message=rs.get("statusMessage", ""),
                            rets=[_to_dict(c) for c in rs if _local(c.tag).endswith("Ret")] or (
                                [_to_dict(rs)] if name in _FLAT_RS and len(rs) else []),
                            iterator_id=rs.get("iteratorID"),
                            iterator_remaining=int(remaining) if remaining and _COUNT.fullmatch(remaining) else None))
    return out


def check_limits(kind: str, payload: dict[str, Any]) -> list[str]:
    """Fields over QuickBooks' limits in one Add payload, as readable problems (empty: fits)."""
    problems: list[str] = []

    def over(path: str, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"{path} is {len(value)} characters; QuickBooks allows {limit}")

    def refs(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k.endswith("Ref") and isinstance(v, dict):
                    over(f"{path}.{k}.FullName", v.get("FullName"), LIMITS["Ref.FullName"])
                elif k in ("BillAddress", "ShipAddress") and isinstance(v, dict):
                    for a, text in v.items():
                        over(f"{path}.{k}.{a}", text, LIMITS.get(f"Address.{'Addr' if a.startswith('Addr') else a}", 41))
                else:
                    refs(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                refs(v, f"{path}[{i}]")

    if kind in ("CustomerAdd", "CustomerMod"):
        for f in ("Name", "CompanyName", "Notes", "Email", "Phone"):
            over(f, payload.get(f), LIMITS[f"Customer.{f}"])
    elif kind in _ITEM_ADDS:
        over("Name", payload.get("Name"), LIMITS["Item.Name"])
        over("ManufacturerPartNumber", payload.get("ManufacturerPartNumber"), LIMITS["Item.ManufacturerPartNumber"])
        over("SalesDesc", payload.get("SalesDesc"), LIMITS["Item.SalesDesc"])
        over("SalesOrPurchase.Desc", (payload.get("SalesOrPurchase") or {}).get("Desc"), LIMITS["Item.Desc"])
    elif kind in _TXN_ADDS:
        over("RefNumber", payload.get("RefNumber"), LIMITS["Txn.RefNumber"])
        over("Memo", payload.get("Memo"), LIMITS["Txn.Memo"])
        for key, lines in payload.items():
            if key.endswith("LineAdd") and isinstance(lines, list):
                for i, line in enumerate(lines):
                    over(f"{key}[{i}].Desc", (line or {}).get("Desc"), LIMITS["Line.Desc"])
    refs(payload, "")
    return problems
