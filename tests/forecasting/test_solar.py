"""forecasting.solar.cloud_cover_ghi: clear-sky GHI attenuated by cloud cover (Kasten & Czeplak 1980)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting import cloud_cover_ghi

SAN_JOSE = (37.434, -121.955)


def _day() -> pd.DatetimeIndex:
    return pd.date_range("2023-06-21", periods=24, freq="h", tz="America/Los_Angeles")


def test_overcast_keeps_a_quarter_of_clear_sky_and_night_is_dark():
    times = _day()
    clear = cloud_cover_ghi(*SAN_JOSE, times, np.zeros(24))
    overcast = cloud_cover_ghi(*SAN_JOSE, times, np.full(24, 100.0))
    assert clear[0] == 0.0 and clear[3] == 0.0  # midnight and 3:00 local
    assert 850 < clear.max() < 1100  # summer solstice noon in California, W/m²
    assert clear.argmax() in (12, 13)
    np.testing.assert_allclose(overcast, 0.25 * clear)


def test_attenuation_grows_with_cover_and_nan_passes_through():
    times = _day()[12:13].repeat(4)
    ghi = cloud_cover_ghi(*SAN_JOSE, times, np.array([0.0, 50.0, 80.0, np.nan]))
    assert ghi[0] > ghi[1] > ghi[2] > 0
    assert ghi[1] == pytest.approx(ghi[0] * (1 - 0.75 * 0.5**3.4))
    assert np.isnan(ghi[3])


@pytest.mark.parametrize("cover", [np.array([120.0]), np.array([-1.0]), np.array([10.0, 20.0])])
def test_bad_cloud_cover_is_refused(cover):
    with pytest.raises(ValueError, match="cloud_cover_pct"):
        cloud_cover_ghi(*SAN_JOSE, _day()[:1], cover)
