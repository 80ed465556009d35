"""The OpenAPI schema describes every endpoint without generator warnings and validates."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import reset_generator_stats
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    reset_generator_stats()  # earlier tests in this process may have generated a schema

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    schema = (tmp_path / "schema.yaml").read_text()
    for path in ("/api/products/", "/api/products/{id}/", "/api/categories/", "/api/customers/register/"):
        assert f"  {path}:" in schema
    for path in ("/api/customers/token/", "/api/customers/me/", "/api/orders/", "/api/orders/{number}/"):
        assert f"  {path}:" in schema


def test_schema_and_its_docs_page_are_served(api: APIClient) -> None:
    schema = api.get("/api/schema/")

    assert schema.status_code == 200
    assert b"openapi:" in schema.content
    assert api.get("/api/docs/").status_code == 200
