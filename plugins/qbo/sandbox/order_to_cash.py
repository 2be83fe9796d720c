"""The sandbox company's order-to-cash rules: voids, exchange rates, and tax computed from tax codes.

- Void (`invoice?operation=void`, `salesreceipt?include=void` — `operation=void` is accepted too —, and
  `payment?operation=update&include=void`): the document stays with its number, its amounts become zero and
  its PrivateNote "Voided" (as Intuit's captured void response shows); its effects (stock, invoice balances)
  are undone. An invoice with a payment applied is refused until the payment is voided.
- Multicurrency: a foreign-currency transaction carries ExchangeRate (given, else the company's rate for the
  currency); `GET exchangerate?sourcecurrencycode=&asofdate=` answers the rate.
- Companies outside the US have real tax codes with rates: QuickBooks computes each line's tax from its code
  (rounded per line) and the document's TotalTax is that sum, not what the request said.

A mixin of `company.Company`.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .faults import CENT, SandboxFault, business, now_text, number, stale

__all__ = ["OrderToCashRules", "USD_RATES", "TAX_CODES_BY_COUNTRY"]

#: units of USD per unit of each currency (the sandbox's rate table; any date)
USD_RATES = {"USD": Decimal(1), "CAD": Decimal("0.7300"), "GBP": Decimal("1.2700"), "EUR": Decimal("1.0800"),
             "AUD": Decimal("0.6600"), "MXN": Decimal("0.0580"), "JPY": Decimal("0.0067")}
#: a non-US company's tax codes: (Name, rate in percent)
TAX_CODES_BY_COUNTRY = {
    "CA": [("GST/HST ON", Decimal("13")), ("GST", Decimal("5")), ("Exempt", Decimal(0)), ("Zero-rated", Decimal(0))],
    "GB": [("20.0% S", Decimal("20")), ("0.0% Z", Decimal(0)), ("Exempt", Decimal(0))],
    "AU": [("GST", Decimal("10")), ("GST free", Decimal(0))],
}
_VOIDABLE = ("SalesReceipt", "Invoice", "Payment")


class OrderToCashRules:
    entities: dict[str, dict[str, dict[str, Any]]]
    home_currency: str
    multicurrency: bool
    country: str
    _lock: Any
    #: TaxCode Id → rate in percent (non-US companies)
    tax_rates: dict[str, Decimal]

    def _before_delete(self, entity: str, obj: dict[str, Any]) -> None: ...
    def _put(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]: ...

    def _seed_tax_codes(self) -> bool:
        """A non-US company's tax codes (True), or False for a US one (TAX/NON pseudo codes)."""
        codes = TAX_CODES_BY_COUNTRY.get(self.country)
        if self.country == "US" or codes is None:
            return False
        self.tax_rates = {}
        for name, rate in codes:
            obj = self._put("TaxCode", {"Name": name, "Description": name, "Active": True, "Taxable": rate > 0,
                                        "TaxGroup": False, "Hidden": False})
            self.tax_rates[obj["Id"]] = rate
        return True

    # -------------------------------------------------------------------------------------- exchange

    def rate(self, currency: str) -> Decimal:
        code = currency.upper()
        if code not in USD_RATES:
            raise SandboxFault("6000", "A business validation error has occurred while processing your request",
                               f"Business Validation Error: the currency {code} is not in this company's currency "
                               "list.", "CurrencyRef")
        return (USD_RATES[code] / USD_RATES[self.home_currency.upper()]).quantize(Decimal("0.0000001"))

    def exchange_rate(self, currency: str, as_of: str) -> dict[str, Any]:
        if not self.multicurrency:
            raise business("Multicurrency is not turned on for this company.", "sourcecurrencycode")
        return {"SyncToken": "0", "domain": "QBO", "AsOfDate": as_of, "SourceCurrencyCode": currency.upper(),
                "TargetCurrencyCode": self.home_currency, "Rate": self.rate(currency), "sparse": False,
                "MetaData": {"LastUpdatedTime": now_text()}}

    def _exchange(self, obj: dict[str, Any]) -> None:
        """A foreign-currency transaction's ExchangeRate: the one given, else the company's."""
        code = str((obj.get("CurrencyRef") or {}).get("value") or self.home_currency).upper()
        if code == self.home_currency.upper():
            if obj.get("ExchangeRate") is not None and number(obj["ExchangeRate"], "ExchangeRate") != 1:
                raise business("A home-currency transaction's ExchangeRate must be 1.", "ExchangeRate")
            return
        given = obj.get("ExchangeRate")
        rate = number(given, "ExchangeRate") if given is not None else self.rate(code)
        if rate <= 0:
            raise business("ExchangeRate must be positive.", "ExchangeRate")
        obj["ExchangeRate"] = rate

    # ------------------------------------------------------------------------------------------- tax

    def _codes_tax(self, lines: list[dict[str, Any]]) -> Decimal | None:
        """Tax computed from the lines' tax codes (non-US companies), or None (US: the request's TotalTax)."""
        if self.country == "US" or not getattr(self, "tax_rates", None):
            return None
        total = Decimal(0)
        for line in lines:
            if line.get("DetailType") != "SalesItemLineDetail":
                continue
            ref = (line.get("SalesItemLineDetail") or {}).get("TaxCodeRef") or {}
            code_id = str(ref.get("value") or "")
            if code_id not in self.tax_rates:
                raise SandboxFault("6100", "Invalid Line TaxCode in the request",
                                   f"Invalid Line TaxCode: {code_id or '(none)'} is not a tax code of this company",
                                   "Line.SalesItemLineDetail.TaxCodeRef")
            ref["name"] = self.entities["TaxCode"][code_id]["Name"]
            amount = number(line.get("Amount", 0), "Line.Amount")
            total += (amount * self.tax_rates[code_id] / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return total

    # ------------------------------------------------------------------------------------------- void

    def void(self, entity: str, payload: dict[str, Any]) -> dict[str, Any]:
        if entity not in _VOIDABLE:
            raise SandboxFault("500", "Unsupported Operation", f"Operation void is not supported for {entity}")
        with self._lock:
            current = self.entities[entity].get(str(payload.get("Id") or ""))
            if current is None:
                raise SandboxFault("610", "Object Not Found", "Object Not Found : Another user has deleted this "
                                                              "transaction.")
            if "SyncToken" not in payload or str(payload["SyncToken"]) != current["SyncToken"]:
                raise stale()
            if entity == "Invoice" and number(current.get("Balance", 0), "Balance") != number(
                    current.get("TotalAmt", 0), "TotalAmt"):
                raise business(f"Invoice {current['Id']} has payments applied: void or delete them first.", "Id")
            self._before_delete(entity, current)
            voided = copy.deepcopy(current)
            for line in voided.get("Line") or []:
                line["Amount"] = Decimal(0)
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict):
                    detail.update({"Qty": Decimal(0), "UnitPrice": Decimal(0)})
            voided.update({"TotalAmt": Decimal(0), "PrivateNote": "Voided",
                           "SyncToken": str(int(current["SyncToken"]) + 1),
                           "MetaData": {**current["MetaData"], "LastUpdatedTime": now_text()}})
            if "Balance" in voided:
                voided["Balance"] = Decimal(0)
            if entity == "Payment":
                voided["UnappliedAmt"] = Decimal(0)
            if isinstance(voided.get("TxnTaxDetail"), dict):
                voided["TxnTaxDetail"] = {**voided["TxnTaxDetail"], "TotalTax": Decimal(0)}
            self.entities[entity][current["Id"]] = voided
            return copy.deepcopy(voided)
