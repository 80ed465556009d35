"""README's first five minutes, verbatim: its shell blocks run against what `make run` starts
(migrate, collectstatic, `python -m config.run`: web, worker and beat) on the embedded default
(SQLite, SQLite broker, file cache) in a fresh VAR_DIR, with only the port substituted."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import free_port, wait_until_up
from tests.services import ROOT

pytestmark = [pytest.mark.e2e]

README = ROOT / "README.md"
# Variables that would point the start at the test services instead of the embedded default.
NOT_INHERITED = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CACHE_URL",
    "CACHE_KEY_PREFIX",
    "EXCHANGE_DATA_DIR",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_STATIC_ROOT",
    "DJANGO_SECRET_KEY",
    "DJANGO_SETTINGS_MODULE",
    "EXCHANGE_PASSWORD",
)
# A command that needs a person at the keyboard; everything else runs as written.
INTERACTIVE = ("createsuperuser",)


def readme_blocks() -> dict[str, str]:
    """The ```sh blocks of README, by the heading they stand under."""
    blocks: dict[str, str] = {}
    heading = ""
    lines = iter(README.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.strip() == "```sh":
            body = []
            for inner in lines:
                if inner.strip() == "```":
                    break
                body.append(inner)
            blocks[heading] = "\n".join(body)
    return blocks


def commands(block: str) -> list[str]:
    """Shell commands of a block: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n", " ", block)
    result = []
    for line in joined.splitlines():
        command = line.strip()
        if command and not command.startswith("#") and not any(word in command for word in INTERACTIVE):
            result.append(command)
    return result


def as_checked_script(block: str, port: int) -> str:
    """A bash script that runs each command in order and stops at the first that fails."""
    lines = ["set -u"]
    for number, command in enumerate(commands(block), 1):
        command = command.replace(":8000", f":{port}")
        lines.append(
            f"{command} || {{ echo {shlex.quote(f'README command {number} failed: {command}')} >&2; exit 1; }}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(free_port()), HOST="127.0.0.1", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def make_run(embedded_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """What `make run` does after installing, in a fresh VAR_DIR."""
    python = str(Path(sys.executable))
    for step in (["manage.py", "migrate", "--noinput"], ["manage.py", "collectstatic", "--noinput", "-v0"]):
        subprocess.run([python, *step], cwd=ROOT, env=embedded_env, check=True, capture_output=True, timeout=300)
    log = tmp_path / "make-run.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [python, "-m", "config.run"],
            cwd=ROOT,
            env=embedded_env | {"DJANGO_DEBUG": "1"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{embedded_env['PORT']}"
    try:
        wait_until_up(f"{base_url}/health", process, log, timeout=120)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C, as README says
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """Where the commands run: the checkout's paths README names, but files the commands write
    (orders.xml) land outside the checkout."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    for name in (".venv", "manage.py", "tests"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def run_block(block: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", as_checked_script(block, port)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        stdin=subprocess.DEVNULL,
    )


def test_the_readme_blocks_are_found() -> None:
    blocks = readme_blocks()

    assert any("create_exchange_user" in block for block in blocks.values())
    assert sum("emulator catalog" in command for block in blocks.values() for command in commands(block)) == 1


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="README's commands use .venv/bin/python")
def test_the_readme_commands_work_verbatim_on_a_fresh_start(
    make_run: str, embedded_env: dict[str, str], workdir: Path
) -> None:
    port = int(embedded_env["PORT"])
    blocks = readme_blocks()
    try_it = next(block for heading, block in blocks.items() if heading == "Try it")
    emulator = next(block for block in blocks.values() if "emulator catalog" in block)

    for block in (try_it, emulator):
        result = run_block(block, port, embedded_env, workdir)
        assert result.returncode == 0, f"{result.stderr[-3000:]}\n{result.stdout[-3000:]}"

    # The emulator's catalog exchange reached the catalog: its products are on sale.
    products = httpx.get(f"{make_run}/api/products/", timeout=30).json()
    assert products["count"] > 0
    assert (workdir / "orders.xml").exists()
