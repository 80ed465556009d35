"""Read-only views of the exchange: sessions with their files and handed-out orders, the request
log, and catalog imports with their reports. Nothing here changes exchange state."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from exchange.models import (
    ExchangeFile,
    ExchangeRequestLog,
    ExchangeSession,
    ExchangeSessionOrder,
    ImportFile,
    ImportSession,
)


class ReadOnlyAdminMixin:
    """Shows everything, changes nothing: the records are written by the exchange only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ExchangeFileInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ExchangeFile
    extra = 0
    fields = ("name", "size", "parts", "is_archive", "unpacked_at", "log_name", "created_at", "updated_at")
    readonly_fields = fields
    show_change_link = False


class ExchangeSessionOrderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ExchangeSessionOrder
    extra = 0
    fields = ("order", "order_updated_at", "handed_at")
    readonly_fields = fields


@admin.register(ExchangeSession)
class ExchangeSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "started_at",
        "exchange_type",
        "user",
        "status",
        "remote_addr",
        "last_seen_at",
        "finished_at",
        "protocol_version",
        "bytes_received",
    )
    list_filter = ("exchange_type", "status", "started_at")
    search_fields = ("id", "user__email", "remote_addr")
    date_hierarchy = "started_at"
    list_select_related = ("user",)
    # key and csrf_token are secrets 1C presents; they are never shown.
    fields = (
        "id",
        "user",
        "exchange_type",
        "status",
        "remote_addr",
        "protocol_version",
        "started_at",
        "last_seen_at",
        "finished_at",
        "started_timestamp",
        "init_count",
        "upload_generation",
        "bytes_received",
        "query_sent_at",
        "query_confirmed_at",
    )
    readonly_fields = fields
    inlines = (ExchangeFileInline, ExchangeSessionOrderInline)


@admin.register(ExchangeRequestLog)
class ExchangeRequestLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "exchange_type",
        "mode",
        "outcome",
        "username",
        "remote_addr",
        "bytes_in",
        "bytes_out",
        "duration_ms",
        "error_ref",
    )
    list_filter = ("mode", "outcome", "exchange_type", "auth_failed", "created_at")
    search_fields = ("username", "remote_addr", "answer", "error_ref", "session__id")
    date_hierarchy = "created_at"
    list_select_related = ("session",)
    fields = (
        "created_at",
        "method",
        "exchange_type",
        "mode",
        "params",
        "outcome",
        "answer",
        "user",
        "username",
        "remote_addr",
        "session",
        "bytes_in",
        "bytes_out",
        "duration_ms",
        "error_ref",
        "auth_failed",
    )
    readonly_fields = fields


class ImportFileInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ImportFile
    extra = 0
    fields = ("rank", "name", "kind", "status", "started_at", "finished_at", "error_message")
    readonly_fields = fields


@admin.register(ImportSession)
class ImportSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "status", "source", "stage", "created_at", "started_at", "finished_at")
    list_filter = ("kind", "status", "source", "created_at")
    search_fields = ("id", "stage", "error_message", "report")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status",
        "source",
        "exchange_session",
        "base_dir",
        "stage",
        "progress_done",
        "progress_total",
        "counters",
        "report",
        "errors",
        "error_message",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "task_id",
    )
    readonly_fields = fields
    inlines = (ImportFileInline,)
