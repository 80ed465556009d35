"""The exchange's settings object: one typed snapshot, following override_settings, refusing
configurations that would expose uploads or confuse 1C."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from exchange.conf import exchange_settings


def test_values_follow_the_django_settings(settings) -> None:
    settings.EXCHANGE_FILE_LIMIT = 1234
    settings.EXCHANGE_IMPORT_MODE = "background"

    conf = exchange_settings()

    assert conf.file_limit == 1234
    assert conf.import_mode == "background"
    assert conf.logs_dir == settings.EXCHANGE_DATA_DIR / "logs"


def test_the_snapshot_is_frozen() -> None:
    with pytest.raises(AttributeError):
        exchange_settings().zip = False


@pytest.mark.parametrize("inside", ["media", "static"])
def test_the_data_dir_may_not_be_under_a_served_folder(settings, tmp_path, inside: str) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STATIC_ROOT = tmp_path / "static"
    settings.EXCHANGE_DATA_DIR = tmp_path / inside / "exchange"

    with pytest.raises(ImproperlyConfigured):
        exchange_settings()


def test_an_unknown_import_mode_is_refused(settings) -> None:
    settings.EXCHANGE_IMPORT_MODE = "later"

    with pytest.raises(ImproperlyConfigured):
        exchange_settings()


@pytest.mark.parametrize("name", ["", "exchange.session", "a b", "a=b", "сессия"])
def test_the_cookie_name_must_be_a_plain_token(settings, name: str) -> None:
    settings.EXCHANGE_COOKIE_NAME = name

    with pytest.raises(ImproperlyConfigured):
        exchange_settings()
