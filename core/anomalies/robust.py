"""Robust drift: a value against its own history by median and MAD (median absolute deviation), so one odd sale
in the history does not move the yardstick, and a change is judged against how much this very thing usually
varies rather than a fixed percentage."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

__all__ = ["Drift", "drifts", "robust_z", "MAD_SCALE"]

#: MAD × 1.4826 estimates the standard deviation of normally distributed values
MAD_SCALE = Decimal("1.4826")


def robust_z(value: Decimal, median: Decimal, mad: Decimal) -> Decimal | None:
    """How many (robust) standard deviations `value` lies from `median`; None when the history never varied."""
    spread = MAD_SCALE * mad
    if spread == 0:
        return None
    return abs(value - median) / spread


@dataclass
class Drift:
    subject: str
    settlement: str
    value: Decimal
    count: int
    median: Decimal
    mad: Decimal
    history: int
    refs: list[Any]
    z: Decimal | None

    @property
    def change(self) -> Decimal:
        return self.value - self.median


def drifts(con: duckdb.DuckDBPyConnection, observations: str, *, threshold: float, min_history: int,
           min_change: Decimal) -> list[Drift]:
    """`observations` is a SQL query with columns (subject, period, ts, value, ref): one value per observation,
    grouped into periods (a settlement, a week). For each subject, the latest period's median value is compared
    with the median and MAD of all its earlier observations; what moved more than `threshold` robust z-scores
    (or at all, when the history never varied) and by at least `min_change` is returned."""
    rows = con.execute(f"""
        WITH obs AS ({observations}),
        latest AS (SELECT subject, arg_max(period, ts) AS period FROM obs GROUP BY subject),
        hist AS (SELECT o.subject, median(o.value) AS med, mad(o.value) AS mad, count(*) AS n
                 FROM obs o JOIN latest l ON l.subject = o.subject
                 WHERE o.period <> l.period AND o.ts <= (SELECT min(ts) FROM obs x
                                                        WHERE x.subject = o.subject AND x.period = l.period)
                 GROUP BY o.subject),
        cur AS (SELECT o.subject, l.period, median(o.value) AS value, count(*) AS n, list(o.ref ORDER BY o.ts) AS refs
                FROM obs o JOIN latest l ON l.subject = o.subject AND l.period = o.period
                GROUP BY o.subject, l.period)
        SELECT cur.subject, cur.period, cur.value, cur.n, hist.med, hist.mad, hist.n, cur.refs
        FROM cur JOIN hist ON hist.subject = cur.subject
        WHERE hist.n >= ? ORDER BY cur.subject""", [min_history]).fetchall()
    found = []
    for subject, period, value, n, med, mad, hn, refs in rows:
        value, med, mad = Decimal(value), Decimal(med), Decimal(mad)
        if abs(value - med) < min_change:
            continue
        z = robust_z(value, med, mad)
        if z is not None and z <= Decimal(str(threshold)):
            continue
        found.append(Drift(subject, str(period), value, int(n), med, mad, int(hn), list(refs), z))
    return found


def subjects_with_history(con: duckdb.DuckDBPyConnection, observations: str, min_history: int) -> int:
    """How many subjects have enough earlier observations to be judged (0: the check cannot judge anything)."""
    row = con.execute(f"""
        WITH obs AS ({observations}),
        latest AS (SELECT subject, arg_max(period, ts) AS period FROM obs GROUP BY subject)
        SELECT count(*) FROM (SELECT o.subject FROM obs o JOIN latest l ON l.subject = o.subject
                              WHERE o.period <> l.period GROUP BY o.subject HAVING count(*) >= ?)""",
                      [min_history]).fetchone()
    return int(row[0]) if row else 0
