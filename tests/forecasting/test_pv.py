import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, PVArraySpec, PVForecaster, clear_sky_power, run_backtest

SPEC = PVArraySpec(lat=39.742, lon=-105.1727, tilt=45, azimuth=158, capacity_kw=3.2)
TZ = "America/Denver"


def test_clear_sky_power_is_zero_at_night_and_peaks_near_noon():
    day = pd.date_range("2023-06-21T06:00Z", periods=24, freq="1h")  # local midnight .. 23:00 MDT
    cs = clear_sky_power(SPEC, day, freq=pd.Timedelta("1h"))
    local_hour = day.tz_convert(TZ).hour
    ac = pd.Series(cs["ac_kw"].to_numpy(), index=local_hour)
    assert ac[0] == 0.0 and ac[2] == 0.0 and ac[23] == 0.0
    assert ac[12] > ac[8] > 0.0
    assert ac[12] > ac[17]
    assert ac.max() <= SPEC.capacity_kw
    assert (cs.loc[cs["elevation"] <= 0, "ac_kw"] == 0.0).all()


def test_array_spec_validates_ranges():
    with pytest.raises(ValueError, match="tilt"):
        PVArraySpec(lat=40, lon=-105, tilt=120, azimuth=180, capacity_kw=1)
    with pytest.raises(ValueError, match="capacity_kw"):
        PVArraySpec(lat=40, lon=-105, tilt=30, azimuth=180, capacity_kw=0)


@pytest.fixture
def pv_history():
    """30 days of 15-min power: clear-sky power times a random daily clear-sky index, plus weather GHI."""
    index = pd.date_range("2023-05-01T06:00Z", periods=30 * 96, freq="15min")
    cs = clear_sky_power(SPEC, index, freq=pd.Timedelta("15min"))
    rng = np.random.default_rng(3)
    kc_day = np.repeat(rng.uniform(0.2, 1.0, 30), 96)
    power = pd.Series(cs["ac_kw"].to_numpy() * kc_day, index=index)
    weather = pd.DataFrame({"ghi_w_m2": cs["ghi"].to_numpy() * kc_day}, index=index)
    return power, weather, cs


def test_pv_forecast_is_exactly_zero_at_night_and_ordered(pv_history, fast_params):
    power, weather, _ = pv_history
    schedule = DayAheadSchedule(tz=TZ, freq="PT15M")
    model = PVForecaster(SPEC, schedule, params=fast_params).fit(
        power, weather, fit_time=pd.Timestamp("2023-05-26T06:00Z")
    )
    out = model.predict(pd.Timestamp("2023-05-27 10:00", tz=TZ), history=power, weather=weather)
    assert len(out) == 96
    night = clear_sky_power(SPEC, out.index, freq=pd.Timedelta("15min"))["elevation"] <= 0
    assert night.sum() > 20
    assert (out.loc[night.to_numpy()].to_numpy() == 0.0).all()
    day = out.loc[~night.to_numpy()]
    assert (day["p50"] > 0).any()
    assert (np.diff(out.to_numpy(), axis=1) >= 0).all()
    assert out.to_numpy().max() <= SPEC.ac_limit_kw


def test_pv_forecast_follows_the_weather_forecast(pv_history, fast_params):
    power, weather, cs = pv_history
    schedule = DayAheadSchedule(tz=TZ, freq="PT15M")
    model = PVForecaster(SPEC, schedule, params=fast_params).fit(
        power, weather, fit_time=pd.Timestamp("2023-05-26T06:00Z")
    )
    issue = pd.Timestamp("2023-05-27 10:00", tz=TZ)
    sunny, cloudy = weather.copy(), weather.copy()
    target = (weather.index >= pd.Timestamp("2023-05-28", tz=TZ)) & (
        weather.index < pd.Timestamp("2023-05-29", tz=TZ)
    )
    sunny.loc[target, "ghi_w_m2"] = cs.loc[target, "ghi"]
    cloudy.loc[target, "ghi_w_m2"] = cs.loc[target, "ghi"] * 0.2
    high = model.predict(issue, history=power, weather=sunny)["p50"].sum()
    low = model.predict(issue, history=power, weather=cloudy)["p50"].sum()
    assert high > 1.5 * low


def test_pv_backtest_reports_smart_persistence_and_pv_keys(pv_history, fast_params):
    power, weather, cs = pv_history
    model = PVForecaster(SPEC, DayAheadSchedule(tz=TZ, freq="PT15M"), params=fast_params)
    result = run_backtest(
        model,
        power,
        start="2023-05-24",
        end="2023-05-29",
        weather=weather,
        train_days=30,
        refit_days=6,
        clear_sky=cs["ac_kw"],
        capacity=SPEC.capacity_kw,
    )
    doc = result.contract_json()
    assert "smart_persistence" in doc and "skill_rmse_vs_smart_persistence" in doc
    # daily kc is random, weather knows it, smart persistence cannot: the model must win clearly
    assert doc["skill_rmse_vs_smart_persistence"] > 0.3
