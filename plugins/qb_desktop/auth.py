"""Connecting a QuickBooks Desktop company file from the console: the Web Connector user's password, set once
(stored only as a PBKDF2 hash, `qb_desktop:{username}:password_hash`, which the Web Connector endpoint checks
before the pipeline file's `password_hash`), and the `.qwc` file the user opens in the Web Connector, pointing at
this console's endpoint."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ledgerlink import ConfigError, ConnectedAccount, ConnectRefused, Download, FormConnect, FormField

from .passwords import hash_password

__all__ = ["WebConnectorConnect", "stored_hash_name", "MIN_PASSWORD"]

#: the shortest Web Connector password the console accepts
MIN_PASSWORD = 10


def stored_hash_name(username: str) -> str:
    return f"qb_desktop:{username}:password_hash"


class WebConnectorConnect(FormConnect):
    family = "qb_desktop"
    title = "QuickBooks Desktop (Web Connector)"
    files = ("qwc",)

    def account(self, config: Mapping[str, Any]) -> str | None:
        return str(config.get("username") or "") or None

    def credential_names(self, config: Mapping[str, Any]) -> list[str]:
        user = self.account(config)
        return [stored_hash_name(user)] if user else []

    def form_fields(self, config: Mapping[str, Any]) -> list[FormField]:
        return [FormField("username", "Web Connector user", default=self.account(config) or "",
                          help="the name the .qwc file carries"),
                FormField("password", "Password", secret=True, help=f"at least {MIN_PASSWORD} characters; typed "
                                                                    "again in the Web Connector"),
                FormField("password_again", "Password again", secret=True)]

    def connect(self, config: Mapping[str, Any], values: Mapping[str, str]) -> ConnectedAccount:
        user, password = values["username"], values["password"]
        named = self.account(config)
        if named and user != named:
            raise ConnectRefused(f"the pipeline's Web Connector user is {named}, not {user[:40]}",
                                 where="form.username", hint=f"enter {named} (or rename it in the pipeline file's "
                                                             "destination.config.username); nothing was stored")
        if len(password) < MIN_PASSWORD:
            raise ConnectRefused(f"the password is shorter than {MIN_PASSWORD} characters", where="form.password",
                                 hint="choose a longer one; nothing was stored")
        if password != values.get("password_again"):
            raise ConnectRefused("the two passwords differ", where="form.password_again",
                                 hint="type the same password twice; nothing was stored")
        return ConnectedAccount(account=user, label=f"Web Connector user {user}",
                                secrets={stored_hash_name(user): hash_password(password)})

    def download(self, config: Mapping[str, Any], name: str, *, plugin_url: Callable[[str], str]) -> Download:
        from .config import QbdConfig
        from .plugin import MOUNT
        from .qwc import qwc_file

        if name != "qwc":
            raise ConfigError(f"no file {name!r}", where="file", hint="files: qwc")
        try:
            parsed = QbdConfig.model_validate(dict(config))
        except ValueError as exc:
            raise ConfigError(f"the pipeline's QuickBooks Desktop config is not valid: {str(exc).splitlines()[0]}",
                              where="destination.config") from None
        content = qwc_file(parsed, plugin_url(MOUNT))
        return Download(filename=f"{parsed.username}.qwc", media_type="application/xml", content=content)
