from __future__ import annotations

import pytest
from rest_framework.test import APIClient

# Rate limits live in the shared cache; every test gets a key prefix of its own (tests/conftest.py),
# so none sees another's counts. Never cache.clear(): on Redis that flushes the broker's db too.


@pytest.fixture
def api() -> APIClient:
    return APIClient()
