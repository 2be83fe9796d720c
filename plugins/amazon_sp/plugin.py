from ledgerlink import hookimpl
