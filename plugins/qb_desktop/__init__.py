"""ledgerlink_qb_desktop: QuickBooks Desktop/Enterprise through the Web Connector (qbXML)."""
