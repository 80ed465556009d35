"""Load a 1C catalog export by hand: ``python manage.py import_1c <files or folder>``.

Runs the same import as the exchange (ImportSession, dependency order, the lock, the report),
in this process, with a progress bar; the session shows up in the admin like any other.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchange.catalog.service import ImportAlreadyRunning, import_session_create, import_session_run
from exchange.models import ImportSession


class Command(BaseCommand):
    help = "Import CommerceML files (import.xml, offers.xml, 3.1 split files) or a folder of them into the catalog."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", help="XML files, or folders searched for *.xml (images in import_files/)"
        )
        parser.add_argument("--quiet-progress", action="store_true", help="Do not draw the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        base_dir, names = self._collect([Path(p) for p in options["paths"]])
        try:
            created = import_session_create(base_dir=base_dir, files=names, source=ImportSession.Source.MANUAL)
        except ImportAlreadyRunning as exc:
            raise CommandError(f"{exc.reason}: wait for it to finish or see the admin") from exc
        self.stdout.write(f"Import #{created.pk}: {len(names)} file(s) from {base_dir}")
        bar = _Bar(enabled=not options["quiet_progress"] and sys.stderr.isatty())
        started = time.monotonic()
        result = import_session_run(import_session_id=created.pk, on_progress=bar.draw)
        bar.close()
        if result is None:
            raise CommandError("The import was taken by another process")
        self.stdout.write(result.report)
        self.stdout.write(f"Took {time.monotonic() - started:.1f} s")
        if result.status != ImportSession.Status.COMPLETED:
            raise CommandError(result.error_message or "Import failed")
        self.stdout.write(self.style.SUCCESS("Import completed"))

    def _collect(self, paths: list[Path]) -> tuple[Path, list[str]]:
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files.extend(
                    p
                    for p in sorted(path.rglob("*.xml"))
                    if "import_files" not in p.relative_to(path).parts and not p.name.startswith(".")
                )
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"No such file or folder: {path}")
        if not files:
            raise CommandError("No XML files found")
        resolved = [f.resolve() for f in files]
        base = Path(os.path.commonpath([str(f.parent) for f in resolved]))
        if len(paths) == 1 and paths[0].is_dir():
            base = paths[0].resolve()
        return base, [f.relative_to(base).as_posix() for f in resolved]


class _Bar:
    WIDTH = 30

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.drawn = False

    def draw(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {stage}: {done}/{total}"
        else:
            line = f"{stage}: {done}"
        sys.stderr.write("\r" + line[:150].ljust(150))
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
