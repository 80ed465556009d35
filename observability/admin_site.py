"""The admin site: titled as the shop (SHOP_NAME), with the exchange dashboard as its front page,
a JSON poll of the running import for the page's progress bar, and downloads of the exchanged-file
copies (the folder itself is never served) for staff allowed to view exchange sessions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path

from exchange.conf import exchange_settings


class ShopAdminSite(admin.AdminSite):
    index_template = "observability/dashboard.html"

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        self.site_header = self.site_title = settings.SHOP_NAME
        self.index_title = "Обмен с 1С"
        return super().each_context(request)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        from observability.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(), **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("dashboard.json", self.admin_view(self.dashboard_json), name="dashboard_json"),
            path("exchange-log/<path:name>", self.admin_view(self.logged_file), name="exchange_logged_file"),
            *super().get_urls(),
        ]

    def dashboard_json(self, request: HttpRequest) -> HttpResponse:
        from observability.dashboard import import_progress, running_import

        return JsonResponse({"import": import_progress(running_import())})

    def logged_file(self, request: HttpRequest, name: str) -> FileResponse:
        """A copy from EXCHANGE_DATA_DIR/logs, confined to that folder."""
        if not request.user.has_perm("exchange.view_exchangesession"):
            raise PermissionDenied
        root = exchange_settings().logs_dir.resolve()
        target = (root / name).resolve()
        if not target.is_relative_to(root) or target == root or not target.is_file():
            raise Http404("no such logged file")
        return FileResponse(target.open("rb"), as_attachment=True, filename=target.name)


class ShopAdminConfig(AdminConfig):
    default_site = "observability.admin_site.ShopAdminSite"
