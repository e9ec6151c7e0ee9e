"""``series_for``: the owner's main series of a quantity, never a named one standing in for it."""

from __future__ import annotations

import pytest

from apps.telemetry.selectors import series_for
from tests.factories import SiteFactory, TimeSeriesFactory, ZoneSeriesFactory


@pytest.mark.django_db
def test_main_series_and_never_a_named_one() -> None:
    site = SiteFactory()
    counterfactual = TimeSeriesFactory(site=site, quantity="site_power_kw", name="run_as_it_arrives")
    assert series_for(site=site, quantity="site_power_kw") is None  # no meter yet: not the counterfactual
    meter = TimeSeriesFactory(site=site, quantity="site_power_kw")
    assert series_for(site=site, quantity="site_power_kw") == meter
    assert series_for(site=site, quantity="site_power_kw", name="run_as_it_arrives") == counterfactual
    price = ZoneSeriesFactory()
    assert series_for(zone="CAISO_NP15", quantity="price") == price
    assert series_for(zone="ERCOT_HUB", quantity="price") is None


@pytest.mark.django_db
def test_exactly_one_owner() -> None:
    with pytest.raises(ValueError, match="exactly one owner"):
        series_for(quantity="price")
    with pytest.raises(ValueError, match="exactly one owner"):
        series_for(quantity="price", zone="CAISO_NP15", site=SiteFactory())
