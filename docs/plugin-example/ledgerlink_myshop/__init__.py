"""ledgerlink-myshop: a worked third-party ledgerlink plugin (a source and its sandbox)."""
