"""manage.py create_exchange_user: the login 1C uses, with the exchange permission."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from customers.models import User
from tests.exchange.conftest import OneC

pytestmark = pytest.mark.django_db

STRONG = "Kx8-exchange-Qw2"


def can_exchange(login: str, password: str) -> bool:
    return OneC(Client(), username=login, password=password).checkauth().lines[0] == "success"


def test_creates_a_user_that_can_exchange_and_nothing_more(db: None) -> None:
    out = io.StringIO()
    call_command("create_exchange_user", "1c", "--password", STRONG, stdout=out)

    user = User.objects.get(email="1c")
    assert user.has_perm("exchange.exchange_1c")
    assert not user.is_staff and not user.is_superuser
    assert can_exchange("1c", STRONG)
    assert "Created" in out.getvalue()


def test_running_again_updates_the_password(db: None) -> None:
    call_command("create_exchange_user", "1c", "--password", STRONG, stdout=io.StringIO())
    call_command("create_exchange_user", "1C", "--password", STRONG + "-new", stdout=io.StringIO())

    assert User.objects.count() == 1
    assert not can_exchange("1c", STRONG)
    assert can_exchange("1c", STRONG + "-new")


def test_the_password_may_come_from_the_environment(db: None, monkeypatch) -> None:
    monkeypatch.setenv("EXCHANGE_PASSWORD", STRONG)

    call_command("create_exchange_user", "1c", stdout=io.StringIO())

    assert can_exchange("1c", STRONG)


def test_the_password_is_asked_for_interactively(db: None, monkeypatch) -> None:
    monkeypatch.delenv("EXCHANGE_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": STRONG)

    call_command("create_exchange_user", "1c", stdout=io.StringIO())

    assert can_exchange("1c", STRONG)


def test_without_a_password_and_no_terminal_it_stops(db: None, monkeypatch) -> None:
    monkeypatch.delenv("EXCHANGE_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    with pytest.raises(CommandError):
        call_command("create_exchange_user", "1c", stdout=io.StringIO())
    assert not User.objects.exists()


def test_a_weak_password_is_refused_unless_told_otherwise(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("create_exchange_user", "1c", "--password", "123", stdout=io.StringIO())

    call_command("create_exchange_user", "1c", "--password", "123", "--skip-validation", stdout=io.StringIO())
    assert can_exchange("1c", "123")


def test_readmes_example_password_passes_the_validators(db: None) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    login, password = re.search(r"create_exchange_user (\S+) --password '([^']+)'", readme).groups()  # type: ignore[union-attr]

    call_command("create_exchange_user", login, "--password", password, stdout=io.StringIO())

    assert can_exchange(login, password)


def test_a_password_like_the_login_is_still_refused(db: None) -> None:
    with pytest.raises(CommandError, match="похож"):
        call_command("create_exchange_user", "exchange1c", "--password", "exchange-secret", stdout=io.StringIO())

    assert not User.objects.exists()
