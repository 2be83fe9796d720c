"""A tiny third-party plugin for the designer's tests: a destination whose config has a secret, a choice and a
switch, and whose check refuses any token but `good-token` (so a failing check can be shown)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

import ledgerlink


class TinyLedgerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_url: str = Field("http://127.0.0.1:9", description="where the tiny ledger answers")
    token: str = Field(description="the ledger's API token", json_schema_extra={"airbyte_secret": True})
    mode: Literal["live", "test"] = Field("test", description="which books")
    strict: bool = Field(False, description="refuse unknown items")


class TinyLedger(ledgerlink.Destination):
    name: ClassVar[str] = "tiny_ledger"
    config_model: ClassVar[type[BaseModel]] = TinyLedgerConfig

    def check_connection(self, config: Any) -> None:
        if config.token != "good-token":
            raise ledgerlink.ConfigError("the tiny ledger refused the token (401)", where="token",
                                         hint="paste the token from the tiny ledger's settings")


@ledgerlink.hookimpl
def register_connectors(register: Any) -> None:
    register(TinyLedger)
