"""Mapping suggestions, measured: top-1 and top-3 accuracy and the share of above-threshold suggestions that are
wrong, on the labelled sets shipped as test data (amount types and descriptions across marketplaces and
languages; a noisy catalogue against a ledger item list), then the time to suggest items for 10,000 SKUs
against 10,000 ledger items.

    python benchmarks/suggest_accuracy.py [--threshold 0.85] [--size 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "suggest" / "data"
sys.path.insert(0, str(ROOT / "tests" / "suggest"))


def _line(name: str, result, threshold: float) -> str:
    return (f"{name:<28} rows {result.rows:>5}  top-1 {result.top1:6.1%}  top-3 {result.top3:6.1%}  "
            f"above {threshold:.2f}: {result.above:>5} ({result.above / result.rows:5.1%} of rows), "
            f"wrong {result.wrong_share_above:5.1%}  (precision {result.precision_above:6.1%})")


def main() -> None:
    from ledgerlink.suggest.engine import DEFAULT_THRESHOLD
    from ledgerlink.suggest.glossary import shipped_glossary
    from ledgerlink.suggest.items import ItemSuggester, LedgerItem
    from ledgerlink.suggest.labelled import load_labelled, score
    from ledgerlink.suggest.roles import RoleSuggester
    from ledgerlink.suggest.text import compact

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--size", type=int, default=10_000, help="SKUs and ledger items for the timing run")
    args = parser.parse_args()

    fields = ("transaction_type", "amount_type", "amount_description")
    rows = load_labelled(DATA / "amount_descriptions.yaml", fields=(*fields, "language"), answer="role")
    exact = shipped_glossary("roles").exact()
    verbatim = sum(compact(r.fields["amount_description"]) in exact for r in rows if r.fields["amount_description"])
    roles = RoleSuggester()
    pick = lambda r: {k: r.fields[k] for k in fields}  # noqa: E731
    print(f"amount descriptions: {len(rows)} rows, {verbatim} of them a glossary name verbatim once case and "
          "punctuation are set aside")
    print(_line("roles (all)", score(rows, lambda r: roles.suggest(**pick(r)), args.threshold), args.threshold))
    for group, langs in (("roles (English + API)", {"en", "api"}), ("roles (de fr es it ja)", {"de", "fr", "es", "it", "ja"})):
        part = [r for r in rows if r.fields["language"] in langs]
        print(_line(group, score(part, lambda r: roles.suggest(**pick(r)), args.threshold), args.threshold))

    unseen = load_labelled(DATA / "amount_descriptions_unseen.yaml", fields=fields, answer="role")
    print(_line("roles (unseen wording)", score(unseen, lambda r: roles.suggest(**r.fields), args.threshold),
                args.threshold))

    data = yaml.safe_load((DATA / "catalogue.yaml").read_text())
    items = ItemSuggester([LedgerItem(i["name"], i["sku"]) for i in data["items"]])
    listings = load_labelled(DATA / "catalogue.yaml", fields=("sku", "title"), answer="item")
    print(_line("items (noisy catalogue)", score(listings, lambda r: items.suggest(r.fields["sku"], r.fields["title"]),
                                                 args.threshold), args.threshold))

    from make_suggest_catalogue import catalogue

    ledger, listings = catalogue(2026, args.size)
    started = time.perf_counter()
    big = ItemSuggester([LedgerItem(i["name"], i["sku"]) for i in ledger])
    built = time.perf_counter()
    right = sum(1 for row in listings if (found := big.suggest(row["sku"], row["title"], limit=3))
                and found[0].target == row["item"])
    done = time.perf_counter()
    print(f"{args.size:,} SKUs against {args.size:,} items: index {built - started:.1f} s, suggestions "
          f"{done - built:.1f} s ({(done - built) / args.size * 1000:.2f} ms per SKU), top-1 {right / args.size:.1%}")


if __name__ == "__main__":
    main()
