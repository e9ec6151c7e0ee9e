"""Forecast combination: a weighted average of the quantiles of several forecasters on one schedule."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.base import QUANTILE_COLUMNS, GridForecaster
from forecasting.schedule import Origin, Schedule


class EnsembleForecaster:
    """Average of member forecasts (Bates & Granger 1969, *The combination of forecasts*, OR Quarterly 20(4)).

    p10/p50/p90 are averaged member by member (quantile averaging, Vincentization) and re-sorted so they never
    cross. Same interface as :class:`~forecasting.base.GridForecaster` (``fit``, ``predict``,
    ``predict_origins``), so it can be backtested and stored the same way.

    Args:
        members: forecasters sharing one :class:`DayAheadSchedule`.
        weights: non-negative weights (normalised to sum 1); equal when None.

    Raises:
        ValueError: no member, schedules differ, or bad weights.
    """

    name = "ensemble"
    version = "1"

    def __init__(self, members: Sequence[GridForecaster], weights: Sequence[float] | None = None):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        if any(m.schedule != members[0].schedule for m in members):
            raise ValueError("ensemble members must share one schedule")
        w = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(members),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {len(members)} non-negative numbers with a positive sum")
        self.members = list(members)
        self.weights = w / w.sum()

    @property
    def schedule(self) -> Schedule:
        return self.members[0].schedule

    def fit(self, history: pd.Series, weather: pd.DataFrame | None = None, **kwargs) -> EnsembleForecaster:
        """Fit every member (same arguments as :meth:`GridForecaster.fit`); returns ``self``."""
        for member in self.members:
            member.fit(history, weather, **kwargs)
        return self

    def _combine(self, frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = frames[0].copy()
        stacked = sum(
            w * f[QUANTILE_COLUMNS].to_numpy(float) for w, f in zip(self.weights, frames, strict=True)
        )
        out[QUANTILE_COLUMNS] = np.sort(np.asarray(stacked), axis=1)
        return out

    def predict_origins(self, origins: Sequence[Origin], **kwargs) -> pd.DataFrame:
        """Combined :meth:`GridForecaster.predict_origins`."""
        return self._combine([m.predict_origins(origins, **kwargs) for m in self.members])

    def predict(self, issue_time, horizon_index: pd.DatetimeIndex | None = None, **kwargs) -> pd.DataFrame:
        """Combined :meth:`GridForecaster.predict`: DataFrame p10 ≤ p50 ≤ p90 on ``horizon_index``."""
        return self._combine([m.predict(issue_time, horizon_index, **kwargs) for m in self.members])
