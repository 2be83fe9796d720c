"""Account roles: what a piece of payout money *is*, before anyone decides which account it goes to.

The channel's own words (transaction type, amount type, description) map to a role through the role table;
the role maps to one of the company's accounts through the account map. Two small steps, each one a file a
bookkeeper can read and edit.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Role", "ROLE_LABELS", "BALANCE_SHEET_ROLES", "ORDER_FLOW_ROLES"]


class Role(str, Enum):
    """Every kind of money a payout can hold, plus the accounts the posting itself needs."""

    # sales and what reduces them
    SALES = "sales"
    SHIPPING_INCOME = "shipping_income"
    GIFT_WRAP = "gift_wrap"
    PROMOTIONS = "promotions"
    REFUNDS = "refunds"
    # seller fees
    COMMISSION = "commission"
    REFUND_COMMISSION = "refund_commission"
    DIGITAL_SERVICES_FEE = "digital_services_fee"
    SELLING_FEES = "selling_fees"
    # fulfilment and services
    FBA_FEES = "fba_fees"
    STORAGE_FEES = "storage_fees"
    INBOUND_TRANSPORT = "inbound_transport"
    ADVERTISING = "advertising"
    SUBSCRIPTION = "subscription"
    SHIPPING_LABELS = "shipping_labels"
    # taxes
    MARKETPLACE_TAX = "marketplace_tax"
    MARKETPLACE_TAX_WITHHELD = "marketplace_tax_withheld"
    TAX_COLLECTED = "tax_collected"
    TAX_ON_FEES = "tax_on_fees"
    # adjustments
    REIMBURSEMENTS = "reimbursements"
    OTHER_ADJUSTMENTS = "other_adjustments"
    # balance sheet
    RESERVE_CURRENT = "reserve_current"
    RESERVE_PREVIOUS = "reserve_previous"
    NEGATIVE_BALANCE_CHARGE = "negative_balance_charge"
    PAYABLE_TO_AMAZON = "payable_to_amazon"
    MICRO_DEPOSIT = "micro_deposit"
    # what the posting itself needs
    CLEARING = "clearing"
    BANK = "bank"
    CARRIED_FORWARD = "carried_forward"
    ROUNDING = "rounding"
    FX = "fx"
    # cost of goods and deferred transactions (ledgerlink.cogs, ledgerlink.deferred)
    INVENTORY_ASSET = "inventory_asset"
    COST_OF_GOODS = "cost_of_goods"
    INVENTORY_LOSS = "inventory_loss"
    DEFERRED_RECEIVABLE = "deferred_receivable"


ROLE_LABELS: dict[Role, str] = {
    Role.SALES: "Sales (principal)",
    Role.SHIPPING_INCOME: "Shipping income",
    Role.GIFT_WRAP: "Gift wrap income",
    Role.PROMOTIONS: "Promotions and discounts",
    Role.REFUNDS: "Refunds to buyers",
    Role.COMMISSION: "Commission (referral fees)",
    Role.REFUND_COMMISSION: "Refund commission (refund administration fee)",
    Role.DIGITAL_SERVICES_FEE: "Digital services fee",
    Role.SELLING_FEES: "Other selling fees (closing, listing, collection fees)",
    Role.FBA_FEES: "FBA fulfilment fees",
    Role.STORAGE_FEES: "FBA storage fees",
    Role.INBOUND_TRANSPORT: "FBA inbound transportation",
    Role.ADVERTISING: "Advertising (sponsored products)",
    Role.SUBSCRIPTION: "Seller subscription",
    Role.SHIPPING_LABELS: "Shipping labels and chargebacks",
    Role.MARKETPLACE_TAX: "Marketplace-facilitator tax collected by the marketplace",
    Role.MARKETPLACE_TAX_WITHHELD: "Marketplace-facilitator tax withheld (its offset)",
    Role.TAX_COLLECTED: "VAT/GST/sales tax collected by the seller",
    Role.TAX_ON_FEES: "VAT/GST charged on marketplace fees (input tax)",
    Role.REIMBURSEMENTS: "FBA reimbursements",
    Role.OTHER_ADJUSTMENTS: "Other marketplace adjustments",
    Role.RESERVE_CURRENT: "Reserve held this settlement",
    Role.RESERVE_PREVIOUS: "Reserve released from the previous settlement",
    Role.NEGATIVE_BALANCE_CHARGE: "Negative balance charged to the seller's card",
    Role.PAYABLE_TO_AMAZON: "Payable to Amazon (negative balance carried)",
    Role.MICRO_DEPOSIT: "Bank verification micro-deposit",
    Role.CLEARING: "Marketplace clearing (orders posted one by one)",
    Role.BANK: "Bank (the deposit)",
    Role.CARRIED_FORWARD: "Settlement balance carried into the next month",
    Role.ROUNDING: "Rounding",
    Role.FX: "Foreign exchange gain/loss",
    Role.INVENTORY_ASSET: "Inventory asset (units on hand at cost)",
    Role.COST_OF_GOODS: "Cost of goods sold",
    Role.INVENTORY_LOSS: "Inventory lost, damaged or disposed (shrinkage)",
    Role.DEFERRED_RECEIVABLE: "Amazon deferred transactions (sold, not yet released)",
}

#: roles whose account must be on the balance sheet (DESIGN §4: reserves never touch profit and loss)
BALANCE_SHEET_ROLES = frozenset({
    Role.RESERVE_CURRENT, Role.RESERVE_PREVIOUS, Role.NEGATIVE_BALANCE_CHARGE, Role.PAYABLE_TO_AMAZON,
    Role.MICRO_DEPOSIT, Role.CLEARING, Role.BANK, Role.CARRIED_FORWARD, Role.MARKETPLACE_TAX,
    Role.MARKETPLACE_TAX_WITHHELD, Role.TAX_COLLECTED, Role.INVENTORY_ASSET, Role.DEFERRED_RECEIVABLE,
})

#: roles the order flow already posted (as sales receipts and refunds into clearing) in per-order mode
ORDER_FLOW_ROLES = frozenset({
    Role.SALES, Role.SHIPPING_INCOME, Role.GIFT_WRAP, Role.PROMOTIONS, Role.REFUNDS, Role.TAX_COLLECTED,
})
