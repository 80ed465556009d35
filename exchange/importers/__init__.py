"""Importers: CommerceML records in, catalog rows out. They know the domain tables and nothing
about XML or HTTP (the reader in ``commerceml`` and the endpoint in ``exchange.views`` do)."""
