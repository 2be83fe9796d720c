"""What ledgerlink knows about each Amazon marketplace: its currency, and whether its prices include tax.

Amazon's VAT marketplaces (Amazon.co.uk, the EU stores) and Amazon.co.jp quote every price to the buyer with
tax included, and the Orders API reports it so: `ItemPrice`, `ShippingPrice`, `GiftWrapPrice` and the
promotion discounts are what the buyer sees, tax included, and `ItemTax`, `ShippingTax`, `GiftWrapTax`,
`PromotionDiscountTax`, `ShippingDiscountTax` are the tax inside them; `OrderTotal` is then the sum of the
prices less the discounts, with no tax added. In Amazon.com and Amazon.ca the prices exclude tax and the tax
is added on top. The Orders v0 model does not say either way ("ItemTax: the tax on the item price"); what we
rely on:

- Amazon Seller Support on the UK store: "Prices listed on the UK marketplace will be treated as inclusive of
  UK VAT. Amazon will calculate the UK VAT due on your sale" (quoted at
  https://conyac.cc/questions/313822/bodies/497715/translations/1016695?locale=en);
- SP-API docs, "VCS prices": for VAT Calculation Service sellers "all prices need to remain VAT inclusive in
  the price feed. VAT exclusive prices will be automatically derived from the inclusive price"
  (https://developer-docs.amazon.com/sp-api/docs/vat-calculation-service-prices);
- Odoo's Amazon connector (sale_amazon, `amazon_account.py`) reads the same fields with a per-marketplace
  `tax_included` flag: `ItemPrice - ItemTax`, `PromotionDiscount - PromotionDiscountTax`,
  `ShippingPrice - ShippingTax`, `ShippingDiscount - ShippingDiscountTax` where prices include tax;
- amzn/selling-partner-api-models issue #1766 ("ItemTax & ShippingTax in European market"): European orders
  can report ItemTax 0.00 while the price still holds the VAT (sellers outside VCS), so a zero tax is no
  sign of tax-exclusive prices.

Marketplaces not listed here (Amazon.com.au, .in, .sg, .ae, …) are read as tax-exclusive. A seller who needs
another set passes it to the orders normalisers (`normalise_order(..., tax_inclusive=...)`, the same for
`normalise_order_2026`) through a pipeline's `source.normalise` override, e.g. a `functools.partial`.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["MARKETPLACE_CURRENCY", "TAX_INCLUSIVE_MARKETPLACES", "prices_include_tax"]

#: a marketplace's currency, for orders where Amazon gives no amount yet (Pending, Canceled)
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP", "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR", "A1805IZSGTT6HS": "EUR", "A2NODRKZP88ZB9": "SEK", "A1C3SOZRARQ6R3": "PLN",
    "A1VC38T7YXB528": "JPY", "A39IBJ37TRP1C6": "AUD", "A19VAU5U5O7RUS": "SGD", "A21TJRUUN4KGV": "INR",
}

#: marketplaces whose Orders API prices (and promotion discounts) include the tax reported beside them
TAX_INCLUSIVE_MARKETPLACES: frozenset[str] = frozenset({
    "A1F83G8C2ARO7P",  # Amazon.co.uk (GBP, UK VAT)
    "A1PA6795UKMFR9",  # Amazon.de
    "A13V1IB3VIYZZH",  # Amazon.fr
    "APJ6JRA9NG5V4",   # Amazon.it
    "A1RKKUPIHCS9HS",  # Amazon.es
    "A1805IZSGTT6HS",  # Amazon.nl
    "AMEN7PMS3EDWL",   # Amazon.com.be
    "A28R8C7NBKEWEA",  # Amazon.ie
    "A2NODRKZP88ZB9",  # Amazon.se (SEK)
    "A1C3SOZRARQ6R3",  # Amazon.pl (PLN)
    "A1VC38T7YXB528",  # Amazon.co.jp (JPY, consumption tax)
})


def prices_include_tax(marketplace: str | None, inclusive: Collection[str] = TAX_INCLUSIVE_MARKETPLACES) -> bool:
    """Whether an order of this marketplace reports its prices with the tax included (VAT marketplaces) rather
    than the tax added on top (US, CA). An order without a marketplace is read as tax-exclusive."""
    return marketplace is not None and marketplace in inclusive
