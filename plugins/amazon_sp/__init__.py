"""ledgerlink_amazon_sp"""
