"""The customer sync with 1C: customers of the site go to 1C's HTTP service (the export outbox),
1C's counterparties come back (the HTTP import and Контрагенты files) and update customers.

Modules: ``mapper`` (site customer <-> 1C's JSON object or CommerceML Контрагент), ``client``
(the HTTP contract, outcomes), ``export`` (marking, attempts, backoff, dead letter), ``importer``
(matching and conflicts), ``stats`` (the admin's numbers), ``models`` (state and log).
"""
