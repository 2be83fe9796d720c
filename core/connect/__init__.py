"""Connecting accounts from the console: the contract connectors follow (`flows`), the single-use states of
pending consents (`states`) and the workspace's accounts (`accounts`)."""

from .flows import (ConnectedAccount, ConnectFlow, ConnectRefused, Download, FormConnect, FormField, OAuthConnect,
                    connect_flow_of)

__all__ = ["ConnectFlow", "OAuthConnect", "FormConnect", "FormField", "ConnectedAccount", "ConnectRefused",
           "Download", "connect_flow_of"]
