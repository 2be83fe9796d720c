"""The QuickBooks Desktop simulator (`ledgerlink sandbox qb_desktop`): plays QuickBooks and its Web Connector
against our Web Connector bridge, for tests and dry runs. Not used in production."""

from .company import CompanyFile, QbxmlRejected, QuickBooksDesktopSimulator, SimulatorOptions, WebConnectorClient

__all__ = ["CompanyFile", "QbxmlRejected", "WebConnectorClient", "QuickBooksDesktopSimulator", "SimulatorOptions"]
