"""The regulation band of a site (reserve, SoC, deferrable IT) and the orders a regulation plan's setpoints carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import flexibility
from apps.dispatch.regulation import RegulationBand, regulation_order, site_regulation_band, split_band
from apps.markets.models import Activation

T0 = datetime(2022, 9, 6, 21, 0, tzinfo=UTC)


def _site(
    *, soc_kwh: float, deferrable_kw: float = 0.0, fixed_kw: float = 1000.0, capacity_kw: float = 2000.0
):
    battery = flexibility.Battery(
        energy_kwh=1000.0,
        power_kw=500.0,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        soc_initial_kwh=soc_kwh,
        soc_min_kwh=100.0,
        soc_max_kwh=1000.0,
        backup_reserve_kwh=500.0,
    )
    workloads = [flexibility.Workload(id="s:inference", baseline_kw=np.full(4, fixed_kw))]
    if deferrable_kw:
        workloads.append(
            flexibility.Workload(id="s:batch", baseline_kw=np.full(4, deferrable_kw), max_delay_steps=8)
        )
    return flexibility.Site(
        id="s",
        zone="PJM_DOM",
        pue=1.25,
        batteries=(battery,),
        workloads=tuple(workloads),
        it_capacity_kw=capacity_kw,
    )


def test_a_battery_at_its_backup_reserve_cannot_regulate_down() -> None:
    band = site_regulation_band(_site(soc_kwh=500.0), hours=1.0)
    assert band.battery_down_kw == 0.0
    assert band.battery_up_kw == pytest.approx(500.0)  # room 500 kWh / 0.95 over an hour, capped at 500 kW
    assert band.symmetric_kw == 0.0


def test_the_soc_room_over_the_hour_limits_the_battery_both_ways() -> None:
    band = site_regulation_band(_site(soc_kwh=800.0), hours=1.0)
    assert band.battery_down_kw == pytest.approx(300.0 * 0.95)  # 300 kWh above the reserve, η_d = 0.95
    assert band.battery_up_kw == pytest.approx(200.0 / 0.95)  # 200 kWh below SoC max, η_c = 0.95
    # over half an hour the same energy allows twice the power, up to the 500 kW rating
    half = site_regulation_band(_site(soc_kwh=800.0), hours=0.5)
    assert half.battery_down_kw == pytest.approx(500.0)
    assert half.battery_up_kw == pytest.approx(400.0 / 0.95)


def test_deferrable_it_adds_its_share_down_and_spare_capacity_up() -> None:
    band = site_regulation_band(_site(soc_kwh=500.0, deferrable_kw=400.0, capacity_kw=1600.0), hours=1.0)
    assert band.it_down_kw == pytest.approx(400.0 * 1.25)  # the deferrable share × PUE
    assert band.it_up_kw == pytest.approx(200.0 * 1.25)  # spare IT 1600 − 1400, below the deferrable 400
    assert band.down_kw == pytest.approx(500.0)
    assert band.symmetric_kw == pytest.approx(band.down_kw)


def test_the_award_is_split_pro_rata_and_never_above_the_band() -> None:
    bands = [RegulationBand(300.0, 300.0, 0.0, 0.0), RegulationBand(100.0, 900.0, 0.0, 0.0)]
    assert split_band(bands, 200.0) == pytest.approx([150.0, 50.0])
    assert split_band(bands, 5000.0) == pytest.approx([300.0, 100.0])
    with pytest.raises(ValueError, match="band"):
        split_band([RegulationBand(0.0, 500.0, 0.0, 0.0)], 100.0)


def test_each_setpoint_carries_its_slice_of_the_signal_not_a_mean() -> None:
    signal = [float(np.sin(k / 10)) for k in range(1800)]  # one hour every 2 s
    activation = Activation(activation_id="a", start=T0, signal=signal, signal_resolution_seconds=2, kw=100.0)
    band = RegulationBand(200.0, 200.0, 0.0, 0.0)
    start = T0 + timedelta(minutes=5)
    order = regulation_order(
        share_kw=80.0, band=band, activation=activation, start=start, end=start + timedelta(minutes=5)
    )
    assert order["signal"] == signal[150:300]
    assert order["signal_resolution_seconds"] == 2
    assert order["signal_start"] == start.isoformat()
    assert (order["share_kw"], order["band_up_kw"], order["band_down_kw"]) == (80.0, 200.0, 200.0)
