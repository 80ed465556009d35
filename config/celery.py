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


@app.task(name="config.clear_expired_sessions", soft_time_limit=300, time_limit=360)
def clear_expired_sessions() -> dict[str, int]:
    """Delete expired login sessions of the admin and the API's browsable views (Django keeps
    them in the database until someone clears them)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return {"deleted": deleted}
