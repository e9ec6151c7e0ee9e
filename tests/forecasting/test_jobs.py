"""Jobs as IT power and the workload-aware forecast (known work + new arrivals)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting.jobs import (
    KW_PER_GPU,
    arrival_power_kw,
    class_demand_kw,
    jobs_read,
    known_work_kw,
    workload_aware_forecast,
)

ROOT = Path(__file__).resolve().parents[2]
INDEX = pd.date_range("2023-01-01", periods=6, freq="h", tz="UTC")


def jobs(*rows: tuple[str, int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submitted": pd.to_datetime([r[0] for r in rows], utc=True),
            "num_gpus": [r[1] for r in rows],
            "runtime_min": [r[2] for r in rows],
        }
    )


def test_a_job_draws_its_gpus_power_while_it_runs_averaged_per_interval() -> None:
    power = arrival_power_kw(jobs(("2023-01-01 01:30", 8, 90.0)), INDEX, kw_per_gpu=0.5)
    # 8 GPUs × 0.5 kW = 4 kW from 01:30 to 03:00: half of hour 1, all of hour 2
    np.testing.assert_allclose(power.to_numpy(), [0, 2.0, 4.0, 0, 0, 0])
    assert arrival_power_kw(jobs(("2023-01-01 01:30", 8, 90.0)), INDEX, 0.5, scale=3).iloc[2] == 12.0


def test_known_work_counts_only_jobs_submitted_before_the_issue_time() -> None:
    two = jobs(("2023-01-01 00:00", 4, 600.0), ("2023-01-01 03:00", 4, 600.0))
    known = known_work_kw(two, pd.Timestamp("2023-01-01 02:00", tz="UTC"), INDEX)
    np.testing.assert_allclose(known, np.full(6, 4 * KW_PER_GPU))


def test_forecast_is_known_work_plus_the_time_of_day_quantiles_of_new_arrivals() -> None:
    hist_index = pd.date_range("2022-12-25", "2023-01-01", freq="h", tz="UTC", inclusive="left")
    history = pd.Series(np.where(hist_index.hour == 3, 10.0, 0.0), index=hist_index)
    q = workload_aware_forecast(known_kw=np.ones(6), history=history, index=INDEX)
    np.testing.assert_allclose(q["p50"].to_numpy(), [1, 1, 1, 11, 1, 1])
    assert (q["p10"] <= q["p50"]).all() and (q["p50"] <= q["p90"]).all()
    with pytest.raises(ValueError, match="known_kw"):
        workload_aware_forecast(known_kw=np.ones(5), history=history, index=INDEX)
    with pytest.raises(ValueError, match="history"):
        workload_aware_forecast(known_kw=np.ones(6), history=history[:0], index=INDEX)


def test_the_shipped_philly_slice_reads_and_shifts() -> None:
    trace = jobs_read(
        ROOT / "data/jobs/philly_2017_oct_nov_jobs.csv", shift_to=pd.Timestamp("2022-09-01", tz="UTC")
    )
    assert len(trace) > 1800 and trace["submitted"].iloc[0] == pd.Timestamp("2022-09-01", tz="UTC")
    assert trace["submitted"].is_monotonic_increasing and (trace["num_gpus"] >= 4).all()


SHARES = {"batch": 0.25, "inference": 0.40, "training": 0.35}


def test_without_known_work_every_class_gets_its_share():
    total = np.array([1000.0, 2000.0, 0.0])
    out = class_demand_kw(total, SHARES, {"training": np.zeros(3)})
    for name, share in SHARES.items():
        assert np.allclose(out[name], share * total)


def test_long_known_jobs_set_their_class_and_the_others_share_the_rest():
    """Jobs that run through the horizon: the class is its known work (not 35 % of the total), and batch and
    inference split what is left 25:40, as the simulated site shares its load."""
    total = np.full(8, 6000.0)
    known = np.full(8, 1000.0)
    out = class_demand_kw(total, SHARES, {"training": known})
    assert np.allclose(out["training"], 1000.0)
    assert np.allclose(out["batch"], 5000.0 * 0.25 / 0.65)
    assert np.allclose(out["inference"], 5000.0 * 0.40 / 0.65)
    assert np.allclose(sum(out.values()), total)


def test_as_known_jobs_finish_the_class_returns_to_its_share():
    total = np.full(5, 4000.0)
    known = np.array([800.0, 800.0, 400.0, 0.0, 0.0])  # half the known work ends at step 2, the rest at 3
    out = class_demand_kw(total, SHARES, {"training": known})["training"]
    assert out[0] == pytest.approx(800.0)
    assert out[2] == pytest.approx(400.0 + 0.35 * 4000.0 * 0.5)
    assert np.allclose(out[3:], 0.35 * 4000.0)


def test_known_work_never_exceeds_the_total_and_unclassified_load_keeps_its_part():
    shares = {"training": 0.5, "batch": 0.3}  # 20 % of the load is in no class
    out = class_demand_kw(np.array([500.0, 1000.0]), shares, {"training": np.array([900.0, 900.0])})
    assert np.allclose(out["training"], [500.0, 900.0])
    assert np.allclose(
        out["batch"], [0.0, 100.0 * 0.3 / 0.5]
    )  # the rest: 0.3 of it to batch, 0.2 to no class


def test_known_work_of_the_wrong_shape_or_class_is_refused():
    with pytest.raises(ValueError, match="shape"):
        class_demand_kw(np.ones(3), SHARES, {"training": np.ones(2)})
    with pytest.raises(ValueError, match="no share"):
        class_demand_kw(np.ones(3), SHARES, {"gaming": np.ones(3)})
