"""A site that reports only utilisation: its day-ahead IT power forecast derived through its compute-power model,
the flexibility envelope built on it, the kW setpoint → compute cap round trip, and the weekly model refit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import flexibility
from apps.forecasts import compute_power
from apps.forecasts.models import ComputePowerModel, ForecastRun
from apps.markets.portfolio import portfolio_problem
from apps.telemetry.choices import Quantity
from apps.telemetry.selectors import series_for
from apps.telemetry.services import datapoints_ingest, timeseries_create
from tests.factories import SiteFactory, WorkloadClassFactory

pytestmark = pytest.mark.django_db

ISSUE = datetime(2022, 9, 5, 17, 0, tzinfo=UTC)  # 10:00 PDT on 5 September
KNOTS = [0.0, 0.5, 1.0]
POWER = [0.3, 0.6, 1.0]  # fraction of 1000 kW: 300 kW idle, steeper above half load
RATED_KW = 1000.0


def by_hand_kw(u: np.ndarray) -> np.ndarray:
    """The stored model evaluated independently of the library: linear between the knots, u clipped to 0…1."""
    return RATED_KW * np.interp(np.clip(u, 0.0, 1.0), KNOTS, POWER)


def utilisation_only_site(*, with_model: bool = True, status: str = "active"):  # type: ignore[no-untyped-def]
    """A 1 MW site with 35 days of hourly utilisation (daily cycle 0.3…0.8 around 10:00 local) and no IT meter."""
    site = SiteFactory(it_capacity_kw=RATED_KW, enrolment_status=status, pue=1.2)
    index = pd.date_range(
        end=pd.Timestamp("2022-09-08", tz="UTC"), periods=35 * 24, freq="h", inclusive="left"
    )
    hours = index.tz_convert("America/Los_Angeles").hour
    rng = np.random.default_rng(7)
    u = 0.55 + 0.25 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 0.01, len(index))
    series = timeseries_create(
        principal=None, owner=site, quantity=Quantity.UTILIZATION_FRACTION, resolution="PT1H"
    )
    datapoints_ingest(series=series, rows=pd.Series(u, index=index))
    if with_model:
        ComputePowerModel.objects.create(
            site=site,
            knots_utilization=KNOTS,
            power_at_knots=POWER,
            rated_it_kw=RATED_KW,
            mae=0.01,
            rmse=0.02,
            mape_pct=2.0,
            r2=0.9,
            n_train=100,
            n_test=20,
            fitted_at=ISSUE - timedelta(days=1),
        )
    return site


def quantiles(run: ForecastRun) -> pd.DataFrame:
    rows = list(run.values.order_by("start").values_list("start", "p10", "p50", "p90"))
    return pd.DataFrame(
        [r[1:] for r in rows], index=pd.DatetimeIndex([r[0] for r in rows]), columns=["p10", "p50", "p90"]
    )


def test_utilisation_forecast_is_converted_quantile_by_quantile_through_the_model() -> None:
    site = utilisation_only_site()
    run = compute_power.it_power_forecast_from_utilization(site_id=site.pk, issue_time=ISSUE)

    assert run.issued_at == ISSUE and run.model_name == compute_power.DERIVED_MODEL_NAME
    stored = ComputePowerModel.objects.get(site=site)
    assert f"cpm{stored.pk}@20220904T1700Z" in run.model_version
    assert (
        run.series.quantity == Quantity.IT_POWER_KW
        and run.series.name == compute_power.DERIVED_IT_SERIES_NAME
    )
    assert "derived" in run.series.source and not run.series.data_points.exists()
    # the site still has no *main* IT power series: meter-based paths are not fooled
    assert series_for(quantity=Quantity.IT_POWER_KW, site=site) is None

    util_run = ForecastRun.objects.get(pk=run.metrics["utilization_run"])
    assert util_run.series.quantity == Quantity.UTILIZATION_FRACTION and util_run.issued_at == ISSUE
    assert run.metrics["compute_model"] == stored.pk and run.metrics["rated_it_kw"] == RATED_KW

    kw, util = quantiles(run), quantiles(util_run)
    assert len(kw) == 24 and kw.index.equals(util.index)
    assert kw.index[0] == pd.Timestamp("2022-09-06T07:00Z")  # next local day
    mapped = {q: by_hand_kw(util[q].to_numpy()) for q in ("p10", "p50", "p90")}
    np.testing.assert_allclose(kw["p50"].to_numpy(), mapped["p50"], rtol=1e-9)
    # p10/p90: the mapped band widened by the map's error, 1.2816 × RMSE (0.02 × 1000 kW) added in quadrature
    extra = (1.2815515655446004 * 0.02 * RATED_KW) ** 2
    half_lo = np.sqrt((mapped["p50"] - mapped["p10"]) ** 2 + extra)
    half_hi = np.sqrt((mapped["p90"] - mapped["p50"]) ** 2 + extra)
    np.testing.assert_allclose(kw["p10"].to_numpy(), mapped["p50"] - half_lo, rtol=1e-9)
    np.testing.assert_allclose(kw["p90"].to_numpy(), mapped["p50"] + half_hi, rtol=1e-9)
    assert run.metrics["band_widened_by_rmse_kw"] == pytest.approx(20.0)
    assert (kw["p10"] <= kw["p50"]).all() and (kw["p50"] <= kw["p90"]).all()
    # the daily cycle survives the conversion (0.3 → 0.8 utilisation is 480 → 880 kW on this model)
    assert kw["p50"].max() - kw["p50"].min() > 250

    again = compute_power.it_power_forecast_from_utilization(site_id=site.pk, issue_time=ISSUE)
    assert ForecastRun.objects.filter(series=run.series, issued_at=ISSUE).count() == 1
    np.testing.assert_allclose(quantiles(again)["p50"], kw["p50"])


def test_flexibility_envelope_of_a_utilisation_only_site_uses_the_derived_forecast() -> None:
    site = utilisation_only_site()
    WorkloadClassFactory(site=site, share_pct=50.0, max_delay_h=4.0)
    run = compute_power.it_power_forecast_from_utilization(site_id=site.pk, issue_time=ISSUE)
    p10 = quantiles(run)["p10"].to_numpy()
    start = run.horizon_start
    built = portfolio_problem(
        sites=[site], start=start, steps=96, belief_time=ISSUE, resolution_s=900, load_quantile="p10"
    )
    assert built.sources[f"site:{site.pk}:it_load"].startswith("forecast@")
    (flex_site,) = built.problem.sites
    baseline = sum(w.baseline_kw for w in flex_site.workloads)
    np.testing.assert_allclose(baseline, np.repeat(p10, 4), rtol=1e-9)  # hourly values held over 15 min

    env = flexibility.envelope(built.problem, durations=[1.0])
    down = env.down_kw[0, 1]  # one-hour holds, this site
    held = np.array([np.repeat(p10, 4)[i : i + 4].min() for i in range(93)])
    # positive wherever the deferred work can still be caught up inside the horizon (4 h deferral)
    assert np.all(down[:72] > 0)
    # at most the deferrable half of the IT load in the window, times the site's PUE
    assert np.all(down[:93] <= 1.2 * 0.5 * held + 1e-6)

    # without the derived run the same site falls back to the nominal load: the forecast is what was used
    ForecastRun.objects.filter(series=run.series).delete()
    nominal = portfolio_problem(sites=[site], start=start, steps=96, belief_time=ISSUE, resolution_s=900)
    assert nominal.sources[f"site:{site.pk}:it_load"] == "nominal"


def test_a_kw_setpoint_maps_back_to_the_forecast_utilisation(api_as, world) -> None:  # type: ignore[no-untyped-def]
    site = utilisation_only_site()
    site.owner = world.owner_a
    site.save()
    run = compute_power.it_power_forecast_from_utilization(site_id=site.pk, issue_time=ISSUE)
    util = quantiles(ForecastRun.objects.get(pk=run.metrics["utilization_run"]))["p50"].clip(0, 1).to_numpy()
    kw = quantiles(run)["p50"].to_numpy()
    stored = ComputePowerModel.objects.get(site=site)
    model = compute_power.compute_model_of(stored)
    caps = model.cap_for_kw(kw, rated_kw=stored.rated_it_kw)
    np.testing.assert_allclose(caps, util, atol=1e-9)  # kW → cap is the inverse of utilisation → kW
    client = api_as("owner_a")
    for hour in (0, 12):
        body = client.get(f"/api/v1/green/compute-models/{stored.pk}/cap/?setpoint_kw={kw[hour]}").json()
        assert body["utilization_cap"] == pytest.approx(util[hour], abs=1e-9)
        assert body["it_kw_at_cap"] == pytest.approx(kw[hour], rel=1e-9)


def test_derived_forecast_needs_a_model_and_utilisation() -> None:
    bare = utilisation_only_site(with_model=False)
    with pytest.raises(ValueError, match="no fitted compute-power model"):
        compute_power.it_power_forecast_from_utilization(site_id=bare.pk, issue_time=ISSUE)
    nothing = SiteFactory()
    with pytest.raises(ValueError, match="no utilization_fraction series"):
        compute_power.it_power_forecast_from_utilization(site_id=nothing.pk, issue_time=ISSUE)
    assert not ForecastRun.objects.exists()


def test_sites_due_for_a_derived_forecast() -> None:
    site = utilisation_only_site()
    utilisation_only_site(with_model=False)  # no model: nothing to convert with
    utilisation_only_site(status="draft")  # not in the portfolio
    metered = utilisation_only_site()
    timeseries_create(principal=None, owner=metered, quantity=Quantity.IT_POWER_KW, resolution="PT1H")
    assert compute_power.utilization_only_sites_due(issue_time=ISSUE) == [site.pk]
    assert compute_power.utilization_only_sites_due(issue_time=ISSUE + timedelta(hours=1)) == []
    compute_power.it_power_forecast_from_utilization(site_id=site.pk, issue_time=ISSUE)
    assert compute_power.utilization_only_sites_due(issue_time=ISSUE) == []


def metered_site(*, slope: float):  # type: ignore[no-untyped-def]
    """An active 1 MW site with three days of hourly utilisation and IT power on IT = (0.4 + slope·u) × 1 MW."""
    site = SiteFactory(it_capacity_kw=RATED_KW, enrolment_status="active")
    index = pd.date_range("2022-09-01T00:00Z", periods=72, freq="h")
    u = 0.2 + 0.6 * np.random.default_rng(5).random(72)
    for quantity, values in (
        (Quantity.UTILIZATION_FRACTION, u),
        (Quantity.IT_POWER_KW, RATED_KW * (0.4 + slope * u)),
    ):
        series = timeseries_create(principal=None, owner=site, quantity=quantity, resolution="PT1H")
        datapoints_ingest(series=series, rows=pd.Series(values, index=index))
    return site


def test_refit_replaces_the_model_from_the_latest_telemetry() -> None:
    site = metered_site(slope=0.5)
    utilisation_only_site()  # has no IT meter: never refitted
    assert compute_power.refit_sites_due() == [site.pk]
    now = datetime(2022, 9, 4, 6, 0, tzinfo=UTC)
    stored = compute_power.compute_model_refit(site_id=site.pk, now=now)
    assert stored is not None and stored.fitted_at == now and stored.n_test == 24 and stored.n_train == 48
    model = compute_power.compute_model_of(stored)
    assert model.predict_kw(np.array([0.3, 0.7]), rated_kw=RATED_KW) == pytest.approx(
        [550.0, 750.0], rel=1e-6
    )
    # before any data the refit keeps the old model
    assert compute_power.compute_model_refit(site_id=site.pk, now=datetime(2022, 8, 1, tzinfo=UTC)) is None
    assert ComputePowerModel.objects.get(site=site).fitted_at == now
