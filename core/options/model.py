"""What a connector's options model is made of: the base class, and the number types options share.

A destination declares the model of its pipeline `destination.options` as `options_model`. Deriving it from
`Options` refuses unknown keys (a typo is named, never ignored) and NaN/infinity; choices are `Literal`s, numbers
carry bounds, and amounts are Decimals, never floats. Keys that start with `x_` are the user's own (for their own
mapping templates): kept as written, readable as `posting.x_name`, never taken for a typo.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidatorFunctionWrapHandler,
                      WithJsonSchema, model_validator)

from ..money import to_decimal

__all__ = ["Options", "Rate", "Percent", "decimal_text", "CUSTOM_PREFIX"]

#: the prefix of a key the user adds for their own templates (`x_memo_prefix: "AMZ "`)
CUSTOM_PREFIX = "x_"


class Options(BaseModel):
    """Base of an options model: unknown keys are refused (a misspelt key is named, with the closest allowed
    one), and so are NaN and infinity; a section left empty takes its defaults."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              json_schema_extra={"patternProperties": {f"^{CUSTOM_PREFIX}": {}}})

    _custom: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _sections_and_custom_keys(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """`inventory:` with nothing after it (YAML's null) is the section with its defaults; `x_` keys are set
        aside before the model's own keys are checked, and kept on the model."""
        if value is None:
            value = {}
        custom: dict[str, Any] = {}
        if isinstance(value, dict):
            custom = {k: v for k, v in value.items() if isinstance(k, str) and k.startswith(CUSTOM_PREFIX)}
            if custom:
                value = {k: v for k, v in value.items() if k not in custom}
        model = handler(value)
        if custom:
            model._custom = custom
        return model

    @property
    def custom(self) -> dict[str, Any]:
        """The user's own `x_` keys of this section, as written."""
        return dict(self._custom)

    def __getattr__(self, name: str) -> Any:
        if name.startswith(CUSTOM_PREFIX):
            private = object.__getattribute__(self, "__pydantic_private__") or {}
            custom = private.get("_custom") or {}
            if name in custom:
                return custom[name]
            raise AttributeError(f"no option {name!r}: add `{name}:` to the pipeline's destination.options")
        return super().__getattr__(name)  # type: ignore[misc]


def decimal_text(value: Any) -> Any:
    """A number as a person wrote it. YAML reads `0.73` as a float; its shortest text is what was typed, so a
    rate or a threshold is read through it (an amount of money stays quoted text or an integer)."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return to_decimal(repr(value), field="value")
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, str):
        try:
            return to_decimal(value, field="value")
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
    return value


_NUMBER_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\d+(\.\d+)?$"}]}

#: a conversion rate: a positive exact decimal ("0.7312", or 0.7312 as YAML writes it)
Rate = Annotated[Decimal, BeforeValidator(decimal_text), Field(gt=0, le=10_000_000),
                 WithJsonSchema({**_NUMBER_SCHEMA, "description": "a positive exact decimal, e.g. 0.7312"})]
#: a percentage from 0 to 100, exact ("13", "8.875")
Percent = Annotated[Decimal, BeforeValidator(decimal_text), Field(ge=0, le=100),
                    WithJsonSchema({**_NUMBER_SCHEMA, "description": "a percentage from 0 to 100, e.g. 13"})]
