"""The order exchange (``type=sale``): the site's orders to 1C and 1C's changes back.

* ``selectors``: which orders are due, loaded in chunks as plain rows.
* ``documents``: an order row -> a ``commerceml.records.Document`` (or why it cannot be written).
* ``exporter``: due orders -> writer -> a file (zipped on request), plus what was handed out.
* ``bookkeeping``: ``mode=success`` marks exactly the orders its session's query handed out.
* ``applier``: 1C's documents -> order changes and their history.
* ``service``: the entry points the endpoint calls, one per mode.
"""
