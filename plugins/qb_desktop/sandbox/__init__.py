"""The QuickBooks Desktop simulator (`ledgerlink sandbox qb_desktop`): plays QuickBooks and its Web Connector
against our Web Connector bridge, for tests and dry runs. Not used in production.

`company` is the company file answering qbXML, `web_connector` the client that polls the bridge over SOAP, and
`server` the sandbox that holds both and is steered through `/_sandbox/*`.
"""

from .company import CompanyFile, QbxmlRejected
from .server import QuickBooksDesktopSimulator, SimulatorOptions
from .web_connector import WebConnectorClient

__all__ = ["CompanyFile", "QbxmlRejected", "WebConnectorClient", "QuickBooksDesktopSimulator", "SimulatorOptions"]
