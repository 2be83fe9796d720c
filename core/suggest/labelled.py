"""Labelled sets (a subject and its right answer) for measuring suggestions: loaded with the file and line of
every row, so a malformed set fails naming where, and scored as top-1, top-3 and precision above a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import ConfigError
from .glossary import yaml_with_lines
from .model import Suggestion

__all__ = ["LabelledRow", "Score", "load_labelled", "score"]


@dataclass(frozen=True)
class LabelledRow:
    fields: dict[str, Any]
    answer: str
    where: str


@dataclass(frozen=True)
class Score:
    """`top1`/`top3`: share of rows whose answer is the first / among the first three suggestions;
    `above`: suggestions at or above the threshold; `wrong_above`: of those, how many were wrong."""

    rows: int
    top1: float
    top3: float
    above: int
    wrong_above: int
    misses: tuple[str, ...] = ()

    @property
    def precision_above(self) -> float:
        return 1.0 if not self.above else 1 - self.wrong_above / self.above

    @property
    def wrong_share_above(self) -> float:
        return 0.0 if not self.above else self.wrong_above / self.above


def load_labelled(path: str | Path, *, fields: Sequence[str], answer: str) -> list[LabelledRow]:
    """Rows of a YAML file `{rows: [{field..., answer}]}`; every row must carry each of `fields` (null allowed)
    and a non-empty `answer`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the labelled set: {exc.strerror}", where=str(p)) from None
    data = yaml_with_lines(text, str(p))
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not data["rows"]:
        raise ConfigError("a labelled set is a mapping with a non-empty list `rows:`", where=f"{p}:1")
    out = []
    for n, row in enumerate(data["rows"]):
        if not isinstance(row, dict):
            raise ConfigError(f"row {n + 1} is not a mapping", where=f"{p}: rows[{n}]")
        here = f"{p}:{row.get('__line__', '?')}"
        missing = [f for f in (*fields, answer) if f not in row]
        if missing:
            raise ConfigError(f"row has no {missing[0]!r}", where=here,
                              hint=f"each row has {', '.join((*fields, answer))}")
        if not row[answer]:
            raise ConfigError(f"row's {answer!r} is empty", where=here)
        out.append(LabelledRow({f: (None if row[f] is None else str(row[f])) for f in fields}, str(row[answer]),
                               here))
    return out


def score(rows: Iterable[LabelledRow], suggest: Callable[[LabelledRow], list[Suggestion]],
          threshold: float) -> Score:
    """Run `suggest` over every row and count."""
    n = top1 = top3 = above = wrong = 0
    misses = []
    for row in rows:
        n += 1
        found = suggest(row)
        targets = [s.target for s in found]
        if targets[:1] == [row.answer]:
            top1 += 1
        else:
            misses.append(f"{row.where}: {row.fields} → {targets[:3]} (want {row.answer})")
        if row.answer in targets[:3]:
            top3 += 1
        if found and found[0].confidence >= threshold:
            above += 1
            wrong += found[0].target != row.answer
    return Score(n, top1 / n if n else 0.0, top3 / n if n else 0.0, above, wrong, tuple(misses))
