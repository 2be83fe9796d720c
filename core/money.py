"""Money: Decimal amounts with a currency and one rounding policy. No float ever becomes money."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, WithJsonSchema, field_validator

__all__ = ["Money", "Amount", "Quantity", "to_decimal", "quantize", "ROUNDING", "minor_units"]

#: A Decimal in a model. Its JSON Schema is ours (pydantic's changes between releases): on the wire an
#: amount is a JSON number written exactly, or a decimal string.
Amount = Annotated[Decimal, WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}],
                                            "description": "an exact decimal"})]
#: A count of units (may be fractional for goods sold by weight); a Decimal, never a float.
Quantity = Amount

#: Rounding policy for every amount ledgerlink computes: half away from zero, as accountants round.
ROUNDING = ROUND_HALF_UP

# ISO 4217 currencies whose minor unit is not 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3,
                "JOD": 3, "TND": 3}


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency.upper(), 2)


def to_decimal(value: Any, *, field: str = "amount") -> Decimal:
    """Parse an amount from a remote's text or number. Floats are refused: they have already lost cents.

    Text may use thousands separators and a decimal point or comma: "1,234.56", "1.234,56" (German
    reports), "12,34", "1 234,56", " 5.00 ". When both `.` and `,` appear the last one is the decimal
    separator; a lone comma is decimal unless exactly three digits follow it ("1,234" is 1234).
    NaN and infinities are refused."""
    if isinstance(value, bool):
        raise TypeError(f"{field}: refusing bool {value!r} as money")
    if isinstance(value, float):
        raise TypeError(f"{field}: refusing float {value!r} as money; parse the source text as Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        return Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(_normalise_amount_text(value) or "0")
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not an amount") from None
    else:
        raise TypeError(f"{field}: cannot read {type(value).__name__} as money")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite amount")
    return result


def _normalise_amount_text(value: str) -> str:
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    dot, comma = text.rfind("."), text.rfind(",")
    if dot >= 0 and comma >= 0:
        # Both appear: the last one is the decimal separator, the other groups thousands.
        if comma > dot:
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if comma >= 0:
        head, _, tail = text.rpartition(",")
        if text.count(",") == 1 and not (len(tail) == 3 and tail.isdigit() and head.lstrip("+-") not in ("", "0")):
            return head + "." + tail  # decimal comma (e.g. "12,34" in EU reports)
        return _ungroup(text, ",")  # thousands separators
    if text.count(".") > 1:
        return _ungroup(text, ".")  # "1.234.567": dots grouping thousands
    return text


def _ungroup(text: str, sep: str) -> str:
    """Remove thousands separators, but only from well-formed groups: "12.3.4" is a typo, not 1234."""
    head, *groups = text.split(sep)
    if head.lstrip("+-").isdigit() and groups and all(len(g) == 3 and g.isdigit() for g in groups):
        return head + "".join(groups)
    return "not an amount"


def quantize(amount: Decimal, currency: str = "USD") -> Decimal:
    quantum = _QUANTA.get(currency)
    if quantum is None:
        quantum = Decimal(1).scaleb(-minor_units(currency))
        if len(_QUANTA) < 256:  # the currencies a run meets (a planned order rounds about 16 amounts)
            _QUANTA[currency] = quantum
    return amount.quantize(quantum, rounding=ROUNDING)


#: `quantize`'s quantum by currency code as given (1, 0.01, 0.001)
_QUANTA: dict[str, Decimal] = {}


class Money(BaseModel):
    """An amount in a currency. Arithmetic refuses to mix currencies."""

    model_config = ConfigDict(frozen=True)

    amount: Amount
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

    def __init__(self, /, **data: Any) -> None:
        # The common case, a finite Decimal and an upper-case ISO code, is what validation would produce
        # unchanged: set it directly (validation is most of the cost of a normaliser's 20 amounts per order).
        amount, currency = data.get("amount"), data.get("currency")
        if (len(data) == 2 and type(amount) is Decimal and type(currency) is str and currency in _CODES
                and amount.is_finite()):
            _set(self, amount, currency)
        else:
            super().__init__(**data)

    @classmethod
    def of(cls, amount: Any, currency: str) -> "Money":
        return cls(amount=to_decimal(amount), currency=currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(amount=_ZERO, currency=currency)

    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> "Money":
        """A result of arithmetic on validated Money: skips validation, which is most of the cost of money
        maths in a hot loop (normalising 100,000 orders adds millions of amounts)."""
        money = object.__new__(cls)
        _set(money, amount, currency)
        return money

    def _plus(self, amount: Decimal) -> "Money":
        return Money._exact(self.amount + amount, self.currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money._exact(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money._exact(self.amount - other.amount, self.currency)

    def __radd__(self, other: Any) -> "Money":
        # lets `sum(amounts)` start from its default 0
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __neg__(self) -> "Money":
        return Money._exact(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> "Money":
        if isinstance(factor, float):
            raise TypeError("multiply money by int or Decimal, not float")
        return Money._exact(self.amount * Decimal(factor), self.currency)

    def __rmul__(self, factor: int | Decimal) -> "Money":
        return self.__mul__(factor)

    def rounded(self) -> "Money":
        return Money._exact(quantize(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency)} {self.currency}"


_ZERO = Decimal(0)
_FIELDS_SET = frozenset({"amount", "currency"})


class _Codes:
    """Membership: an upper-case three-letter code (what the currency validator would return unchanged)."""

    def __contains__(self, code: str) -> bool:
        return len(code) == 3 and code.isalpha() and code.isupper() and code.isascii()


_CODES = _Codes()


def _set(money: Money, amount: Decimal, currency: str) -> None:
    """What pydantic's validated __init__ leaves on a Money, without running the validators."""
    object.__setattr__(money, "__dict__", {"amount": amount, "currency": currency})
    object.__setattr__(money, "__pydantic_fields_set__", set(_FIELDS_SET))
    object.__setattr__(money, "__pydantic_extra__", None)
    object.__setattr__(money, "__pydantic_private__", None)
