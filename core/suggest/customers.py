"""Customers that are probably the same buyer: the same e-mail once case and Gmail-style dots and plus-tags
are set aside, or names that read alike with the same postcode. Candidates share a block (e-mail local part or
surname), so thousands of customers compare in a moment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from rapidfuzz import fuzz

from .accepted import AcceptedMappings
from .model import Suggestion
from .text import compact, plain

__all__ = ["Customer", "duplicate_customers"]


@dataclass(frozen=True)
class Customer:
    name: str
    email: str | None = None
    postcode: str | None = None


def _email(value: str | None) -> str:
    if not value or "@" not in value:
        return ""
    local, _, domain = value.strip().casefold().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def duplicate_customers(customers: Iterable[Customer], accepted: AcceptedMappings | None = None,
                        pipeline: str | None = None, *, cutoff: float = 0.8) -> list[Suggestion]:
    """Pairs that are probably one buyer: subject the customer to merge, target the one to keep."""
    people = list({(c.name, c.email): c for c in customers if c.name}.values())
    rejected = {(e.subject, e.target) for e in (accepted.of_kind("customers", pipeline) if accepted else [])}
    blocks: dict[str, list[int]] = defaultdict(list)
    for n, c in enumerate(people):
        if _email(c.email):
            blocks["@" + _email(c.email)].append(n)
        if c.postcode and compact(c.postcode):
            blocks["#" + compact(c.postcode)].append(n)
        words = plain(c.name).split()
        if words:
            blocks["~" + words[-1]].append(n)
    out: dict[tuple[int, int], Suggestion] = {}
    for key, members in blocks.items():
        for i, a in enumerate(members[:50]):
            for b in members[i + 1:50]:
                x, y = people[a], people[b]
                if (x.name, y.name) in rejected:
                    continue
                if key.startswith("@"):
                    conf, why = 0.97, f"same e-mail {_email(x.email)!r} once case, dots and +tags are set aside"
                else:
                    score = fuzz.token_sort_ratio(plain(x.name), plain(y.name))
                    same_post = bool(x.postcode and compact(x.postcode) == compact(y.postcode))
                    conf = (score / 100) ** 2 * (0.95 if same_post else 0.7)
                    why = f"names fuzzy {score:.0f}" + (f", same postcode {x.postcode}" if same_post else "")
                if conf >= cutoff and (a, b) not in out:
                    out[(a, b)] = Suggestion("customers", y.name, x.name, round(conf, 4), why,
                                             {"email": y.email, "keep_email": x.email})
    return sorted(out.values(), key=lambda s: -s.confidence)
