"""Choices of the time-series store: what a series measures, who owns it, and how it aggregates.

Each :class:`Quantity` has a :class:`QuantitySpec`: its unit, the rule used to resample it
(:class:`Aggregation`), the physical range a value must lie in, and the kinds of owner it may belong to.
Sign convention (DESIGN.md): positive = consumption / import, negative = production / export. PV power is the
exception by design: it is stored as positive generation (a PV array cannot consume), so negative PV is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import models


class OwnerKind(models.TextChoices):
    """What a series belongs to: a site, one of its assets, or a market zone (prices, carbon, weather, load)."""

    SITE = "site", "Site"
    BATTERY = "battery", "Battery"
    PV_ARRAY = "pv_array", "PV array"
    ZONE = "zone", "Market zone"


class Aggregation(models.TextChoices):
    """How values of finer intervals combine into a coarser one.

    ``mean``: average power, intensity, price or state (kW, g/kWh, currency/MWh, °C);
    ``sum``: energy or counts per interval (kWh) — adds up;
    ``last``: a state sampled at instants, e.g. state of charge (kWh) — the latest reading wins.
    """

    MEAN = "mean", "Mean"
    SUM = "sum", "Sum"
    LAST = "last", "Last"


#: Name of a site's second IT-power series: the work *as it arrives* (submitted jobs and requests: what the site
#: would run without the aggregator), beside its unnamed series of the IT power it actually ran. Forecasts and the
#: flexibility problem model demand as it arrives (``flexibility.Workload.baseline_kw``); the IT power a site ran
#: after deferring work, or receiving migrated work, is not its demand. A site without a demand series is modelled
#: from its metered IT power.
IT_DEMAND_SERIES = "demand"
#: Name of a site's ``site_power_kw`` series metered every :data:`REGULATION_METER_RESOLUTION` during regulation
#: events (PJM scores regulation on 10-second samples, Manual 12 §4.5.6); the main 15-minute meter is unchanged.
REGULATION_METER_SERIES = "regulation"
#: Name of the site's ``site_power_kw`` series of its regulation base point at the same resolution: the grid power
#: it runs at without the signal (its own operating point, other events' setpoints included), which the
#: regulation response is measured from (PJM: response = output − regulation base point).
REGULATION_BASE_POINT_SERIES = "regulation base point"
REGULATION_METER_RESOLUTION = "PT10S"

#: Labels of a site's two IT power series (issue #21: both used to read "IT power (kW)"): the demand as it
#: arrives, which is forecast, and the IT power the site served (metered), which follows the plan and is scored
#: as the plan's delivery, never as a forecast.
IT_DEMAND_LABEL = "IT demand as it arrives (kW)"
IT_SERVED_LABEL = "IT power served, metered (kW)"


class Quantity(models.TextChoices):
    """What a series measures; units are in the names (and in :data:`QUANTITY_SPECS`)."""

    SITE_POWER_KW = "site_power_kw", "Site grid power (kW, + = import)"
    IT_POWER_KW = "it_power_kw", "IT power (kW)"
    PV_POWER_KW = "pv_power_kw", "PV generation (kW, stored positive)"
    BATTERY_POWER_KW = "battery_power_kw", "Battery power (kW, + = charging)"
    SOC_KWH = "soc_kwh", "Battery state of charge (kWh)"
    ENERGY_KWH = "energy_kwh", "Energy per interval (kWh, + = import)"
    UTILIZATION_FRACTION = "utilization_fraction", "Utilisation (fraction of rated capacity)"
    TEMPERATURE_C = "temperature_c", "Air temperature (°C)"
    RELATIVE_HUMIDITY_PCT = "relative_humidity_pct", "Relative humidity (%)"
    CLOUD_COVER_PCT = "cloud_cover_pct", "Cloud cover (%)"
    WIND_SPEED_M_PER_S = "wind_speed_m_per_s", "Wind speed (m/s)"
    GHI_W_PER_M2 = "ghi_w_per_m2", "Global horizontal irradiance (W/m²)"
    POA_IRRADIANCE_W_PER_M2 = "poa_irradiance_w_per_m2", "Plane-of-array irradiance (W/m²)"
    PRICE = "price", "Price (zone currency per MWh)"
    CARBON_INTENSITY_G_PER_KWH = "carbon_intensity_g_per_kwh", "Carbon intensity (gCO2eq/kWh)"
    LOW_CARBON_PCT = "low_carbon_pct", "Low-carbon share (%)"
    RENEWABLE_PCT = "renewable_pct", "Renewable share (%)"
    SYSTEM_LOAD_KW = "system_load_kw", "System load (kW)"


SITE_AND_ASSETS = frozenset({OwnerKind.SITE, OwnerKind.BATTERY, OwnerKind.PV_ARRAY})
WEATHER_OWNERS = frozenset({OwnerKind.SITE, OwnerKind.PV_ARRAY, OwnerKind.ZONE})


@dataclass(frozen=True)
class QuantitySpec:
    """Unit, resampling rule, physical range ``[minimum, maximum]`` and allowed owner kinds of a quantity.

    ``unit`` of ``price`` is a template: ``{currency}/MWh`` is filled with the zone's ISO 4217 currency.
    Owner-derived limits (SoC ≤ battery capacity, PV ≤ the array's DC kWp, battery power within its charge
    and discharge ratings) narrow the range further; see :func:`apps.telemetry.services.value_bounds`.
    """

    unit: str
    aggregation: str
    minimum: float
    maximum: float
    owners: frozenset[str]
    why: str = ""


#: Generous physical bounds: they catch unit mistakes (W for kW, MW for kW) and impossible values, not outliers.
QUANTITY_SPECS: dict[str, QuantitySpec] = {
    Quantity.SITE_POWER_KW: QuantitySpec(
        "kW", Aggregation.MEAN, -1e7, 1e7, frozenset({OwnerKind.SITE}), "a site draws less than 10 GW"
    ),
    Quantity.IT_POWER_KW: QuantitySpec(
        "kW", Aggregation.MEAN, 0.0, 1e7, frozenset({OwnerKind.SITE}), "IT load is consumption (≥ 0)"
    ),
    Quantity.PV_POWER_KW: QuantitySpec(
        "kW",
        Aggregation.MEAN,
        0.0,
        1e7,
        frozenset({OwnerKind.SITE, OwnerKind.PV_ARRAY}),
        "PV generation is stored as a positive number",
    ),
    Quantity.BATTERY_POWER_KW: QuantitySpec(
        "kW", Aggregation.MEAN, -1e7, 1e7, frozenset({OwnerKind.SITE, OwnerKind.BATTERY})
    ),
    Quantity.SOC_KWH: QuantitySpec(
        "kWh", Aggregation.LAST, 0.0, 1e8, frozenset({OwnerKind.BATTERY}), "a state of charge is ≥ 0"
    ),
    Quantity.ENERGY_KWH: QuantitySpec("kWh", Aggregation.SUM, -1e8, 1e8, SITE_AND_ASSETS),
    Quantity.UTILIZATION_FRACTION: QuantitySpec(
        "1", Aggregation.MEAN, 0.0, 1.0, frozenset({OwnerKind.SITE}), "a fraction lies in [0, 1]"
    ),
    Quantity.TEMPERATURE_C: QuantitySpec(
        "°C", Aggregation.MEAN, -90.0, 60.0, WEATHER_OWNERS, "air temperatures on Earth lie in −90…60 °C"
    ),
    Quantity.RELATIVE_HUMIDITY_PCT: QuantitySpec("%", Aggregation.MEAN, 0.0, 100.0, WEATHER_OWNERS),
    Quantity.CLOUD_COVER_PCT: QuantitySpec("%", Aggregation.MEAN, 0.0, 100.0, WEATHER_OWNERS),
    Quantity.WIND_SPEED_M_PER_S: QuantitySpec(
        "m/s", Aggregation.MEAN, 0.0, 120.0, WEATHER_OWNERS, "a speed is ≥ 0"
    ),
    Quantity.GHI_W_PER_M2: QuantitySpec(
        "W/m²", Aggregation.MEAN, 0.0, 2000.0, WEATHER_OWNERS, "irradiance is ≥ 0 and below 2 kW/m²"
    ),
    Quantity.POA_IRRADIANCE_W_PER_M2: QuantitySpec(
        "W/m²", Aggregation.MEAN, 0.0, 2000.0, WEATHER_OWNERS, "irradiance is ≥ 0 and below 2 kW/m²"
    ),
    Quantity.PRICE: QuantitySpec(
        "{currency}/MWh",
        Aggregation.MEAN,
        -10_000.0,
        100_000.0,
        frozenset({OwnerKind.ZONE}),
        "wholesale prices stay within −10 000…100 000 per MWh",
    ),
    Quantity.CARBON_INTENSITY_G_PER_KWH: QuantitySpec(
        "gCO2eq/kWh", Aggregation.MEAN, 0.0, 2000.0, frozenset({OwnerKind.ZONE, OwnerKind.SITE})
    ),
    Quantity.LOW_CARBON_PCT: QuantitySpec("%", Aggregation.MEAN, 0.0, 100.0, frozenset({OwnerKind.ZONE})),
    Quantity.RENEWABLE_PCT: QuantitySpec("%", Aggregation.MEAN, 0.0, 100.0, frozenset({OwnerKind.ZONE})),
    Quantity.SYSTEM_LOAD_KW: QuantitySpec(
        "kW", Aggregation.MEAN, 0.0, 1e9, frozenset({OwnerKind.ZONE}), "system load is consumption (≥ 0)"
    ),
}


def series_label(quantity: str, name: str = "") -> str:
    """A self-explaining label of a series of ``quantity`` named ``name``: a site's IT demand series
    (:data:`IT_DEMAND_SERIES`) is :data:`IT_DEMAND_LABEL`, its unnamed IT power series :data:`IT_SERVED_LABEL`;
    any other series is its quantity's label, followed by its name in parentheses when it has one."""
    if quantity == Quantity.IT_POWER_KW:
        if name == IT_DEMAND_SERIES:
            return IT_DEMAND_LABEL
        if not name:
            return IT_SERVED_LABEL
    label = str(Quantity(quantity).label) if quantity in Quantity.values else quantity
    return f"{label} ({name})" if name else label


def unit_for(quantity: str, *, currency: str | None = None) -> str:
    """The unit of ``quantity``; ``price`` is in ``currency`` per MWh (e.g. ``USD/MWh``).

    Raises:
        ValueError: a price without currency.
    """
    unit = QUANTITY_SPECS[quantity].unit
    if "{currency}" in unit:
        if not currency:
            raise ValueError(f"the unit of {quantity} needs the zone's currency.")
        unit = unit.format(currency=currency)
    return unit


assert set(QUANTITY_SPECS) == set(Quantity.values), "every quantity needs a spec"
assert all(math.isfinite(s.minimum) and s.minimum < s.maximum for s in QUANTITY_SPECS.values())


class StateSource(models.TextChoices):
    """How a :class:`~apps.telemetry.models.SiteState` arrived: REST, an OpenADR report, or the simulated site."""

    REST = "rest", "REST API"
    OPENADR = "openadr", "OpenADR report"
    AGENT = "agent", "simulated site agent"
