"""The default QuickBooks Online mappings for orders, written as Python.

Each function returns exactly the payload its template in `mappings/` renders and parses to (same keys in the
same order, same values: see `ledgerlink.mapping_value`), without passing JSON text through the sandbox and
back, which was a large share of planning an order. The templates stay the documented, overridable shape:
a pipeline that overrides one renders its own file in the sandbox, and the tests hold each function to its
template over the seeded sandboxes' orders and generated ones.
"""

from __future__ import annotations

from typing import Any

from ledgerlink import MAPPING_FILTERS, mapping_value, register_native_mapping

__all__ = ["sales_receipt", "invoice", "payment", "customer", "item", "NATIVE_MAPPINGS"]

_v = mapping_value
_date = MAPPING_FILTERS["date"]
_truncate = MAPPING_FILTERS["truncate_to"]


def _sale(order: Any, posting: Any, doc_number: Any, private_note: Any, customer_name: Any, lines: Any,
          discount: Any, seller_tax: Any, exchange_rate: Any, dimensions: Any,
          deposit: tuple[Any, Any] | None) -> dict[str, Any]:
    """A SalesReceipt (`deposit` = (deposit account, payment method)) or an Invoice (`deposit` None)."""
    out: dict[str, Any] = {
        "DocNumber": _v(doc_number), "TxnDate": _v(_date(order.placed_at, posting.time_zone)),
        "PrivateNote": _v(_truncate(private_note, 4000)), "CustomerRef": {"name": _v(customer_name)},
        "CurrencyRef": {"value": _v(order.currency)}}
    if exchange_rate:
        out["ExchangeRate"] = _v(exchange_rate)
    if dimensions and dimensions.class_name:
        out["ClassRef"] = {"name": _v(dimensions.class_name)}
    if dimensions and dimensions.department:
        out["DepartmentRef"] = {"name": _v(dimensions.department)}
    if deposit is not None:
        deposit_account, payment_method = deposit
        out["DepositToAccountRef"] = {"name": _v(deposit_account or posting.deposit_account)}
        if payment_method:
            out["PaymentMethodRef"] = {"name": _v(payment_method)}
    out["ApplyTaxAfterDiscount"] = False
    rows: list[dict[str, Any]] = []
    for line in lines:
        row: dict[str, Any] = {}
        if line.description:
            row["Description"] = _v(_truncate(line.description, 4000))
        row["Amount"] = _v(line.amount)
        row["DetailType"] = "SalesItemLineDetail"
        row["SalesItemLineDetail"] = {
            "ItemRef": {"name": _v(line.item)}, "Qty": _v(line.qty), "UnitPrice": _v(line.unit_price),
            "TaxCodeRef": {"name": _v(line.tax_code)} if line.tax_code else
            {"value": "TAX" if line.taxable else "NON"}}
        rows.append(row)
    if discount:
        rows.append({"Amount": _v(discount), "DetailType": "DiscountLineDetail",
                     "DiscountLineDetail": {"PercentBased": False,
                                            "DiscountAccountRef": {"name": _v(posting.discount_account)}}})
    out["Line"] = rows
    out["TxnTaxDetail"] = {"TotalTax": _v(seller_tax)}
    return out


def sales_receipt(*, order: Any, posting: Any, doc_number: Any, private_note: Any, customer_name: Any, lines: Any,
                  discount: Any, seller_tax: Any, payment_method: Any, deposit_account: Any, dimensions: Any,
                  exchange_rate: Any, **_: Any) -> dict[str, Any]:
    """mappings/sales_receipt.json.j2"""
    return _sale(order, posting, doc_number, private_note, customer_name, lines, discount, seller_tax,
                 exchange_rate, dimensions, (deposit_account, payment_method))


def invoice(*, order: Any, posting: Any, doc_number: Any, private_note: Any, customer_name: Any, lines: Any,
            discount: Any, seller_tax: Any, dimensions: Any, exchange_rate: Any, **_: Any) -> dict[str, Any]:
    """mappings/invoice.json.j2"""
    return _sale(order, posting, doc_number, private_note, customer_name, lines, discount, seller_tax,
                 exchange_rate, dimensions, None)


def payment(*, order: Any, posting: Any, doc_number: Any, private_note: Any, customer_name: Any, total: Any,
            invoice: Any, payment_method: Any, deposit_account: Any, exchange_rate: Any, **_: Any) -> dict[str, Any]:
    """mappings/payment.json.j2"""
    out: dict[str, Any] = {"DocNumber": _v(doc_number), "PrivateNote": _v(_truncate(private_note, 4000)),
                           "CustomerRef": {"name": _v(customer_name)}, "CurrencyRef": {"value": _v(order.currency)}}
    if exchange_rate:
        out["ExchangeRate"] = _v(exchange_rate)
    out["TotalAmt"] = _v(total)
    out["DepositToAccountRef"] = {"name": _v(deposit_account or posting.deposit_account)}
    if payment_method:
        out["PaymentMethodRef"] = {"name": _v(payment_method)}
    out["PaymentRefNum"] = _v(_truncate(order.order_id, 21))
    out["Line"] = [{"Amount": _v(total), "LinkedTxn": [{
        "TxnType": "Invoice", "ledgerlink_key": _v(invoice["key"]), "DocNumber": _v(invoice["DocNumber"]),
        "TxnDate": _v(invoice["TxnDate"])}]}]
    return out


def customer(*, display_name: Any, buyer: Any, currency: Any, source_label: Any, **_: Any) -> dict[str, Any]:
    """mappings/customer.json.j2"""
    out: dict[str, Any] = {"DisplayName": _v(_truncate(display_name, 500))}
    if buyer and buyer.email:
        out["PrimaryEmailAddr"] = {"Address": _v(_truncate(buyer.email, 100))}
    if buyer and buyer.phone:
        out["PrimaryPhone"] = {"FreeFormNumber": _v(_truncate(buyer.phone, 30))}
    if not buyer:
        out["CompanyName"] = _v(_truncate(display_name, 100))
    out["CurrencyRef"] = {"value": _v(currency)}
    out["Notes"] = _v(_truncate("Created by ledgerlink for " + str(source_label), 2000))
    return out


def item(*, name: Any, sku: Any, description: Any, item_type: Any, income_account: Any, posting: Any,
         start_date: Any, **_: Any) -> dict[str, Any]:
    """mappings/item.json.j2"""
    out: dict[str, Any] = {"Name": _v(_truncate(name, 100))}
    if sku:
        out["Sku"] = _v(_truncate(sku, 100))
    if description:
        out["Description"] = _v(_truncate(description, 4000))
    out["Type"] = _v(item_type)
    if item_type == "Inventory":
        out["TrackQtyOnHand"] = True
        out["QtyOnHand"] = 0
        out["InvStartDate"] = _v(start_date or "2000-01-01")
        out["AssetAccountRef"] = {"name": _v(posting.asset_account)}
        out["ExpenseAccountRef"] = {"name": _v(posting.expense_account)}
    out["IncomeAccountRef"] = {"name": _v(income_account)}
    return out


#: template file name → the function that stands for it
NATIVE_MAPPINGS = {"sales_receipt.json.j2": sales_receipt, "invoice.json.j2": invoice,
                   "payment.json.j2": payment, "customer.json.j2": customer, "item.json.j2": item}

for _name, _build in NATIVE_MAPPINGS.items():
    register_native_mapping("ledgerlink_qbo", f"mappings/{_name}", _build)
