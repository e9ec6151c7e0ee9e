"""Clear-sky PV power of a fixed array from its location and orientation (pvlib).

Chain: solar position (NREL SPA, Reda & Andreas 2004) → Ineichen–Perez clear-sky GHI/DNI/DHI with Linke turbidity
climatology (Ineichen & Perez 2002, Solar Energy 73(3); Remund et al. 2003) → plane-of-array irradiance by the
Hay–Davies transposition (Hay & Davies 1980) → cell temperature (Faiman 2008) → PVWatts DC and inverter models
(Dobos 2014, NREL/TP-6A20-62641) with PVWatts default system losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pvlib


@dataclass(frozen=True)
class PVArraySpec:
    """A fixed-tilt PV array.

    Attributes:
        lat, lon: degrees (north, east positive).
        tilt: degrees from horizontal (0 = flat, 90 = vertical).
        azimuth: degrees clockwise from north the modules face (180 = south).
        capacity_kw: DC nameplate at STC, kWp; forecasts are in kW and nMAE/nRMSE are normalised by it.
        ac_capacity_kw: inverter AC limit, kW (defaults to ``capacity_kw``; the PVWatts inverter clips there).
        altitude_m: site elevation; looked up from pvlib's bundled elevation map when None.
        gamma_pdc: DC power temperature coefficient, 1/°C (PVWatts default −0.0047 for premium modules, −0.004 here).
        losses_pct: PVWatts system losses (soiling, wiring, mismatch...), percent; PVWatts default 14.08.
        albedo: ground reflectance for the transposition.

    Raises:
        ValueError: a value outside its physical range.
    """

    lat: float
    lon: float
    tilt: float
    azimuth: float
    capacity_kw: float
    ac_capacity_kw: float | None = None
    altitude_m: float | None = None
    gamma_pdc: float = -0.004
    losses_pct: float = 14.08
    albedo: float = 0.2

    def __post_init__(self) -> None:
        checks = {
            "lat": -90 <= self.lat <= 90,
            "lon": -180 <= self.lon <= 180,
            "tilt": 0 <= self.tilt <= 90,
            "azimuth": 0 <= self.azimuth <= 360,
            "capacity_kw": self.capacity_kw > 0,
            "ac_capacity_kw": self.ac_capacity_kw is None or self.ac_capacity_kw > 0,
            "losses_pct": 0 <= self.losses_pct < 100,
            "albedo": 0 <= self.albedo <= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                f"PVArraySpec: invalid {', '.join(bad)} ({', '.join(str(getattr(self, b)) for b in bad)})"
            )

    @property
    def ac_limit_kw(self) -> float:
        return self.ac_capacity_kw if self.ac_capacity_kw is not None else self.capacity_kw


@lru_cache(maxsize=64)
def _monthly_linke(lat: float, lon: float) -> np.ndarray:
    """The 12 monthly Linke turbidity values of the pvlib climatology (Remund et al. 2003) at a site.

    Reading them once avoids opening pvlib's HDF5 table on every call."""
    mid_months = pd.DatetimeIndex([f"2021-{month:02d}-15" for month in range(1, 13)], tz="UTC")
    return np.asarray(
        pvlib.clearsky.lookup_linke_turbidity(mid_months, lat, lon, interp_turbidity=False), dtype=float
    )


def linke_turbidity(lat: float, lon: float, times: pd.DatetimeIndex) -> pd.Series:
    """Linke turbidity at ``times``: monthly climatology interpolated linearly between mid-month values (as pvlib's
    ``lookup_linke_turbidity(interp_turbidity=True)``)."""
    monthly = _monthly_linke(round(float(lat), 4), round(float(lon), 4))
    doy = times.day_of_year.to_numpy(float)
    mid = (np.arange(12) + 0.5) * 365.0 / 12.0
    x = np.concatenate([mid - 365.0, mid, mid + 365.0])
    y = np.concatenate([monthly, monthly, monthly])
    return pd.Series(np.interp(doy, x, y), index=times)


def clear_sky_ghi(spec: PVArraySpec, times: pd.DatetimeIndex) -> np.ndarray:
    """Ineichen–Perez clear-sky GHI (W/m²) at the instants ``times`` at the array's site, shape (n,)."""
    return _location_clear_ghi(spec.lat, spec.lon, spec.altitude_m, times)


def _location_clear_ghi(
    lat: float, lon: float, altitude_m: float | None, times: pd.DatetimeIndex
) -> np.ndarray:
    altitude = float(pvlib.location.lookup_altitude(lat, lon)) if altitude_m is None else altitude_m
    location = pvlib.location.Location(lat, lon, altitude=altitude)
    clear = location.get_clearsky(times, model="ineichen", linke_turbidity=linke_turbidity(lat, lon, times))
    return clear["ghi"].to_numpy(float)


