"""Money: Decimal amounts with a currency and one rounding policy. No float ever becomes money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Money", "to_decimal", "quantize", "ROUNDING", "minor_units"]

#: Rounding policy for every amount ledgerlink computes: half away from zero, as accountants round.
ROUNDING = ROUND_HALF_UP

# ISO 4217 currencies whose minor unit is not 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3,
                "JOD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_decimal(value: Any, *, field: str = "amount") -> Decimal:
    """Parse an amount from a remote's text or number. Floats are refused: they have already lost cents."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{field}: refusing float {value!r} as money; parse the source text as Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")  # decimal comma (e.g. "12,34" in EU reports)
        else:
            text = text.replace(",", "")  # thousands separators
        try:
            return Decimal(text or "0")
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not an amount") from None
    raise TypeError(f"{field}: cannot read {type(value).__name__} as money")


def quantize(amount: Decimal, currency: str = "USD") -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUNDING)


class Money(BaseModel):
    """An amount in a currency. Arithmetic refuses to mix currencies."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Decimal:
        return to_decimal(v)

    @field_validator("currency")
    @classmethod
    def _upper(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"currency {v!r} is not an ISO 4217 code")
        return v.upper()

    @classmethod
    def of(cls, amount: Any, currency: str) -> "Money":
        return cls(amount=to_decimal(amount), currency=currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(amount=Decimal(0), currency=currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> "Money":
        return Money(amount=-self.amount, currency=self.currency)

    def __mul__(self, factor: int | Decimal) -> "Money":
        if isinstance(factor, float):
            raise TypeError("multiply money by int or Decimal, not float")
        return Money(amount=self.amount * factor, currency=self.currency)

    def rounded(self) -> "Money":
        return Money(amount=quantize(self.amount, self.currency), currency=self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency)} {self.currency}"
