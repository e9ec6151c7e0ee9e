"""Load and PV shapes of the demo sites from the bundled real data.

IT load: the Google 2019 cell-a PDU power traces (``data/sites``; fraction of rated power, 5-min) — each site
takes one PDU's trace, tiled day by day in the site's local time (trace day k covers local day
``(day − anchor + offset) mod n_days``), times the site's IT capacity. PV: the NREL PVDAQ system 15
plane-of-array irradiance for Aug–Sep 2022, by local wall-clock time (one measured profile shared by the
sites, a documented approximation), through a PVWatts-style DC model: ``P = kWp × POA / 1000 × (1 − losses)``,
clipped at the AC limit (NREL PVWatts v5 manual, Dobos 2014).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from apps.assets.models import PVArray, Site

DATA = Path(settings.BASE_DIR) / "data" / "sites"
PDU_FILE = DATA / "google_powerdata2019_cella_pdu6-8_5min.csv"
POA_FILE = DATA / "nrel_pvdaq15_poa_irradiance_15min_2022-08_2022-09.csv"
#: site name → (PDU column, day offset into the trace)
TRACES = {
    "San Jose DC1": ("pdu6", 0),
    "Dallas DC1": ("pdu7", 3),
    "Ashburn DC1": ("pdu8", 7),
    "Albany DC1": ("pdu6", 11),
}


@cache
def _pdu() -> pd.DataFrame:
    frame = pd.read_csv(PDU_FILE, parse_dates=["timestamp_utc"]).set_index("timestamp_utc")
    return frame.resample("15min").mean().interpolate(limit=4)


@cache
def _poa() -> pd.Series:
    frame = pd.read_csv(POA_FILE)
    local = pd.to_datetime(frame["measured_on_as_published"].str.slice(0, 19))  # wall-clock time of the site
    return (
        pd.Series(frame["poa_irradiance_w_m2"].clip(lower=0).to_numpy(), index=local).groupby(level=0).mean()
    )


def it_load_kw(site: Site, index: pd.DatetimeIndex) -> pd.Series:
    """Uncontrolled IT load (kW) of ``site`` on the UTC ``index`` (15-min)."""
    column, offset = TRACES.get(site.name, ("pdu6", site.pk % 7))
    trace = _pdu()[column]
    days = trace.index.normalize().unique()
    n_days = len(days) - 1  # the last day may be partial
    local = index.tz_convert(site.timezone)
    day_number = (local.normalize().tz_localize(None) - pd.Timestamp("2022-01-01")).days
    trace_day = days[(np.asarray(day_number) + offset) % n_days]
    minutes = local.hour * 60 + local.minute
    lookup = pd.DatetimeIndex(trace_day) + pd.to_timedelta(minutes, unit="min")
    values = trace.reindex(lookup).to_numpy()
    values = pd.Series(values).ffill().bfill().to_numpy()
    return pd.Series(values * site.it_capacity_kw, index=index, name="it_kw")


def pv_kw(array: PVArray, index: pd.DatetimeIndex) -> pd.Series:
    """PV AC power (kW, ≥ 0) of ``array`` on the UTC ``index``, from the measured irradiance by local time."""
    poa = _poa()
    wall = index.tz_convert(array.site.timezone).tz_localize(None)
    # the bundled irradiance covers Aug–Sep 2022; other dates reuse the same day of an available month
    irradiance = (
        poa.reindex(wall, method="nearest", tolerance=pd.Timedelta(minutes=20)).fillna(0.0).to_numpy()
    )
    power = array.dc_capacity_kwp * irradiance / 1000.0 * (1 - array.losses_pct / 100)
    return pd.Series(np.clip(power, 0.0, array.ac_limit_kw), index=index, name="pv_kw")
