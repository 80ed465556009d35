"""The last run of each periodic (beat) task, for the dashboard: one row per task name."""

from __future__ import annotations

from django.db import models


class HousekeepingRun(models.Model):
    task = models.CharField("задача", max_length=255, unique=True)
    finished_at = models.DateTimeField("последний запуск")
    outcome = models.CharField("результат", max_length=16)
    duration_ms = models.PositiveIntegerField("длительность, мс", default=0)
    result = models.JSONField("итог", default=dict, blank=True)
    runs = models.PositiveIntegerField("запусков", default=0)
    failures = models.PositiveIntegerField("неудачных", default=0)

    class Meta:
        verbose_name = "периодическая задача"
        verbose_name_plural = "периодические задачи"
        ordering = ("task",)

    def __str__(self) -> str:
        return self.task
