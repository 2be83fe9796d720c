"""Connecting a BigCommerce store from the console: the store hash and an API account's access token (Store-level
API account, Settings > API > Store-level API accounts), typed once and checked at once with the source's own
`check` (GET /v2/store). The token is stored encrypted as `bigcommerce:{store_hash}:access_token`, the name the
runtime reads a source's stored secrets by, so it wins over the pipeline file's."""

from __future__ import annotations

from typing import Any, Mapping

from ledgerlink import ConnectedAccount, ConnectRefused, FormConnect, FormField, protocol, register_secret

__all__ = ["BigCommerceConnect"]


class BigCommerceConnect(FormConnect):
    family = "bigcommerce"
    title = "BigCommerce store"

    def account(self, config: Mapping[str, Any]) -> str | None:
        return str(config.get("store_hash") or "") or None

    def credential_names(self, config: Mapping[str, Any]) -> list[str]:
        store = self.account(config)
        return [f"bigcommerce:{store}:access_token"] if store else []

    def form_fields(self, config: Mapping[str, Any]) -> list[FormField]:
        return [FormField("store_hash", "Store hash", default=self.account(config) or "",
                          help="from the API path https://api.bigcommerce.com/stores/{store_hash}/"),
                FormField("access_token", "Access token", secret=True,
                          help="the API account's access token (shown once when the account is created)")]

    def connect(self, config: Mapping[str, Any], values: Mapping[str, str]) -> ConnectedAccount:
        from .source import BigCommerceSource  # the source's own check: one definition of "works"

        store, token = values["store_hash"], values["access_token"]
        register_secret(token)
        named = self.account(config)
        if named and store != named:
            raise ConnectRefused(f"the pipeline reads store {named}, not {store[:40]}", where="form.store_hash",
                                 hint=f"enter {named}, or change source.config.store_hash in the pipeline file; "
                                      "nothing was stored")
        status = BigCommerceSource().check({**config, "store_hash": store, "access_token": token})
        if status.status != protocol.Status.SUCCEEDED:
            raise ConnectRefused(f"BigCommerce did not accept the store hash and token: {status.message}",
                                 where="form.access_token", hint="check the token belongs to this store's API "
                                 "account and has read access to orders and the store profile; nothing was stored")
        return ConnectedAccount(account=store, label=f"BigCommerce store {store}",
                                secrets={f"bigcommerce:{store}:access_token": token})
