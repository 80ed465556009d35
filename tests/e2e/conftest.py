# The in-process 1C client of the endpoint's tests, for e2e tests that drive mode=import directly.
from tests.exchange.conftest import catalog, exchange_user, onec  # noqa: F401
