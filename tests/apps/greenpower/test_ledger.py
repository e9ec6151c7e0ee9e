"""The hourly green ledger computed from telemetry, on hand-computed hours, and its contract and work inputs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from apps.greenpower import selectors
from apps.greenpower.models import GreenContract
from tests.conftest import World
from tests.factories import SiteFactory

from .conftest import HOURS, metered_site


@pytest.mark.django_db
def test_ledger_on_hand_computed_hours(world: World) -> None:
    m = metered_site(world.owner_a)
    led = selectors.site_green_ledger(site=m.site, start=HOURS[0], end=HOURS[-1] + pd.Timedelta(hours=1))
    h = led.hours
    assert list(h.index) == list(HOURS)
    # facility = import + PV; matched = min(contract, import); clean = PV + matched + low-carbon share × rest
    assert h["facility_kwh"].tolist() == [100, 150, 50]
    assert h["matched_kwh"].tolist() == [30, 100, 0]
    assert np.allclose(h["clean_kwh"], [65, 150, 20])
    assert np.allclose(h["green_share"], [0.65, 1.0, 0.4])
    s = led.summary
    assert s["hourly_matched_share"] == pytest.approx(235 / 300)
    assert s["annual_matched_share"] == pytest.approx((50 + 150 + 55) / 300)
    assert s["pue_measured"] == pytest.approx(300 / 230)
    assert s["emissions_kg"] == pytest.approx(250 * 200 / 1000)
    assert s["work_units"] == 35
    assert s["work_per_kwh"] == pytest.approx(35 / 300)
    assert s["work_per_kg_co2"] == pytest.approx(35 / 50)
    assert s["missing_hours"] == 0 and s["hours_without_grid_mix"] == 0


@pytest.mark.django_db
def test_hours_without_meter_are_left_out_and_counted(world: World) -> None:
    m = metered_site(world.owner_a)
    led = selectors.site_green_ledger(site=m.site, start=HOURS[0], end=HOURS[0] + pd.Timedelta(hours=5))
    assert led.summary["hours"] == 3 and led.summary["missing_hours"] == 2
    assert led.summary["facility_kwh"] == 300


@pytest.mark.django_db
def test_contract_outside_its_term_delivers_nothing(world: World) -> None:
    m = metered_site(world.owner_a)
    m.contract.term_end = date(2022, 8, 31)
    m.contract.save()
    led = selectors.site_green_ledger(site=m.site, start=HOURS[0], end=HOURS[-1] + pd.Timedelta(hours=1))
    assert led.summary["matched_kwh"] == 0
    assert led.summary["hourly_matched_share"] == pytest.approx(
        (0.5 * 100 + (50 + 0.2 * 100) + 0.4 * 50) / 300
    )


@pytest.mark.django_db
def test_contract_shared_by_two_sites_is_split_evenly(world: World) -> None:
    m = metered_site(world.owner_a)
    SiteFactory(owner=world.owner_a, name="A2")  # same zone, same owner, no site list on the contract
    profile = selectors.contract_profile_kwh(contract=m.contract, hours=HOURS)
    assert profile.tolist() == [30, 120, 0]
    assert selectors.contract_eligible_site_count(contract=m.contract) == 2
    led = selectors.site_green_ledger(site=m.site, start=HOURS[0], end=HOURS[-1] + pd.Timedelta(hours=1))
    assert led.hours["contract_kwh"].tolist() == [15, 60, 0]
    # another owner's contract in the same zone never counts
    other = metered_site(world.owner_b, name="B1")
    assert list(selectors.contracts_for_site(site=other.site)) == [other.contract]
    assert GreenContract.objects.count() == 2
