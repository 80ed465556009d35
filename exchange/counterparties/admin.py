"""The customer sync in the admin: its log, its numbers, and the failed customers with a retry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from customers.models import SyncStatus
from exchange.admin import ReadOnlyAdminMixin
from exchange.counterparties.export import customers_retry_export
from exchange.counterparties.models import CustomerSyncLog, FailedCustomer
from exchange.counterparties.stats import customer_sync_numbers


@admin.register(CustomerSyncLog)
class CustomerSyncLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "direction",
        "customer",
        "onec_id",
        "outcome",
        "attempt",
        "status_code",
        "duration_ms",
        "short_error",
    )
    change_list_template = "admin/exchange/customer_sync_log_change_list.html"
    list_filter = ("direction", "outcome", "source")
    search_fields = ("customer__email", "onec_id")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "direction",
        "source",
        "customer",
        "onec_id",
        "outcome",
        "attempt",
        "status_code",
        "duration_ms",
        "latency_ms",
        "error",
        "answer",
        "conflicts",
    )
    readonly_fields = fields

    @admin.display(description="ошибка или конфликт")
    def short_error(self, obj: CustomerSyncLog) -> str:
        text = obj.error or "; ".join(obj.conflicts)
        return text if len(text) <= 120 else text[:120] + "…"

    def get_urls(self) -> list[URLPattern]:
        numbers = path(
            "numbers/", self.admin_site.admin_view(self.numbers_view), name="exchange_customersynclog_numbers"
        )
        return [numbers, *super().get_urls()]

    def numbers_view(self, request: HttpRequest) -> HttpResponse:
        numbers = customer_sync_numbers()
        rate = numbers.success_rate
        average = numbers.average_time_to_1c
        context = {
            **self.admin_site.each_context(request),
            "title": "Синхронизация покупателей с 1С: показатели",
            "numbers": numbers,
            "success_rate": None if rate is None else round(rate * 100, 1),
            "average_seconds": None if average is None else round(average.total_seconds(), 1),
            "failed_url": reverse("admin:exchange_failedcustomer_changelist"),
            "log_url": reverse("admin:exchange_customersynclog_changelist"),
        }
        return TemplateResponse(request, "admin/exchange/customer_sync_numbers.html", context)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "title": "Журнал синхронизации покупателей"}
        return super().changelist_view(request, extra_context)


@admin.register(FailedCustomer)
class FailedCustomerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The dead letter: customers whose export failed for good, with 1C's answer and a retry."""

    list_display = ("email", "display_name", "onec_id", "sync_error_message", "last_sync_at", "updated_at")
    search_fields = ("email", "company_name", "inn", "phone")
    actions = ("retry_export",)
    fields = (
        "email",
        "first_name",
        "last_name",
        "company_name",
        "inn",
        "kpp",
        "phone",
        "onec_id",
        "sync_error_message",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[FailedCustomer]:
        return super().get_queryset(request).filter(sync_status=SyncStatus.FAILED)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The action needs change permission on customers; the fields stay read-only.
        return bool(request.user.has_perm("customers.change_user"))

    @admin.display(description="имя / организация")
    def display_name(self, obj: FailedCustomer) -> str:
        return obj.display_name

    @admin.action(description="Повторить выгрузку в 1С", permissions=["change"])
    def retry_export(self, request: HttpRequest, queryset: QuerySet[FailedCustomer]) -> None:
        count = customers_retry_export(customer_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Выгрузка в 1С поставлена в очередь: {count}.", messages.SUCCESS)
