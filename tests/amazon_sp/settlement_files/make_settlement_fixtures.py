"""How the Flat File V2 fixtures here were written (run it to rebuild them; the files are checked in as they are).

Totals are computed with Decimal from the rows, so every good fixture ties to the cent; the bad ones are
the month-crossing settlement broken one way each, under ids of their own."""
from decimal import Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parent
V2 = ["settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date", "total-amount", "currency",
      "transaction-type", "order-id", "merchant-order-id", "adjustment-id", "shipment-id", "marketplace-name",
      "amount-type", "amount-description", "amount", "fulfillment-id", "posted-date", "posted-date-time",
      "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased"]
V2P = V2 + ["promotion-id"]


def eu(d: Decimal) -> str:
    s = f"{abs(d):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return ("-" if d < 0 else "") + s


def us(d: Decimal) -> str:
    return f"{d:.2f}"


def render(columns, summary, rows, fmt=us, eol="\n", pad=None):
    total = sum(Decimal(r["amount"]) for r in rows)
    summary = {**summary, "total-amount": fmt(total)}
    out = ["\t".join(columns), "\t".join(summary.get(c, "") for c in columns)]
    for r in rows:
        vals = {**r, "amount": fmt(Decimal(r["amount"])) + (pad or {}).get(id(r), "")}
        vals["settlement-id"] = summary["settlement-id"]
        out.append("\t".join(vals.get(c, "") for c in columns))
    return eol.join(out) + eol, total


def order(tt, oid, item, sku, q, at, desc, amt, mp="Amazon.com", ful="AFN", **kw):
    r = {"transaction-type": tt, "order-id": oid, "merchant-order-id": oid if ful == "MFN" else "",
         "shipment-id": kw.pop("ship", "DgK1bzHqN"), "marketplace-name": mp, "amount-type": at,
         "amount-description": desc, "amount": amt, "fulfillment-id": ful, "order-item-code": item, "sku": sku,
         "quantity-purchased": str(q)}
    r.update(kw)
    return r


def dated(rows, when_pairs):
    for r, (pd, pdt) in zip(rows, when_pairs):
        r["posted-date"], r["posted-date-time"] = pd, pdt
    return rows


