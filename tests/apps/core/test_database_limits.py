"""Values PostgreSQL cannot store (NUL characters, offsets beyond ±15:59) are 400s naming the parameter or field,
not 500s: the API's FilterSet base and strict serializers."""

from __future__ import annotations

import pytest

from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_a_nul_character_in_a_filter_is_a_400_naming_it(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("operator").get("/api/v1/market/programs/", {"zone": "CAISO\x00NP15"})
    assert response.status_code == 400
    assert "zone" in response.content.decode()


def test_an_offset_the_database_cannot_store_is_read_in_utc(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("staff").get(
        "/api/v1/dispatch/plans/", {"valid_from_before": "0643-08-27T17:20:54-16:53"}
    )
    assert response.status_code == 200, response.content


def test_a_date_time_that_leaves_the_calendar_in_utc_is_a_400(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("staff").get(
        "/api/v1/dispatch/plans/", {"valid_from_before": "0001-01-01T00:00:00+05:00"}
    )
    assert response.status_code == 400
    assert "valid_from_before" in response.content.decode()


def test_a_nul_character_in_a_body_field_is_a_400_naming_it(world: World, api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("operator").post(
        "/api/v1/market/programs/", {"code": "x", "name": "x", "zone": "CAISO\x00NP15"}, format="json"
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "zone" in body and "NUL" in body
