"""Permission matrix of the green-power API: every endpoint × method × persona.

Expected statuses for (staff, owner_a, owner_b, operator, anonymous). Detail rows and commands act on owner A's
objects, so owner B gets 404 (not visible) and the market operator 403 (no site data in its API).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apps.forecasts.models import ComputePowerModel
from apps.telemetry.services import datapoints_ingest, timeseries_create
from tests.conftest import PERSONAS, World
from tests.factories import SiteFactory

from .conftest import metered_site

Setup = Callable[[World], tuple[str, Any]]

STAFF_AND_OWNERS = (200, 200, 200, 403, 401)
OWNER_A = (200, 200, 404, 403, 401)
CREATE_FOR_A = (201, 201, 404, 403, 401)


def fittable_site(world: World):  # type: ignore[no-untyped-def]
    """Owner A's site with three days of hourly utilisation and IT power on a known curve."""
    site = SiteFactory(owner=world.owner_a, it_capacity_kw=1000.0)
    index = pd.date_range("2022-09-01T00:00Z", periods=72, freq="h")
    u = 0.3 + 0.4 * np.random.default_rng(3).random(72)
    for quantity, values in (("utilization_fraction", u), ("it_power_kw", 1000 * (0.5 + 0.4 * u))):
        series = timeseries_create(principal=None, owner=site, quantity=quantity, resolution="PT1H")
        datapoints_ingest(series=series, rows=pd.Series(values, index=index))
    return site


def stored_model(world: World) -> ComputePowerModel:
    site = SiteFactory(owner=world.owner_a)
    return ComputePowerModel.objects.create(
        site=site,
        knots_utilization=[0.0, 1.0],
        power_at_knots=[0.4, 1.0],
        rated_it_kw=1000.0,
        mae=0.01,
        rmse=0.01,
        mape_pct=1.0,
        r2=0.9,
        n_train=10,
        n_test=5,
    )


def _contract_body(world: World) -> tuple[str, dict[str, Any]]:
    body = {
        "owner": world.owner_a.pk,
        "name": "Solar PPA",
        "kind": "ppa",
        "zone": "CAISO_NP15",
        "price_per_mwh": 55,
        "term_start": "2022-01-01",
        "term_end": "2031-12-31",
        "hourly_profile_kwh": [0] * 8 + [100] * 8 + [0] * 8,
    }
    SiteFactory(owner=world.owner_a)  # makes sure the zone is seeded
    return "/api/v1/green/contracts/", body


MATRIX: dict[tuple[str, str], tuple[Setup, tuple[int, ...]]] = {
    ("green-contract-list", "get"): (lambda w: ("/api/v1/green/contracts/", None), STAFF_AND_OWNERS),
    ("green-contract-list", "post"): (_contract_body, (*CREATE_FOR_A[:2], 403, 403, 401)),
    ("green-contract-detail", "get"): (
        lambda w: (f"/api/v1/green/contracts/{metered_site(w.owner_a).contract.pk}/", None),
        OWNER_A,
    ),
    ("green-contract-detail", "delete"): (
        lambda w: (f"/api/v1/green/contracts/{metered_site(w.owner_a).contract.pk}/", None),
        (204, 204, 404, 403, 401),
    ),
    ("green-work-unit-list", "get"): (lambda w: ("/api/v1/green/work-units/", None), STAFF_AND_OWNERS),
    ("green-work-unit-list", "post"): (
        lambda w: ("/api/v1/green/work-units/", {"site": SiteFactory(owner=w.owner_a).pk, "name": "tokens"}),
        CREATE_FOR_A,
    ),
    ("green-work-unit-detail", "get"): (
        lambda w: (f"/api/v1/green/work-units/{metered_site(w.owner_a).work_unit.pk}/", None),
        OWNER_A,
    ),
    ("green-work-unit-data", "post"): (
        lambda w: (
            f"/api/v1/green/work-units/{metered_site(w.owner_a).work_unit.pk}/data/",
            [{"start": "2022-09-02T00:00:00Z", "work_units": 4}],
        ),
        OWNER_A,
    ),
    ("green-compute-model-list", "get"): (
        lambda w: ("/api/v1/green/compute-models/", None),
        STAFF_AND_OWNERS,
    ),
    ("green-compute-model-detail", "get"): (
        lambda w: (f"/api/v1/green/compute-models/{stored_model(w).pk}/", None),
        OWNER_A,
    ),
    ("green-compute-model-fit", "post"): (
        lambda w: (
            "/api/v1/green/compute-models/fit/",
            {"site": fittable_site(w).pk, "start": "2022-09-01T00:00:00Z", "end": "2022-09-04T00:00:00Z"},
        ),
        CREATE_FOR_A,
    ),
    ("green-compute-model-cap", "get"): (
        lambda w: (f"/api/v1/green/compute-models/{stored_model(w).pk}/cap/?setpoint_kw=700", None),
        OWNER_A,
    ),
    ("green-ledger-list", "get"): (
        lambda w: (f"/api/v1/green/ledger/?site={metered_site(w.owner_a).site.pk}", None),
        OWNER_A,
    ),
    ("green-ledger-csv", "get"): (
        lambda w: (f"/api/v1/green/ledger/csv/?site={metered_site(w.owner_a).site.pk}", None),
        OWNER_A,
    ),
}

CASES = [(name, method, persona, i) for (name, method) in MATRIX for i, persona in enumerate(PERSONAS)]


@pytest.mark.parametrize(
    ("name", "method", "persona", "index"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES]
)
def test_permission_matrix(world: World, api_as, name: str, method: str, persona: str, index: int) -> None:  # type: ignore[no-untyped-def]
    setup, expected = MATRIX[(name, method)]
    url, body = setup(world)
    if method == "get":
        response = api_as(persona).get(url)
    else:
        response = getattr(api_as(persona), method)(url, body, format="json")
    assert response.status_code == expected[index], (url, persona, response.content[:300])


# Expected status of the site VEN persona (an OpenADR VEN API client of owner A, bound to one site of A; bearer
# token) for each MATRIX row: read-only for the VEN; ledger and models of owner A's other sites are invisible (404). tests/reliability/test_access_matrix.py runs these and fails for a
# MATRIX row without one.
SITE_VEN: dict[tuple[str, str], int] = {
    ("green-contract-list", "get"): 200,
    ("green-contract-list", "post"): 403,
    ("green-contract-detail", "get"): 200,
    ("green-contract-detail", "delete"): 403,
    ("green-work-unit-list", "get"): 200,
    ("green-work-unit-list", "post"): 403,
    ("green-work-unit-detail", "get"): 404,
    ("green-work-unit-data", "post"): 403,
    ("green-compute-model-list", "get"): 200,
    ("green-compute-model-detail", "get"): 404,
    ("green-compute-model-fit", "post"): 403,
    ("green-compute-model-cap", "get"): 404,
    ("green-ledger-list", "get"): 404,
    ("green-ledger-csv", "get"): 404,
}
