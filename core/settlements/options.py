"""Settlement posting options, as a pipeline gives them in `destination.options.settlements`:

    settlements:
      mode: summary            # or per_order (orders already posted into clearing by the order flow)
      accounts: accounts.yaml  # role → account for this company (or an inline mapping); default: the shipped map
      roles: my-roles.yaml     # extra role rules, ahead of the default table
      split_by_month: true     # a settlement crossing a month end posts as one journal per month
      date: end                # the journal date: the settlement's end date, or `deposit`
      home_currency: USD       # the books' currency; a settlement in another currency needs a rate
      exchange_rates: {"24288684721": "0.7312", CAD: "0.73"}   # home units per settlement unit, by id or currency
      convert: false           # true: post in the home currency (the deposit was converted), with an FX line
      deposits: {"24288684721": "742.10"}   # what landed in the bank, in the home currency (with convert)
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..money import Amount, to_decimal
from .accounts import AccountMap, default_account_map, load_account_map, parse_account_map
from .role_table import RoleTable, default_role_table, load_rules

__all__ = ["SettlementOptions", "parse_settlement_options"]


class SettlementOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["summary", "per_order"] = "summary"
    accounts: str | dict[str, Any] | None = None
    roles: str | None = None
    split_by_month: bool = True
    date: Literal["end", "deposit"] = "end"
    home_currency: str | None = None
    exchange_rates: dict[str, Amount] = Field(default_factory=dict)
    convert: bool = False
    deposits: dict[str, Amount] = Field(default_factory=dict)
    #: where a negative total goes: the payable-to-Amazon account (it is charged later) or the bank (charged now)
    negative_total: Literal["payable", "bank"] = "payable"
    #: folder relative paths are read from (the pipeline file's; default: the working directory)
    base_dir: str | None = None

    @field_validator("exchange_rates", "deposits", mode="before")
    @classmethod
    def _decimals(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): to_decimal(v, field=str(k)) for k, v in value.items()}
        return value

    def _path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() or not self.base_dir else Path(self.base_dir) / p

    def account_map(self) -> AccountMap:
        if self.accounts is None:
            return default_account_map()
        if isinstance(self.accounts, dict):
            return parse_account_map(self.accounts, "destination.options.settlements.accounts")
        return load_account_map(self._path(self.accounts))

    def role_table(self) -> RoleTable:
        table = default_role_table()
        return table.with_user_rules(load_rules(self._path(self.roles))) if self.roles else table

    def rate_for(self, settlement_id: str, currency: str) -> Decimal | None:
        return self.exchange_rates.get(settlement_id, self.exchange_rates.get(currency.upper()))


def parse_settlement_options(options: dict[str, Any] | None) -> SettlementOptions:
    """`destination.options.settlements` validated; a ConfigError naming the key otherwise."""
    raw = (options or {}).get("settlements") or {}
    try:
        return SettlementOptions.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(first["msg"], where="destination.options.settlements" + (f".{loc}" if loc else ""),
                          hint="see ledgerlink.settlements.options for the settlement options") from None
