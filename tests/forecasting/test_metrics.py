import math

import numpy as np
import pandas as pd
import pytest

from forecasting import metrics


def test_point_metrics_on_hand_computed_example():
    actual, forecast = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]
    # errors a - f: -1, 0, 1, 2
    assert metrics.mae(actual, forecast) == pytest.approx(1.0)
    assert metrics.rmse(actual, forecast) == pytest.approx(math.sqrt(6 / 4))
    assert metrics.mape(actual, forecast) == pytest.approx(100 * (1 / 1 + 0 + 1 / 3 + 2 / 4) / 4)
    assert metrics.nrmse(actual, forecast, normaliser=2.0) == pytest.approx(100 * math.sqrt(1.5) / 2)
    assert metrics.nmae(actual, forecast, normaliser=4.0) == pytest.approx(25.0)


def test_nan_pairs_are_ignored_and_mape_skips_small_actuals():
    assert metrics.mae([1.0, np.nan, 3.0], [2.0, 5.0, np.nan]) == pytest.approx(1.0)
    assert metrics.mape([0.0, 10.0], [1.0, 11.0], min_abs_actual=0.5) == pytest.approx(10.0)


def test_pinball_loss_is_asymmetric_per_koenker():
    assert metrics.pinball_loss([10.0], [8.0], 0.9) == pytest.approx(0.9 * 2)  # under-forecast
    assert metrics.pinball_loss([10.0], [12.0], 0.9) == pytest.approx(0.1 * 2)  # over-forecast
    assert metrics.mean_pinball_loss([10.0], {0.1: [8.0], 0.9: [12.0]}) == pytest.approx((0.2 + 0.2) / 2)


def test_skill_and_peak_error():
    assert metrics.skill(0.8, 1.0) == pytest.approx(0.2)
    index = pd.date_range("2023-01-01", periods=48, freq="1h", tz="UTC")
    actual = pd.Series(1.0, index=index)
    forecast = pd.Series(1.0, index=index)
    actual.iloc[5], forecast.iloc[6] = 100.0, 90.0  # day 1: peaks 100 vs 90 -> 10 %
    actual.iloc[30], forecast.iloc[30] = 50.0, 55.0  # day 2: peaks 50 vs 55 -> 10 %
    forecast.iloc[40] = 1.0
    assert metrics.daily_peak_error_pct(actual, forecast) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: metrics.mae([1.0, 2.0], [1.0]), "lengths differ"),
        (lambda: metrics.mae([np.nan], [1.0]), "no finite"),
        (lambda: metrics.pinball_loss([1.0], [1.0], 1.5), "quantile"),
        (lambda: metrics.skill(1.0, 0.0), "baseline"),
        (lambda: metrics.mape([0.0], [1.0]), "MAPE undefined"),
    ],
)
def test_bad_metric_input_raises(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_scores_contract_keys():
    index = pd.date_range("2023-01-01", periods=24, freq="1h", tz="UTC")
    actual = pd.Series(np.arange(1.0, 25.0), index=index)
    frame = pd.DataFrame({"p10": actual - 1, "p50": actual, "p90": actual + 1})
    scores = metrics.score(actual, frame)
    assert scores.mae == 0.0
    assert set(scores.contract_dict()) == {
        "mae",
        "rmse",
        "mape_pct",
        "nrmse_pct",
        "pinball",
        "peak_error_pct",
    }
    # p10/p90 one unit off each side: pinball = mean(0.1*1, 0, 0.1*1) / ... = (0.1 + 0 + 0.1) / 3
    assert scores.pinball == pytest.approx(0.2 / 3)


def test_smape_is_symmetric_bounded_and_defined_at_zero():
    assert metrics.smape([100.0], [50.0]) == pytest.approx(100 * 2 * 50 / 150)
    assert metrics.smape([50.0], [100.0]) == metrics.smape([100.0], [50.0])
    assert metrics.smape([0.0, -10.0], [0.0, 10.0]) == pytest.approx((0 + 200) / 2)
