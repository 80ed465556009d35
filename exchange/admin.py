"""Read-only views of the exchange: sessions with their files and handed-out orders, the request
log, and catalog imports with their reports. The one thing that changes exchange state is the
action that fails stuck imports (exchange.jobs), releasing the import lock."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from exchange.jobs import job_fail
from exchange.models import (
    CatalogImportState,
    ExchangeFile,
    ExchangeRequestLog,
    ExchangeSession,
    ExchangeSessionOrder,
    ImportFile,
    ImportSession,
)
from exchange.protocol import IMPORT_STOPPED_BY_ADMIN


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
    fields = (
        "rank",
        "name",
        "kind",
        "status",
        "started_at",
        "finished_at",
        "reused_from",
        "warnings_count",
        "error_message",
    )
    readonly_fields = fields


def _progress_bar(item: ImportSession) -> str:
    if item.status == ImportSession.Status.COMPLETED:
        done, total = 1, 1
    else:
        done, total = item.progress_done, item.progress_total
    if not total:
        return format_html("<span>{}</span>", item.stage or "—")
    percent = min(100, round(100 * done / total))
    return format_html(
        '<progress value="{}" max="100" style="width:10em"></progress> {}%<br><small>{}</small>',
        percent,
        percent,
        item.stage,
    )


@admin.register(ImportSession)
class ImportSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "status", "progress", "source", "exchange_session", "created_at", "finished_at")
    list_filter = ("kind", "status", "source", "created_at")
    search_fields = ("id", "stage", "error_message", "report")
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "status",
        "progress",
        "source",
        "exchange_session",
        "base_dir",
        "counters_table",
        "report_text",
        "error_message",
        "issues_table",
        "catalog_package",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "task_id",
        "worker",
    )
    readonly_fields = fields
    inlines = (ImportFileInline,)
    actions = ("fail_stuck_imports",)

    def has_fail_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("exchange.change_importsession"))

    @admin.action(description="Прервать выбранные зависшие импорты", permissions=["fail"])
    def fail_stuck_imports(self, request: HttpRequest, queryset: QuerySet[ImportSession]) -> None:
        """Fail the selected pending or running imports: 1C is answered failure for their files and
        the next exchange may import. A worker still running one stops at its next progress write."""
        failed = sum(
            job_fail(job_id=pk, reason=IMPORT_STOPPED_BY_ADMIN)
            for pk in queryset.filter(status__in=ImportSession.ACTIVE_STATUSES).values_list("pk", flat=True)
        )
        if failed:
            self.message_user(request, f"Прервано импортов: {failed}.", messages.SUCCESS)
        else:
            self.message_user(request, "Среди выбранных нет выполняющихся импортов.", messages.WARNING)

    @admin.display(description="пакет каталога")
    def catalog_package(self, item: ImportSession) -> str:
        state = CatalogImportState.objects.filter(job=item).first()
        if state is None:
            return "—"
        facts = [
            ("полная выгрузка каталога", state.full_catalog),
            ("полная выгрузка предложений", state.full_offers),
            ("запрошена деактивация", state.deactivate_requested),
        ]
        closed = (
            f"пакет закрыт {state.package_closed_at:%Y-%m-%d %H:%M:%S}" if state.package_closed_at else "пакет открыт"
        )
        return ", ".join([*(label for label, value in facts if value), closed])

    @admin.display(description="ход импорта")
    def progress(self, item: ImportSession) -> str:
        return _progress_bar(item)

    @admin.display(description="счётчики")
    def counters_table(self, item: ImportSession) -> str:
        from exchange.report import ENTITY_LABELS

        columns = ("created", "updated", "unchanged", "deactivated", "skipped", "errors")
        titles = ("создано", "изменено", "без изменений", "деактивировано", "пропущено", "ошибок")
        rows = format_html_join(
            "",
            "<tr><th>{}</th>" + "<td>{}</td>" * len(columns) + "</tr>",
            (
                (ENTITY_LABELS.get(name, name), *(counts.get(column, 0) for column in columns))
                for name, counts in (item.counters or {}).items()
            ),
        )
        header = format_html_join("", "<th>{}</th>", ((title,) for title in titles))
        return format_html("<table><tr><th></th>{}</tr>{}</table>", header, rows)

    @admin.display(description="отчёт")
    def report_text(self, item: ImportSession) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", item.report)

    @admin.display(description="замечания по элементам (первые 200)")
    def issues_table(self, item: ImportSession) -> str:
        issues = (item.errors or [])[:200]
        if not issues:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((i.get("level"), i.get("file"), i.get("line") or "", i.get("id") or "", i.get("reason")) for i in issues),
        )
        return format_html(
            "<table><tr><th>уровень</th><th>файл</th><th>строка</th><th>Ид</th><th>причина</th></tr>{}</table>", rows
        )


# The customer sync's admin lives with its flow.
from exchange.counterparties import admin as _counterparties_admin  # noqa: E402, F401
