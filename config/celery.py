"""The Celery application. Tasks live in each app's tasks.py and are discovered from there."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping() -> dict[str, int]:
    """Answers with the worker's process id: proves that a task ran in a separate process."""
    return {"pid": os.getpid()}
