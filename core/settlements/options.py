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

from pydantic import Field, field_validator

from ..errors import ConfigError
from ..money import Amount, to_decimal
from ..options import Options, Rate, check_options, did_you_mean
from .accounts import AccountMap, default_account_map, load_account_map, parse_account_map
from .role_table import RoleTable, default_role_table, load_rules
from .roles import Role

__all__ = ["SettlementOptions", "parse_settlement_options"]


class SettlementOptions(Options):
    """`destination.options.settlements`: how settlement reports (payouts) post as journals."""

    mode: Literal["summary", "per_order"] = Field("summary", description=(
        "summary: one journal per settlement, totals per account role; per_order: orders already posted into "
        "clearing by the order flow, the settlement closes them there"))
    accounts: str | dict[str, Any] | None = Field(None, description=(
        "role → account for this company: a YAML file (relative to the working directory) or an inline mapping "
        "{role: account name}; default: the shipped map (ledgerlink/settlements/default_accounts.yaml)"))
    roles: str | None = Field(None, description="a YAML role file whose rules go ahead of the default role table")
    split_by_month: bool = Field(True, description="a settlement crossing a month end posts as one journal per month")
    date: Literal["end", "deposit"] = Field("end", description=(
        "the journal date: the settlement's end date, or the deposit date"))
    home_currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$", description=(
        "the books' currency (ISO 4217, e.g. USD); a settlement in another currency needs a rate"))
    exchange_rates: dict[str, Rate] = Field(default_factory=dict, description=(
        "home currency units per settlement unit, by settlement id or currency, e.g. {CAD: '0.73'}"))
    convert: bool = Field(False, description=(
        "true: post in the home currency (the deposit was converted), with an exchange gain or loss line"))
    deposits: dict[str, Amount] = Field(default_factory=dict, description=(
        "what landed in the bank, in the home currency, by settlement id (with convert), e.g. {'24288684721': "
        "'742.10'}"))
    #: where a negative total goes: the payable-to-Amazon account (it is charged later) or the bank (charged now)
    negative_total: Literal["payable", "bank"] = Field("payable", description=(
        "where a negative settlement total goes: payable (Amazon charges it later) or bank (charged now)"))
    #: folder relative paths are read from (the pipeline file's; default: the working directory)
    base_dir: str | None = Field(None, description=(
        "folder the accounts and roles files are read from (default: the working directory)"))

    @field_validator("deposits", mode="before")
    @classmethod
    def _decimals(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, amount in value.items():
            if isinstance(amount, float):  # YAML read 742.10 as a binary float: money is written exactly
                raise ValueError(f"{key}: write the amount in quotes ('{amount}'), so it is read exactly")
            try:
                out[str(key)] = to_decimal(amount, field=str(key))
            except TypeError as exc:
                raise ValueError(str(exc)) from None
        return out

    @field_validator("exchange_rates", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("accounts")
    @classmethod
    def _inline_map(cls, value: Any) -> Any:
        """An inline account map names known roles: a misspelt one is refused now, with the closest role."""
        if not isinstance(value, dict):
            return value
        roles = [r.value for r in Role]
        entries = value.get("accounts", value) if isinstance(value.get("accounts"), dict) else value
        unknown = [str(k) for k in entries if str(k) not in roles]
        if unknown:
            close = {k: did_you_mean(k, roles) for k in unknown}
            said = "; ".join(f"{k!r}" + (f" (did you mean {c!r}?)" if c else "") for k, c in close.items())
            listed = "" if all(close.values()) else f"; roles: {', '.join(sorted(roles))}"
            raise ValueError(f"unknown role {said}{listed}")
        try:
            parse_account_map(value, "accounts")
        except ConfigError as exc:
            raise ValueError(exc.message.removeprefix("accounts: ")) from None
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
    """`destination.options.settlements` validated; an OptionsError (a ConfigError) naming every wrong key."""
    raw = (options or {}).get("settlements") or {}
    return check_options(SettlementOptions, raw, where="destination.options.settlements",
                         hint="see docs/concepts/settlements.md for the settlement options")
