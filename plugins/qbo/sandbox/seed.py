"""The sandbox company's starting books, modelled on Intuit's sample company (Craig's Design and
Landscaping Services): US, USD, multicurrency off, automated sales tax on, the usual accounts, a shipping
and a gift wrap service, a few customers, one vendor and one employee (DisplayName is unique across all three).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SEED_ACCOUNTS", "SEED_ITEMS", "SEED_CUSTOMERS", "SEED_VENDORS", "SEED_EMPLOYEES", "SEED_CLASSES",
           "SEED_DEPARTMENTS", "SEED_PAYMENT_METHODS", "SEED_TAX_CODES", "SEED_INVENTORY", "company_info",
           "preferences", "CURRENCY_NAMES"]

CURRENCY_NAMES = {"USD": "United States Dollar", "CAD": "Canadian Dollar", "GBP": "British Pound Sterling",
                  "EUR": "Euro", "AUD": "Australian Dollar", "MXN": "Mexican Peso", "JPY": "Japanese Yen"}

#: (Name, AccountType, AccountSubType, Classification)
SEED_ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("Checking", "Bank", "Checking", "Asset"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
    ("Sales Tax Payable", "Other Current Liability", "SalesTaxPayable", "Liability"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("Shipping Income", "Income", "OtherPrimaryIncome", "Revenue"),
    ("Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("Inventory Shrinkage", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("Merchant Fees", "Expense", "BankCharges", "Expense"),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "Equity"),
]

#: (Name, Type, income account name)
SEED_ITEMS: list[tuple[str, str, str]] = [
    ("Shipping", "Service", "Shipping Income"),
    ("Gift Wrap", "Service", "Sales of Product Income"),
    ("Services", "Service", "Services"),
]

#: (DisplayName, Active)
SEED_CUSTOMERS: list[tuple[str, bool]] = [
    ("Amy's Bird Sanctuary", True),
    ("Bill's Windsurf Shop", True),
    ("Cool Cars", True),
    ("Dylan Sollfrank", True),
    ("Weiskopf Consulting", False),
]
SEED_VENDORS = ["Books by Bessie"]
SEED_CLASSES = ["Online", "Retail"]
SEED_DEPARTMENTS = ["East", "West"]
SEED_PAYMENT_METHODS = ["Cash", "Check", "Visa", "MasterCard"]
#: (Name, Description, Taxable): a US company on automated sales tax has the pseudo codes only
SEED_TAX_CODES = [("TAX", "TAX", True), ("NON", "NON", False)]
#: (Name, QtyOnHand): an inventory item to adjust and sell
SEED_INVENTORY = [("Sprinkler Heads", 25)]
SEED_EMPLOYEES = ["Emily Platt"]


def company_info(country: str) -> dict[str, Any]:
    return {
        "CompanyName": "Sandbox Company_US_1", "LegalName": "Sandbox Company_US_1",
        "CompanyAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA",
                        "PostalCode": "87999"},
        "CustomerCommunicationAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo",
                                      "CountrySubDivisionCode": "CA", "PostalCode": "87999"},
        "LegalAddr": {"Id": "1", "Line1": "123 Sierra Way", "City": "San Pablo", "CountrySubDivisionCode": "CA",
                      "PostalCode": "87999"},
        "PrimaryPhone": {}, "CompanyStartDate": "2024-01-01", "FiscalYearStartMonth": "January",
        "Country": country, "Email": {"Address": "noreply@example.com"}, "WebAddr": {},
        "SupportedLanguages": "en",
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IsQbdtMigrated", "Value": "false"},
                      {"Name": "QBOIndustryType", "Value": "Retail"}],
        "domain": "QBO", "sparse": False, "Id": "1", "SyncToken": "4",
    }


def preferences(home_currency: str, multicurrency: bool, discount_account_id: str, features: Any) -> dict[str, Any]:
    return {
        "AccountingInfoPrefs": {"TrackDepartments": features.track_departments,
                                "ClassTrackingPerTxn": features.class_tracking,
                                "ClassTrackingPerTxnLine": features.class_tracking, "CustomerTerminology": "Customers"},
        "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityWithPriceAndRate": True,
                                    "QuantityOnHand": features.inventory_tracking},
        "SalesFormsPrefs": {"CustomTxnNumbers": features.custom_txn_numbers, "AllowDeposit": False, "AllowDiscount": True,
                            "DefaultDiscountAccount": discount_account_id, "AllowEstimates": True,
                            "AllowServiceDate": False, "AllowShipping": False, "UsingPriceLevels": False},
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": features.automated_sales_tax},
        "CurrencyPrefs": {"MultiCurrencyEnabled": multicurrency, "HomeCurrency": {"value": home_currency}},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
        "domain": "QBO", "sparse": False, "Id": "1", "SyncToken": "0",
    }