# ---------------------------------------------------------------------------------- month crossing, USD, MFT
def month_crossing():
    rows = []
    def add(when, items):
        for r in items:
            r["posted-date"], r["posted-date-time"] = when
            rows.append(r)
    o1, o2, o3, o4 = "112-4019283-5520147", "113-7781203-0045521", "111-2209384-7716620", "114-6602918-3381105"
    add(("01/27/26", "2026-01-27 18:42:10 UTC"), [
        order("Order", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemPrice", "Principal", "39.00"),
        order("Order", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemPrice", "Tax", "3.22"),
        order("Order", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-3.22"),
        order("Order", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemFees", "FBAPerUnitFulfillmentFee", "-5.40"),
        order("Order", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemFees", "Commission", "-5.85"),
    ])
    add(("01/30/26", "2026-01-30 23:59:59 UTC"), [
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemPrice", "Principal", "29.98", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemPrice", "Shipping", "4.99", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemPrice", "Tax", "2.17", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemPrice", "ShippingTax", "0.36", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-2.17", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping", "-0.36", ful="MFN", ship="MFN-8812"),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "Promotion", "Shipping", "-4.99", ful="MFN", ship="MFN-8812", **{"promotion-id": "Core Free Shipping"}),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "Promotion", "Principal", "-3.00", ful="MFN", ship="MFN-8812", **{"promotion-id": "PLM-20260130"}),
        order("Order", o2, "60192837465001", "LL-MUG-11OZ", 2, "ItemFees", "Commission", "-4.05", ful="MFN", ship="MFN-8812"),
    ])
    add(("02/01/26", "2026-02-01 00:00:01 UTC"), [
        order("Order", o3, "33019283746002", "LL-GRD-BURR", 1, "ItemPrice", "Principal", "59.99"),
        order("Order", o3, "33019283746002", "LL-GRD-BURR", 1, "ItemPrice", "Tax", "4.35"),
        order("Order", o3, "33019283746002", "LL-GRD-BURR", 1, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-4.35"),
        order("Order", o3, "33019283746002", "LL-GRD-BURR", 1, "ItemFees", "FBAPerUnitFulfillmentFee", "-6.10"),
        order("Order", o3, "33019283746002", "LL-GRD-BURR", 1, "ItemFees", "Commission", "-9.00"),
    ])
    add(("02/04/26", "2026-02-04 09:15:33 UTC"), [
        order("Refund", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemPrice", "Principal", "-39.00", **{"adjustment-id": "amzn1:crow:Q1x7"}),
        order("Refund", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemPrice", "Tax", "-3.22", **{"adjustment-id": "amzn1:crow:Q1x7"}),
        order("Refund", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "3.22", **{"adjustment-id": "amzn1:crow:Q1x7"}),
        order("Refund", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemFees", "Commission", "5.85", **{"adjustment-id": "amzn1:crow:Q1x7"}),
        order("Refund", o1, "52810394716021", "LL-KTL-GOOSE", 1, "ItemFees", "RefundCommission", "-1.17", **{"adjustment-id": "amzn1:crow:Q1x7"}),
    ])
    add(("02/06/26", "2026-02-06 14:02:00 UTC"), [
        order("Order", o4, "71620394857003", "LL-TEA-EARL-100", 3, "ItemPrice", "Principal", "37.47"),
        order("Order", o4, "71620394857003", "LL-TEA-EARL-100", 3, "ItemPrice", "Tax", "2.72"),
        order("Order", o4, "71620394857003", "LL-TEA-EARL-100", 3, "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", "-2.72"),
        order("Order", o4, "71620394857003", "LL-TEA-EARL-100", 3, "ItemFees", "FBAPerUnitFulfillmentFee", "-9.66"),
        order("Order", o4, "71620394857003", "LL-TEA-EARL-100", 3, "ItemFees", "Commission", "-5.62"),
        {"transaction-type": "ServiceFee", "amount-type": "Cost of Advertising", "amount-description": "TransactionTotalAmount", "amount": "-25.40"},
    ])
    rows[-1]["posted-date"], rows[-1]["posted-date-time"] = "02/07/26", "2026-02-07 03:00:00 UTC"
    summary = {"settlement-id": "19837462011", "settlement-start-date": "2026-01-25 22:00:00 UTC",
               "settlement-end-date": "2026-02-08 22:00:00 UTC", "deposit-date": "2026-02-10 22:00:00 UTC",
               "currency": "USD"}
    return render(V2P, summary, rows)


# ---------------------------------------------------------------------------------- EU decimal commas, EUR
def eu_commas():
    rows = []
    o1, o2 = "302-1928374-6655443", "305-8877665-1122334"
    def r(tt, oid, item, sku, q, at, desc, amt, when, **kw):
        x = order(tt, oid, item, sku, q, at, desc, amt, mp="Amazon.de", **kw)
        x["posted-date"], x["posted-date-time"] = when
        rows.append(x)
    w1 = ("03.03.2026", "03.03.2026 11:20:45 UTC")
    r("Order", o1, "40918273645501", "LL-GRD-BURR-DE", 1, "ItemPrice", "Principal", "1299.00", w1)
    r("Order", o1, "40918273645501", "LL-GRD-BURR-DE", 1, "ItemFees", "Commission", "-90.93", w1)
    r("Order", o1, "40918273645501", "LL-GRD-BURR-DE", 1, "ItemFees", "FBAPerUnitFulfillmentFee", "-12.30", w1)
    r("Order", o1, "40918273645501", "LL-GRD-BURR-DE", 1, "ItemFees", "DigitalServicesFee", "-2.60", w1)
    w2 = ("07.03.2026", "07.03.2026 08:05:10 UTC")
    r("Order", o2, "40918273645502", "LL-MUG-11OZ-DE", 2, "ItemPrice", "Principal", "95.00", w2)
    r("Order", o2, "40918273645502", "LL-MUG-11OZ-DE", 2, "Promotion", "Principal", "-9.50", w2, **{"promotion-id": "A2KX9PROMO"})
    r("Order", o2, "40918273645502", "LL-MUG-11OZ-DE", 2, "ItemFees", "Commission", "-13.30", w2)
    r("Order", o2, "40918273645502", "LL-MUG-11OZ-DE", 2, "ItemFees", "FBAPerUnitFulfillmentFee", "-7.48", w2)
    x = {"transaction-type": "other-transaction", "amount-type": "other-transaction", "amount-description": "Storage Fee",
         "amount": "-1234.56", "posted-date": "10.03.2026", "posted-date-time": "10.03.2026 00:00:00 UTC"}
    rows.append(x)
    summary = {"settlement-id": "20998877601", "settlement-start-date": "01.03.2026 09:00:00 UTC",
               "settlement-end-date": "15.03.2026 09:00:00 UTC", "deposit-date": "17.03.2026 09:00:00 UTC",
               "currency": "EUR"}
    return render(V2P, summary, rows, fmt=eu, eol="\r\n")


# ---------------------------------------------------------------------------------- negative, CAD, FBA shipment ids
def negative():
    rows = [
        {"transaction-type": "FBAFees", "order-id": "FBA19CD9HGQ8", "amount-type": "other-transaction",
         "amount-description": "FBAInboundTransportationFee", "amount": "-412.88",
         "posted-date": "04/03/26", "posted-date-time": "2026-04-03 17:40:00 UTC", "quantity-purchased": "0"},
        {"transaction-type": "FBAFees", "order-id": "FBA19CD9HGQ8", "amount-type": "other-transaction",
         "amount-description": "FBAInboundTransportationFee", "amount": "12.40",
         "posted-date": "04/05/26", "posted-date-time": "2026-04-05 10:00:00 UTC", "quantity-purchased": "0"},
        {"transaction-type": "Subscription Fee", "amount-type": "other-transaction", "amount-description": "Subscription Fee",
         "amount": "-29.99", "posted-date": "04/02/26", "posted-date-time": "2026-04-02 06:00:00 UTC"},
        order("Order", "701-5512093-8812734", "11920384756001", "LL-TIN-500", 1, "ItemPrice", "Principal", "29.24",
              mp="Amazon.ca", **{"posted-date": "04/08/26", "posted-date-time": "2026-04-08 12:00:00 UTC"}),
        order("Order", "701-5512093-8812734", "11920384756001", "LL-TIN-500", 1, "ItemPrice", "Tax", "3.80",
              mp="Amazon.ca", **{"posted-date": "04/08/26", "posted-date-time": "2026-04-08 12:00:00 UTC"}),
        order("Order", "701-5512093-8812734", "11920384756001", "LL-TIN-500", 1, "ItemFees", "Commission", "-4.39",
              mp="Amazon.ca", **{"posted-date": "04/08/26", "posted-date-time": "2026-04-08 12:00:00 UTC"}),
        order("Order", "701-5512093-8812734", "11920384756001", "LL-TIN-500", 1, "ItemFees", "FBAPerUnitFulfillmentFee", "-6.12",
              mp="Amazon.ca", **{"posted-date": "04/08/26", "posted-date-time": "2026-04-08 12:00:00 UTC"}),
        {"transaction-type": "other-transaction", "order-id": "", "amount-type": "other-transaction",
         "amount-description": "Reversal", "amount": "8.00",
         "posted-date": "04/10/26", "posted-date-time": "2026-04-10 10:10:10 UTC"},
    ]
    summary = {"settlement-id": "23874396999", "settlement-start-date": "2026-04-01T22:07:18+00:00",
               "settlement-end-date": "2026-04-15T22:07:18+00:00", "deposit-date": "2026-04-17T22:07:18+00:00",
               "currency": "CAD"}
    return render(V2, summary, rows)


# ---------------------------------------------------------------------------------- reserves, reimbursements, GBP
SHUFFLED = ["transaction-type", "amount-description", "amount", "amount-type", "settlement-id", "order-id", "sku",
            "marketplace-name", "posted-date-time", "posted-date", "currency", "total-amount", "deposit-date",
            "settlement-end-date", "settlement-start-date", "merchant-order-id", "adjustment-id", "shipment-id",
            "fulfillment-id", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id",
            "quantity-purchased", "promotion-id"]


def reserves():
    rows = [
        {"transaction-type": "other-transaction", "amount-type": "other-transaction",
         "amount-description": "Previous Reserve Amount Balance", "amount": "250.00",
         "posted-date": "06/01/26", "posted-date-time": "2026-06-01 07:00:00 UTC"},
        order("Order", "202-3344556-7788990", "88123409871001", "LL-PRS-FR-1L", 1, "ItemPrice", "Principal", "24.99",
              mp="Amazon.co.uk", **{"posted-date": "06/03/26", "posted-date-time": "2026-06-03 15:30:00 UTC"}),
        order("Order", "202-3344556-7788990", "88123409871001", "LL-PRS-FR-1L", 1, "ItemFees", "Commission", "-3.75",
              mp="Amazon.co.uk", **{"posted-date": "06/03/26", "posted-date-time": "2026-06-03 15:30:00 UTC"}),
        order("Order", "202-3344556-7788990", "88123409871001", "LL-PRS-FR-1L", 1, "ItemFees", "FBAPerUnitFulfillmentFee", "-2.98",
              mp="Amazon.co.uk", **{"posted-date": "06/03/26", "posted-date-time": "2026-06-03 15:30:00 UTC"}),
        {"transaction-type": "other-transaction", "amount-type": "FBA Inventory Reimbursement",
         "amount-description": "WAREHOUSE_DAMAGE", "amount": "17.42", "sku": "LL-PRS-FR-1L", "quantity-purchased": "1",
         "marketplace-name": "Amazon.co.uk", "posted-date": "06/05/26", "posted-date-time": "2026-06-05 02:00:00 UTC"},
        {"transaction-type": "other-transaction", "order-id": "202-9988776-5544332", "amount-type": "FBA Inventory Reimbursement",
         "amount-description": "CustomerReturn", "amount": "11.05", "sku": "LL-CUP-ESP-4", "quantity-purchased": "1",
         "marketplace-name": "", "posted-date": "06/06/26", "posted-date-time": "2026-06-06 02:00:00 UTC"},
        {"transaction-type": "other-transaction", "amount-type": "other-transaction",
         "amount-description": "Storage Fee", "amount": "-6.31",
         "posted-date": "06/07/26", "posted-date-time": "2026-06-07 00:00:00 UTC"},
        {"transaction-type": "other-transaction", "amount-type": "other-transaction",
         "amount-description": "Current Reserve Amount", "amount": "-190.00",
         "posted-date": "06/14/26", "posted-date-time": "2026-06-14 07:00:00 UTC"},
    ]
    pad = {id(rows[0]): "   ", id(rows[4]): " "}  # trailing spaces on amounts, as in Amazon's own files
    summary = {"settlement-id": "17766554433", "settlement-start-date": "2026-05-31T07:00:00+00:00",
               "settlement-end-date": "2026-06-14T07:00:00+00:00", "deposit-date": "2026-06-16T07:00:00+00:00",
               "currency": "GBP"}
    return render(SHUFFLED, summary, rows, pad=pad)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bad").mkdir(exist_ok=True)
    (OUT / "duplicates").mkdir(exist_ok=True)
    good = {"v2_month_crossing_USD_19837462011.txt": month_crossing(),
            "v2_eu_decimal_comma_EUR_20998877601.txt": eu_commas(),
            "v2_negative_CAD_23874396999.txt": negative(),
            "v2_reserves_reimbursements_GBP_17766554433.txt": reserves()}
    for name, (text, total) in good.items():
        data = text.encode("utf-8")
        if "EUR" in name:
            data = b"\xef\xbb\xbf" + data  # a BOM, as Windows tools write
        (OUT / name).write_bytes(data)
        print(name, total)
    mc = good["v2_month_crossing_USD_19837462011.txt"][0]
    lines = mc.split("\n")
    # truncated: the download stopped in the middle of line 20
    (OUT / "bad" / "truncated_19837462012.txt").write_text(
        ("\n".join(lines[:19]) + "\n" + lines[19][:60]).replace("19837462011", "19837462012"))
    # header total off by one cent
    summary = lines[1].split("\t")
    summary[4] = f"{Decimal(summary[4]) + Decimal('0.01'):.2f}"
    print("mc total", lines[1].split("\t")[4])
    (OUT / "bad" / "total_disagrees_19837462013.txt").write_text(
        "\n".join([lines[0], "\t".join(summary)] + lines[2:]).replace("19837462011", "19837462013"))
    # text in an amount, line 7
    cells = lines[6].split("\t")
    cells[14] = "4.O5"  # a letter O where a zero should be
    (OUT / "bad" / "text_in_amount_19837462014.txt").write_text(
        "\n".join(lines[:6] + ["\t".join(cells)] + lines[7:]).replace("19837462011", "19837462014"))
    # wrong format: the all-orders report saved under a settlement name
    (OUT / "bad" / "wrong_format_all_orders.txt").write_text(
        "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
        "sales-channel\tsku\tquantity\tcurrency\titem-price\titem-tax\n"
        "112-4019283-5520147\t\t2026-01-26T18:42:10+00:00\t2026-01-27T18:42:10+00:00\tShipped\tAmazon\tAmazon.com\t"
        "LL-KTL-GOOSE\t1\tUSD\t39.00\t3.22\n")
    # duplicates: the same settlement again (Windows line endings: the same content), and a different content
    (OUT / "duplicates" / "copy_of_19837462011.txt").write_bytes(mc.replace("\n", "\r\n").encode())
    neg = good["v2_negative_CAD_23874396999.txt"][0].split("\n")
    cells = neg[4].split("\t")  # Subscription Fee -29.99 → -39.99, and the total follows: valid, but different
    assert cells[14] == "-29.99", cells
    cells[14] = "-39.99"
    head = neg[1].split("\t")
    head[4] = f"{Decimal(head[4]) - 10:.2f}"
    (OUT / "duplicates" / "different_content_23874396999.txt").write_text(
        "\n".join([neg[0], "\t".join(head), *neg[2:4], "\t".join(cells), *neg[5:]]))


main()
