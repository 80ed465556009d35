"""Orders in the admin. Orders are placed through the API only (prices and stock are checked
there), so there is no "add". What 1C reports back (number, payment, shipment) and the
exchange state are read-only; a manager edits the status, contact and delivery details."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from customers.admin_search import PhoneSearchMixin
from orders.models import Order, OrderHistory, OrderItem, OrderStatusMapping
from orders.services import OrderChange, order_changes_record, order_export_retry

EXCHANGE_FIELDS = (
    "sent_to_1c",
    "sent_to_1c_at",
    "export_skipped",
    "export_skip_reason",
    "onec_number",
    "onec_date",
    "onec_status",
    "onec_deleted",
)
PAYMENT_FIELDS = ("payment_status", "paid_at", "payment_document")
SHIPMENT_FIELDS = ("shipment_status", "shipped_at", "shipment_document", "tracking_number")
TOTAL_FIELDS = ("price_type", "currency", "items_total", "delivery_total", "total")


class OrderItemInline(admin.TabularInline):
    """The lines as the customer bought them (a snapshot); never edited afterwards."""

    model = OrderItem
    fields = ("name", "article", "variant", "onec_id", "price", "quantity", "unit_name", "total")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderHistoryInline(admin.TabularInline):
    """What changed, when and from where (1C, a manager); written by the services, never edited."""

    model = OrderHistory
    fields = ("created_at", "source", "field", "old_value", "new_value")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "история изменений"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Fields a manager edits whose changes go into the order's history.
HISTORY_FIELDS = ("status", "contact_name", "contact_email", "contact_phone", "delivery_address", "comment")


@admin.register(OrderStatusMapping)
class OrderStatusMappingAdmin(admin.ModelAdmin):
    """Which site status each status text or id 1C sends back means (exchange of orders)."""

    list_display = ("onec_value", "status")
    list_editable = ("status",)
    list_filter = ("status",)
    search_fields = ("onec_value",)


@admin.register(Order)
class OrderAdmin(PhoneSearchMixin, admin.ModelAdmin):
    phone_search_field = "contact_phone"
    list_display = (
        "number",
        "created_at",
        "status",
        "contact",
        "total",
        "currency",
        "sent_to_1c",
        "export_skip_reason",
        "payment_status",
        "shipment_status",
    )
    list_filter = ("status", "sent_to_1c", "export_skipped", "payment_status", "shipment_status", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("number", "contact_email", "contact_phone", "contact_name", "onec_number", "customer__email")
    list_select_related = ("customer",)
    inlines = (OrderItemInline, OrderHistoryInline)
    actions = ("retry_export",)
    readonly_fields = (
        "number",
        "created_at",
        "updated_at",
        "customer",
        *TOTAL_FIELDS,
        *EXCHANGE_FIELDS,
        *PAYMENT_FIELDS,
        *SHIPMENT_FIELDS,
    )
    fieldsets = (
        (None, {"fields": ("number", "status", "created_at", "updated_at")}),
        (
            "Покупатель",
            {"fields": ("customer", "contact_name", "contact_email", "contact_phone", "delivery_address", "comment")},
        ),
        ("Суммы", {"fields": TOTAL_FIELDS}),
        ("Обмен с 1С", {"fields": EXCHANGE_FIELDS}),
        ("Оплата (из 1С)", {"fields": PAYMENT_FIELDS}),
        ("Отгрузка (из 1С)", {"fields": SHIPMENT_FIELDS}),
    )

    @admin.display(description="контакт")
    def contact(self, obj: Order) -> str:
        reach = ", ".join(value for value in (obj.contact_email, obj.contact_phone) if value)
        return f"{obj.contact_name} ({reach})" if reach else obj.contact_name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        changes = [
            OrderChange(field=name, old=form.initial.get(name), new=form.cleaned_data.get(name))
            for name in HISTORY_FIELDS
            if name in form.changed_data
        ]
        super().save_model(request, obj, form, change)
        if changes:
            order_changes_record(order=obj, changes=changes, source=OrderHistory.Source.ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        # An order 1C already has must stay, or the two sides stop agreeing.
        if obj is not None and obj.sent_to_1c:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Выгрузить в 1С повторно")
    def retry_export(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        queued = order_export_retry(orders=queryset)
        self.message_user(request, f"Заказов поставлено в очередь выгрузки: {queued}.", messages.SUCCESS)
