"""Writes tests/suggest/data/catalogue.yaml: a ledger item list and a noisy channel catalogue of the same
products (case, spacing, punctuation, pack wording, word order, abbreviations, a typo), each listing labelled
with its item. Seeded, so re-running it writes the same file. Also used by benchmarks/suggest_accuracy.py to
make 10,000 × 10,000."""

from __future__ import annotations

import random
from pathlib import Path

PRODUCTS = ["Widget", "Mug", "Tumbler", "Notebook", "Candle", "Soap Bar", "Tea Towel", "Phone Case", "Yoga Mat",
            "Water Bottle", "Coaster", "Pillow Cover", "Tote Bag", "Desk Lamp", "Plant Pot", "Scarf", "Beanie",
            "Sock", "Glove", "Apron", "Cutting Board", "Spice Jar", "Lunch Box", "Key Ring", "Bookmark"]
COLOURS = ["Blue", "Red", "Green", "Black", "White", "Grey", "Navy", "Pink", "Oak", "Walnut"]
SIZES = ["Small", "Medium", "Large", ""]
PACKS = [1, 1, 1, 2, 3, 4, 6, 12]
ABBREV = {"Small": "Sm", "Medium": "Med", "Large": "Lg", "Black": "Blk", "White": "Wht", "Grey": "Gry",
          "Green": "Grn", "Blue": "Blu"}


def items(rng: random.Random, count: int) -> list[dict[str, str]]:
    seen, out = set(), []
    while len(out) < count:
        product, colour, size, pack = rng.choice(PRODUCTS), rng.choice(COLOURS), rng.choice(SIZES), rng.choice(PACKS)
        series = rng.randint(1, max(1, count // 400))
        words = [product, colour] + ([size] if size else []) + ([f"Series {series}"] if count > 2000 else [])
        name = " ".join(words) + (f" {pack}-Pack" if pack > 1 else "")
        if name in seen:
            continue
        seen.add(name)
        sku = "-".join(w[:3].upper() for w in words) + (f"-{pack}PK" if pack > 1 else "") + f"-{len(out):05d}"
        out.append({"name": name, "sku": sku, "_words": words, "_pack": pack})
    return out


def noisy_title(rng: random.Random, item: dict) -> str:
    words = list(item["_words"])
    if rng.random() < 0.3:
        words = [ABBREV.get(w, w) for w in words]
    if rng.random() < 0.3:
        rng.shuffle(words)
    if rng.random() < 0.15:
        w = rng.randrange(len(words))
        if len(words[w]) > 4:
            i = rng.randrange(1, len(words[w]) - 1)
            words[w] = words[w][:i] + words[w][i + 1:]  # a dropped letter
    text = rng.choice([" ", "  ", " - ", ", ", "_"]).join(words)
    pack = item["_pack"]
    if pack > 1:
        text += rng.choice([f" {pack}-Pack", f" (Pack of {pack})", f" {pack}pk", f" x{pack}", f" {pack} Pack"])
    return rng.choice([str.lower, str.upper, str.title, lambda s: s])(text)


def catalogue(seed: int, count: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    ledger = items(rng, count)
    listings = []
    for item in ledger:
        if rng.random() < 0.5:  # the channel kept the ledger's SKU, spelt its own way
            sku = item["sku"].lower().replace("-", rng.choice(["_", "-", " ", ""]))
        else:
            sku = f"AMZ-{rng.randrange(10**8):08d}"
        listings.append({"sku": sku, "title": noisy_title(rng, item), "item": item["name"]})
    rng.shuffle(listings)
    return [{"name": i["name"], "sku": i["sku"]} for i in ledger], listings


def main() -> None:
    import yaml

    ledger, listings = catalogue(17, 300)
    path = Path(__file__).parent / "data" / "catalogue.yaml"
    head = ("# A noisy channel catalogue against a ledger item list (test data, written by make_suggest_catalogue.py, "
            "seed 17).\n# rows: a channel listing (sku, title) and the ledger item it is (item).\n")
    path.write_text(head + yaml.safe_dump({"items": ledger, "rows": listings}, sort_keys=False, allow_unicode=True,
                                          width=200))


if __name__ == "__main__":
    main()
