"""The catalog exchange (``type=catalog``): 1C's catalog files -> the shop's catalog tables.

* ``service``: the entry points the endpoint calls (import, complete, deactivate), the catalog
  job on the job engine, package closing and the skip of unchanged files.
* ``importer``: records -> catalog.sync writes, batched, compared by content hash first.
* ``limits``: values from 1C checked against the columns they are written to.
* ``pipeline``: the reader runs ahead in a thread while a batch is written.

It knows the domain tables only through ``catalog.sync`` and nothing about XML or HTTP (the
reader in ``commerceml`` and the endpoint in ``exchange.views`` do).
"""
