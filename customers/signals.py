"""What the customers app announces about itself; other apps (the 1C sync) listen.

``customer_changed`` is sent by the customer services (registration, profile editing, the admin)
with ``customer`` (the saved User), ``fields`` (a frozenset of the model fields that changed; every
filled-in field on creation) and ``created``. It is sent *inside* the transaction that saved the
change, so that a listener's bookkeeping (the 1C export outbox) commits or rolls back with it;
listeners defer anything outside the database (queueing tasks) to ``transaction.on_commit``.
"""

from __future__ import annotations

from django.dispatch import Signal

customer_changed = Signal()
