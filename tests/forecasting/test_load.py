import numpy as np
import pandas as pd
import pytest

from forecasting import DayAheadSchedule, LoadForecaster, run_backtest

from .conftest import synthetic_weather

TZ = "America/Chicago"


def _fitted(series, params, weather=None, **kwargs):
    schedule = DayAheadSchedule(tz=TZ, issue_time="10:00", horizon="PT24H", freq="PT1H")
    return LoadForecaster(schedule, country="US", subdivision="TX", params=params, **kwargs).fit(
        series, weather, fit_time=pd.Timestamp("2023-02-20T00:00Z")
    )


def test_predict_returns_ordered_quantiles_for_the_local_delivery_day(load_series, fast_params):
    model = _fitted(load_series, fast_params)
    issue = pd.Timestamp("2023-02-21 10:00", tz=TZ)
    out = model.predict(issue, history=load_series)
    assert list(out.columns) == ["p10", "p50", "p90"]
    assert out.index[0] == pd.Timestamp("2023-02-22 00:00", tz=TZ)
    assert len(out) == 24
    assert np.isfinite(out.to_numpy()).all()
    assert (out["p10"] <= out["p50"]).all() and (out["p50"] <= out["p90"]).all()
    # the synthetic daily swing is +-30 around ~110: the forecast must follow it, not be flat
    assert out["p50"].max() - out["p50"].min() > 20


def test_changing_data_after_issue_time_does_not_change_the_forecast(load_series, fast_params):
    weather = synthetic_weather(load_series.index)
    model = _fitted(load_series, fast_params, weather=weather)
    issue = pd.Timestamp("2023-02-24 10:00", tz=TZ)
    before = model.predict(issue, history=load_series, weather=weather)

    changed = load_series.copy()
    after_issue = changed.index + pd.Timedelta("1h") > issue  # intervals not ended at issue time
    changed[after_issue] = changed[after_issue] * 10 + 1000
    assert model.predict(issue, history=changed, weather=weather).equals(before)

    # the same edit one interval earlier (ended exactly at issue time, so known) must matter
    known_too = changed.index + pd.Timedelta("1h") > issue - pd.Timedelta("1h")
    changed[known_too] = load_series[known_too] * 10 + 1000
    assert not model.predict(issue, history=changed, weather=weather).equals(before)


def test_backtest_forecasts_do_not_depend_on_data_after_their_issue_time(load_series, fast_params):
    schedule = DayAheadSchedule(tz=TZ)

    def run(series):
        model = LoadForecaster(schedule, params=fast_params)
        return run_backtest(model, series, start="2023-02-20", end="2023-02-27", train_days=30, refit_days=3)

    base = run(load_series)
    cut = schedule.origin_for("2023-02-24").issue_time  # 4th origin; refits at origins 1, 4, 7
    changed = load_series.copy()
    changed[changed.index + pd.Timedelta("1h") > cut] += 500.0
    other = run(changed)
    early = base.forecasts["issue_time"] <= cut
    cols = ["p10", "p50", "p90", "persistence", "seasonal_naive"]
    pd.testing.assert_frame_equal(base.forecasts.loc[early, cols], other.forecasts.loc[early, cols])
    assert not np.allclose(base.forecasts.loc[~early, "p50"], other.forecasts.loc[~early, "p50"])
    assert base.n_forecasts == 8 and base.n_fits == 3


def test_backtest_beats_seasonal_naive_on_a_learnable_series(load_series, fast_params):
    model = LoadForecaster(DayAheadSchedule(tz=TZ), params=fast_params)
    result = run_backtest(
        model, load_series, start="2023-02-15", end="2023-02-28", train_days=40, refit_days=7
    )
    doc = result.contract_json()
    assert set(doc) == {
        "model",
        "persistence",
        "seasonal_naive",
        "skill_mae_vs_seasonal_naive",
        "n_forecasts",
        "fit_seconds",
    }
    assert doc["n_forecasts"] == 14
    assert doc["skill_mae_vs_seasonal_naive"] > 0


@pytest.mark.parametrize("method", ["quantile", "residual"])
def test_both_quantile_methods_produce_non_crossing_quantiles(load_series, fast_params, method):
    model = _fitted(load_series, fast_params, quantile_method=method)
    out = model.predict(pd.Timestamp("2023-02-21 10:00", tz=TZ), history=load_series)
    assert (np.diff(out.to_numpy(), axis=1) >= 0).all()
    assert (out["p90"] - out["p10"]).mean() > 0


def test_bad_inputs_raise_clear_errors(load_series, fast_params):
    model = LoadForecaster(DayAheadSchedule(tz=TZ), params=fast_params)
    with pytest.raises(ValueError, match="naive"):
        model.fit(load_series.tz_localize(None))
    with pytest.raises(ValueError, match="irregular"):
        model.fit(load_series.drop(load_series.index[5]))
    with pytest.raises(ValueError, match="expected"):
        model.fit(load_series.resample("2h").mean())
    with pytest.raises(ValueError, match="not fitted"):
        model.predict(pd.Timestamp("2023-02-21 10:00", tz=TZ))
    fitted = _fitted(load_series, fast_params)
    with pytest.raises(ValueError, match="naive"):
        fitted.predict(pd.Timestamp("2023-02-21 10:00"))
    with pytest.raises(ValueError, match="not enough history"):
        model.fit(load_series.iloc[: 24 * 5])


def test_a_fitted_model_survives_pickling_for_reuse(load_series, fast_params):
    import pickle

    model = _fitted(load_series, fast_params)
    issue = pd.Timestamp("2023-02-21 10:00", tz=TZ)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.predict(issue, history=load_series).equals(model.predict(issue, history=load_series))
    assert restored.fit_time == pd.Timestamp("2023-02-20T00:00Z")


def test_ensemble_averages_its_members_and_keeps_quantiles_ordered(load_series, fast_params):
    from forecasting import EnsembleForecaster, load_ensemble

    schedule = DayAheadSchedule(tz=TZ)
    ensemble = load_ensemble(schedule, params=fast_params).fit(
        load_series, fit_time=pd.Timestamp("2023-02-20T00:00Z")
    )
    issue = pd.Timestamp("2023-02-21 10:00", tz=TZ)
    out = ensemble.predict(issue, history=load_series)
    members = [m.predict(issue, history=load_series) for m in ensemble.members]
    np.testing.assert_allclose(out["p50"], (members[0]["p50"] + members[1]["p50"]) / 2)
    assert (np.diff(out.to_numpy(), axis=1) >= 0).all()
    other = LoadForecaster(DayAheadSchedule(tz="UTC"), params=fast_params)
    with pytest.raises(ValueError, match="share one schedule"):
        EnsembleForecaster([ensemble.members[0], other])
