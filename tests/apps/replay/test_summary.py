"""The replay summary is arithmetic on stored records: hand-computed energy, cost and emissions against the
run-as-it-arrives counterfactual, with deferred work still waiting charged at the period's mean price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from apps.assets.choices import EnrolmentStatus
from apps.replay.runner import COUNTERFACTUAL
from apps.replay.summary import replay_summary
from apps.telemetry.choices import Quantity
from apps.telemetry.services import datapoints_ingest, timeseries_get_or_create
from tests.conftest import World
from tests.factories import SiteFactory, ZoneSeriesFactory

START = datetime(2022, 9, 6, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def _site_with_an_hour_of_records(world: World):  # type: ignore[no-untyped-def]
    site = SiteFactory(owner=world.owner_a, enrolment_status=EnrolmentStatus.ACTIVE, pue=1.25)
    index = pd.date_range(START, periods=4, freq="15min")
    for name, values in (("", [100.0, 100.0, 50.0, 50.0]), (COUNTERFACTUAL, [100.0] * 4)):
        series, _ = timeseries_get_or_create(
            owner=site, quantity=Quantity.SITE_POWER_KW, resolution="PT15M", name=name
        )
        datapoints_ingest(series=series, rows=pd.Series(values, index=index))
    hour = pd.DatetimeIndex([START])
    datapoints_ingest(series=ZoneSeriesFactory(), rows=pd.Series([100.0], index=hour))  # USD/MWh
    carbon = ZoneSeriesFactory(quantity=Quantity.CARBON_INTENSITY_G_PER_KWH, unit="gCO2eq/kWh")
    datapoints_ingest(series=carbon, rows=pd.Series([400.0], index=hour))
    return site


def test_savings_by_hand(world: World) -> None:
    # metered 75 kWh, counterfactual 100 kWh at 100 USD/MWh and 400 g/kWh:
    # cost 7.50 vs 10.00 (25 % saved), emissions 30 vs 40 kg (25 % saved)
    site = _site_with_an_hour_of_records(world)
    summary = replay_summary(start=START, end=END, sites=[site])
    assert summary["energy_kwh"] == pytest.approx(75.0)
    assert summary["baseline_energy_kwh"] == pytest.approx(100.0)
    assert summary["energy_cost"] == pytest.approx(7.5)
    assert summary["baseline_energy_cost"] == pytest.approx(10.0)
    assert summary["cost_savings_pct"] == pytest.approx(25.0)
    assert summary["emissions_kg"] == pytest.approx(30.0)
    assert summary["carbon_savings_pct"] == pytest.approx(25.0)
    assert summary["events"] == 0 and summary["settled_events"] == 0
    assert summary["currency"] == "USD"


def test_work_still_waiting_is_charged(world: World) -> None:
    # 10 kWh of IT work still deferred at the end × PUE 1.25 = 12.5 kWh at the mean 100 USD/MWh and 400 g/kWh:
    # cost 7.50 + 1.25 = 8.75 (12.5 % saved), emissions 30 + 5 = 35 kg (12.5 % saved)
    site = _site_with_an_hour_of_records(world)
    summary = replay_summary(start=START, end=END, sites=[site], unserved_it_kwh={site.pk: 10.0})
    assert summary["unserved_work_kwh"] == pytest.approx(12.5)
    assert summary["energy_cost"] == pytest.approx(8.75)
    assert summary["cost_savings_pct"] == pytest.approx(12.5)
    assert summary["emissions_kg"] == pytest.approx(35.0)
    assert summary["carbon_savings_pct"] == pytest.approx(12.5)


def test_the_printed_table_formats_money_and_percentages(world: World) -> None:
    from apps.replay.summary import summary_table

    site = _site_with_an_hour_of_records(world)
    summary = replay_summary(start=START, end=END, sites=[site], unserved_it_kwh={site.pk: 10.0})
    summary["revenue"], summary["owner_payouts"] = 42862.64, 34290.11
    table = summary_table(summary)
    assert "Net market revenue" in table and "42,862.64 USD" in table and "34,290.11 USD" in table
    assert "Energy cost saved" in table and "1.25 USD (12.50 %)" in table  # 10.00 − 8.75
    assert "12.5 kWh" in table  # unserved work at the end, grid kWh
    assert summary["energy_cost_saved"] == pytest.approx(1.25)
