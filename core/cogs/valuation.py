"""What the units a movement takes out of stock (or brings back) cost: first-in-first-out or moving average over
a SKU's received lots, or the price in effect when the SKU has no lots.

Movements are valued in their order (date, then the order they were given): both methods are causal, so a
movement's cost depends only on what came before it, and valuing a longer history never changes the cost of
an earlier movement. Amounts are exact Decimals; rounding to cents is the journal's job.

- A unit out (sold, lost, damaged, disposed) takes the oldest remaining lot's cost (fifo) or the current
  average (moving_average); beyond every recorded lot it takes the latest lot's cost, and says so.
- A unit back in (a refunded unit restocked) returns at the cost the next unit out would have taken, at the
  front of the queue (fifo) or into the average.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable, Literal

from .costs import CostBook, CostEntry

__all__ = ["Movement", "Valued", "MissingCost", "value_movements", "missing_costs", "Method"]

Method = Literal["fifo", "moving_average"]


@dataclass(frozen=True)
class Movement:
    """Units of one SKU moving on one day: `quantity` > 0 leaves stock, < 0 comes back. `kind` says why
    (sold, refunded, lost, damaged, disposed); `ref` says where it was read (e.g. the settlement row)."""

    sku: str
    on: date
    quantity: Decimal
    kind: str
    ref: str = ""


@dataclass(frozen=True)
class Valued:
    """A movement with its cost: `amount` = the cost of all its units (positive whether they left or came back),
    `unit_cost` their average, `basis` how it was costed (for the journal line's description)."""

    movement: Movement
    amount: Decimal
    unit_cost: Decimal
    basis: str


@dataclass(frozen=True)
class MissingCost:
    """A SKU that moved with no cost to value it: `reason` says what is missing."""

    sku: str
    reason: str
    refs: tuple[str, ...]


class _Lots:
    """One SKU's stock by lot: a queue of [quantity, unit cost] (fifo) or one pooled average (moving_average)."""

    def __init__(self, lots: list[CostEntry], method: Method):
        self.method = method
        self.pending = list(lots)  # received on their date (undated: from the start)
        self.queue: list[list[Decimal]] = []
        self.units = Decimal(0)
        self.value = Decimal(0)
        self.last_cost = lots[0].unit_cost if lots else Decimal(0)  # the latest lot received so far

    def receive_until(self, when: date) -> None:
        while self.pending and (self.pending[0].effective or date.min) <= when:
            lot = self.pending.pop(0)
            assert lot.quantity is not None
            self._put(lot.quantity, lot.unit_cost, front=False)
            self.last_cost = lot.unit_cost

    def _put(self, quantity: Decimal, cost: Decimal, *, front: bool) -> None:
        if self.method == "fifo":
            entry = [quantity, cost]
            self.queue.insert(0, entry) if front else self.queue.append(entry)
        self.units += quantity
        self.value += quantity * cost

    def next_unit_cost(self) -> Decimal:
        if self.method == "fifo":
            return self.queue[0][1] if self.queue else self.last_cost
        return self.value / self.units if self.units > 0 else self.last_cost

    def take(self, quantity: Decimal) -> tuple[Decimal, bool]:
        """The cost of `quantity` units out, and whether some went beyond every recorded lot."""
        beyond = False
        if self.method == "moving_average":
            if self.units >= quantity:
                cost = self.value * quantity / self.units if self.units else Decimal(0)
                self.units -= quantity
                self.value -= cost
                return cost, False
            cost = self.value + (quantity - self.units) * self.last_cost
            self.units, self.value = Decimal(0), Decimal(0)
            return cost, True
        cost, left = Decimal(0), quantity
        while left > 0 and self.queue:
            lot = self.queue[0]
            used = min(left, lot[0])
            cost += used * lot[1]
            lot[0] -= used
            left -= used
            if lot[0] == 0:
                self.queue.pop(0)
        if left > 0:
            beyond = True
            cost += left * self.last_cost
        self.units = max(Decimal(0), self.units - quantity)
        return cost, beyond

    def give_back(self, quantity: Decimal) -> Decimal:
        cost = self.next_unit_cost()
        self._put(quantity, cost, front=True)
        return quantity * cost


def value_movements(movements: Iterable[Movement], book: CostBook, method: Method
                    ) -> tuple[list[Valued], list[tuple[Movement, str]]]:
    """Every movement with its cost, in date order (ties in the order given), and the movements that could not
    be costed, each with the reason (they are left out of the first list: never a silent zero)."""
    states: dict[str, _Lots] = {}
    valued: list[Valued] = []
    unvalued: list[tuple[Movement, str]] = []
    ordered = sorted(enumerate(movements), key=lambda p: (p[1].on, p[0]))
    for _, m in ordered:
        lots = book.lots(m.sku)
        if lots:
            state = states.get(m.sku)
            if state is None:
                state = states[m.sku] = _Lots(lots, method)
            state.receive_until(m.on)
            if (lots[0].effective or date.min) > m.on:
                unvalued.append((m, f"its first lot is received on {lots[0].effective}, after this movement on "
                                    f"{m.on}"))
                continue
            if m.quantity > 0:
                amount, beyond = state.take(m.quantity)
                basis = method + (" (beyond the recorded lots: at the latest lot's cost)" if beyond else "")
            else:
                amount = state.give_back(-m.quantity)
                basis = f"{method}, back into stock"
            units = abs(m.quantity)
            valued.append(Valued(m, amount, amount / units if units else Decimal(0), basis))
            continue
        price = book.price_on(m.sku, m.on)
        if price is None:
            first = book.first_dated(m.sku)
            unvalued.append((m, f"no cost is in effect on {m.on} (the first is from {first})" if first
                             else "no unit cost is known for it"))
            continue
        units = abs(m.quantity)
        basis = f"cost from {price.effective}" if price.effective else "unit cost"
        valued.append(Valued(m, units * price.unit_cost, price.unit_cost, basis))
    return valued, unvalued


def missing_costs(unvalued: Iterable[tuple[Movement, str]]) -> list[MissingCost]:
    """Unvalued movements grouped by SKU: the first reason, and every row."""
    found: dict[str, tuple[str, list[str]]] = {}
    for m, reason in unvalued:
        found.setdefault(m.sku, (reason, []))[1].append(m.ref)
    return [MissingCost(sku, reason, tuple(r for r in refs if r)) for sku, (reason, refs) in found.items()]
