"""ledgerlink_qbo"""
