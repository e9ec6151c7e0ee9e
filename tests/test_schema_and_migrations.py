"""The OpenAPI schema generates without warnings and the migrations are complete."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    assert "/api/v1/sites/{id}/approve/" in text
    assert "bearerAuth" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/schema/").status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_market_zones_seeded() -> None:
    from apps.core.models import MarketZone

    zones = dict(MarketZone.objects.values_list("code", "currency"))
    assert zones == {
        "CAISO_NP15": "USD",
        "ERCOT_HUB": "USD",
        "PJM_DOM": "USD",
        "NYISO_CAPITL": "USD",
        "DE_LU": "EUR",
    }
