from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.views import health
from exchange.urls import bitrix_urlpatterns
from observability.views import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    # Password reset and setup pages (customers created from 1C set their first password here).
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("api/", include("catalog.api.urls")),
    path("api/", include("customers.api.urls")),
    path("api/", include("orders.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("1c/", include("exchange.urls")),
    path("bitrix/admin/", include((bitrix_urlpatterns, "exchange_bitrix"))),
]
# Product images during development (`make run`); a no-op unless DEBUG, production serves media itself.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
