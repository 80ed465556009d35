"""The exchange endpoint under its own address and under Bitrix's, which is 1C's default.

Both forms of /1c/exchange are mapped explicitly, so APPEND_SLASH never answers 1C with a
redirect (1C does not follow redirects; protocol.md §1.5).
"""

from __future__ import annotations

from django.urls import path

from exchange.views import exchange_endpoint

app_name = "exchange"

urlpatterns = [
    path("exchange", exchange_endpoint, name="endpoint"),
    path("exchange/", exchange_endpoint, name="endpoint-slash"),
]

# Mounted at /bitrix/admin/ by config/urls.py: "Адрес сайта" in 1C defaults to this script.
bitrix_urlpatterns = [
    path("1c_exchange.php", exchange_endpoint, name="endpoint-bitrix"),
]
