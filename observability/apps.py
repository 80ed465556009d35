from __future__ import annotations

import os

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Наблюдение"
    default = True

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun, worker_process_shutdown

        from observability import housekeeping, metrics  # noqa: F401  (registers the listeners)
        from observability.logs import bind_task
        from observability.multiproc import mark_process_dead

        task_prerun.connect(housekeeping.on_task_prerun, weak=False)
        task_postrun.connect(housekeeping.on_task_postrun, weak=False)
        task_prerun.connect(bind_task, weak=False)
        task_postrun.connect(lambda **_: bind_task(), weak=False)

        def on_worker_process_shutdown(pid: int | None = None, **_: object) -> None:
            mark_process_dead(pid or os.getpid())

        worker_process_shutdown.connect(on_worker_process_shutdown, weak=False)
