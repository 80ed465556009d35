"""Bookkeeping of the customer sync. Imported by exchange.models, so these are exchange models.

The story's own fields stay on the customer (``needs_1c_export`` is the outbox flag, ``onec_id``,
``sync_status``, ``last_sync_at``, ``sync_error_message``); what only the sync needs to do its job
(attempt counts, when to try again, which fields the site changed since 1C last heard from it)
lives here, next to the log of every operation.
"""

from __future__ import annotations

from django.db import models

from customers.models import User


class CustomerSyncState(models.Model):
    """The export state of one customer; created when the customer is first marked."""

    customer = models.OneToOneField(
        User, verbose_name="покупатель", primary_key=True, on_delete=models.CASCADE, related_name="onec_sync"
    )
    # Bumped by every mark: an export that started before a newer change does not unmark.
    version = models.PositiveIntegerField("версия изменений", default=0)
    requested_at = models.DateTimeField("ждёт выгрузки с", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("попыток", default=0)
    next_attempt_at = models.DateTimeField("следующая попытка", null=True, blank=True, db_index=True)
    # While set and in the future an export attempt is running: a second task stays out, so one
    # customer is never sent twice at once (1C could create two counterparties).
    lease_until = models.DateTimeField("выгружается до", null=True, blank=True)
    # Fields changed on the site since 1C last accepted the customer: on import, the site's value
    # of such a contact field wins over 1C's (exchange.counterparties.importer).
    unsynced_fields = models.JSONField("изменено на сайте после выгрузки", default=list, blank=True)

    class Meta:
        verbose_name = "состояние выгрузки покупателя"
        verbose_name_plural = "состояния выгрузки покупателей"

    def __str__(self) -> str:
        return f"customer {self.pk}"


class SyncDirection(models.TextChoices):
    EXPORT = "export", "Сайт → 1С"
    IMPORT = "import", "1С → сайт"


class SyncOutcome(models.TextChoices):
    SUCCESS = "success", "Выгружен"
    RETRY = "retry", "Ошибка, будет повтор"
    FAILED = "failed", "Ошибка, не выгружен"
    CREATED = "created", "Создан"
    UPDATED = "updated", "Обновлён"
    UNCHANGED = "unchanged", "Без изменений"
    SKIPPED = "skipped", "Пропущен"


class CustomerSyncLog(models.Model):
    """One operation of the sync: an export attempt or one counterparty imported."""

    created_at = models.DateTimeField("время", auto_now_add=True, db_index=True)
    direction = models.CharField("направление", max_length=8, choices=SyncDirection.choices)
    customer = models.ForeignKey(
        User, verbose_name="покупатель", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    onec_id = models.CharField("Ид в 1С", max_length=255, blank=True)
    outcome = models.CharField("результат", max_length=16, choices=SyncOutcome.choices)
    attempt = models.PositiveSmallIntegerField("попытка", default=1)
    status_code = models.PositiveSmallIntegerField("код HTTP", null=True, blank=True)
    answer = models.TextField("ответ 1С", blank=True)
    error = models.TextField("ошибка", blank=True)
    conflicts = models.JSONField("конфликты", default=list, blank=True)
    source = models.CharField("источник", max_length=32, blank=True)
    duration_ms = models.PositiveIntegerField("длительность, мс", default=0)
    # Export successes: from the customer being marked to 1C accepting it (the admin's average).
    latency_ms = models.PositiveBigIntegerField("время до 1С, мс", null=True, blank=True)

    class Meta:
        verbose_name = "журнал синхронизации покупателей"
        verbose_name_plural = "журнал синхронизации покупателей"
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["direction", "outcome", "created_at"], name="customer_sync_log_stats_idx")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_outcome_display()}"


class CustomerSyncRun(models.Model):
    """One run of ``sync_customers_with_1c`` or of the scheduled import: where it stands, so
    that an interrupted run continues from there and the next import asks only for changes."""

    class Status(models.TextChoices):
        RUNNING = "running", "Выполняется"
        INTERRUPTED = "interrupted", "Прерван"
        DONE = "done", "Завершён"
        FAILED = "failed", "Ошибка"

    direction = models.CharField("направление", max_length=8, choices=SyncDirection.choices)
    source = models.CharField("источник", max_length=32)
    status = models.CharField("состояние", max_length=16, choices=Status.choices, default=Status.RUNNING)
    since = models.DateTimeField("изменения с", null=True, blank=True)
    cursor = models.BigIntegerField("продолжить с", default=0)  # export: last customer id; import: offset
    processed = models.PositiveIntegerField("обработано", default=0)
    started_at = models.DateTimeField("начат", auto_now_add=True)
    updated_at = models.DateTimeField("последний шаг", auto_now=True)  # saved after every chunk
    finished_at = models.DateTimeField("завершён", null=True, blank=True)
    error = models.TextField("ошибка", blank=True)

    class Meta:
        verbose_name = "запуск синхронизации покупателей"
        verbose_name_plural = "запуски синхронизации покупателей"
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"{self.direction} {self.started_at:%Y-%m-%d %H:%M}"


class FailedCustomer(User):
    """Customers whose export to 1C failed for good (the dead letter), for the admin's list."""

    class Meta:
        proxy = True
        verbose_name = "покупатель, не выгруженный в 1С"
        verbose_name_plural = "покупатели, не выгруженные в 1С"