def cloud_cover_ghi(
    lat: float,
    lon: float,
    times: pd.DatetimeIndex,
    cloud_cover_pct: np.ndarray | pd.Series,
    *,
    altitude_m: float | None = None,
) -> np.ndarray:
    """GHI (W/m²) expected under a total cloud cover, at the instants ``times`` (tz-aware), shape (n,).

    GHI = GHI_clear · (1 − 0.75 · c^3.4), with GHI_clear the Ineichen–Perez clear-sky GHI and c the cloud cover as a
    fraction (Kasten & Czeplak 1980, Solar Energy 24(2), 177-189; their N/8 in oktas). A weather-forecast feature:
    how much sunshine reaches the ground, e.g. behind-the-meter PV output, which lowers a utility's metered load.

    Raises:
        ValueError: ``cloud_cover_pct`` does not have one value per time, or a value outside 0-100 (NaN passes
            through as NaN).
    """
    cover = np.asarray(cloud_cover_pct, dtype=float)
    if cover.shape != (len(times),):
        raise ValueError(f"cloud_cover_pct has shape {cover.shape}, expected ({len(times)},)")
    if np.any((cover < 0) | (cover > 100)):
        raise ValueError("cloud_cover_pct must lie in 0-100 %")
    clear = _location_clear_ghi(lat, lon, altitude_m, pd.DatetimeIndex(times))
    return clear * (1.0 - 0.75 * (cover / 100.0) ** 3.4)


def clear_sky_power(
    spec: PVArraySpec,
    index: pd.DatetimeIndex,
    *,
    freq: pd.Timedelta | None = None,
    temp_air_c: np.ndarray | float = 20.0,
) -> pd.DataFrame:
    """Clear-sky irradiance and AC power of ``spec`` for the intervals starting at ``index`` (UTC).

    Sun geometry and irradiance are evaluated at the interval midpoint (``index + freq / 2``; at the label when
    ``freq`` is None).

    Returns a DataFrame on ``index`` with columns: ``elevation`` (apparent solar elevation, degrees),
    ``azimuth`` (degrees), ``ghi``, ``dni``, ``dhi``, ``poa`` (W/m²), ``ac_kw`` (clear-sky AC power, kW, exactly 0
    when the sun is at or below the horizon).

    Raises:
        ValueError: naive index.
    """
    if index.tz is None:
        raise ValueError("clear_sky_power needs a tz-aware (UTC) index")
    times = index if freq is None else index + pd.Timedelta(freq) / 2
    altitude = spec.altitude_m
    if altitude is None:
        altitude = float(pvlib.location.lookup_altitude(spec.lat, spec.lon))
    location = pvlib.location.Location(spec.lat, spec.lon, altitude=altitude)
    solpos = location.get_solarposition(times)
    clear = location.get_clearsky(
        times,
        model="ineichen",
        solar_position=solpos,
        linke_turbidity=linke_turbidity(spec.lat, spec.lon, times),
    )
    dni_extra = pvlib.irradiance.get_extra_radiation(times)
    poa = pvlib.irradiance.get_total_irradiance(
        spec.tilt,
        spec.azimuth,
        solpos["apparent_zenith"],
        solpos["azimuth"],
        clear["dni"],
        clear["ghi"],
        clear["dhi"],
        dni_extra=dni_extra,
        model="haydavies",
        albedo=spec.albedo,
    )["poa_global"].fillna(0.0)
    temp_cell = pvlib.temperature.faiman(poa, temp_air_c)
    dc = pvlib.pvsystem.pvwatts_dc(poa, temp_cell, spec.capacity_kw, spec.gamma_pdc)
    dc = dc * (1.0 - spec.losses_pct / 100.0)
    eta_nom = 0.96
    ac = pvlib.inverter.pvwatts(dc, spec.ac_limit_kw / eta_nom, eta_inv_nom=eta_nom)
    elevation = solpos["apparent_elevation"].to_numpy(float)
    ac = np.where(elevation > 0, np.clip(np.nan_to_num(np.asarray(ac, float)), 0.0, None), 0.0)
    return pd.DataFrame(
        {
            "elevation": elevation,
            "azimuth": solpos["azimuth"].to_numpy(float),
            "ghi": clear["ghi"].to_numpy(float),
            "dni": clear["dni"].to_numpy(float),
            "dhi": clear["dhi"].to_numpy(float),
            "poa": poa.to_numpy(float),
            "ac_kw": ac,
        },
        index=index,
    )
