"""The editable fields of each asset kind, one list per kind, shared by the REST API serializers
(:mod:`apps.assets.api.serializers`, which add ``id``, ``site`` and read-only fields) and the owner portal's
forms (:mod:`apps.dashboard.forms`), so the API and the dashboard always accept the same fields."""

from __future__ import annotations

#: A site's registration (the enrolment form and ``/api/v1/sites/``).
SITE_FIELDS: tuple[str, ...] = (
    "name",
    "latitude",
    "longitude",
    "timezone",
    "market_zone",
    "grid_import_limit_kw",
    "grid_export_limit_kw",
    "pue",
    "it_capacity_kw",
)

#: A workload class of a site.
WORKLOAD_CLASS_FIELDS: tuple[str, ...] = (
    "name",
    "kind",
    "share_pct",
    "max_delay_h",
    "interruptible",
    "migratable_to",
    "min_power_fraction",
    "ramp_kw_per_min",
    "migration_overhead_kwh_per_kwh",
    "migration_lead_time_h",
)

#: A battery (UPS or on-site storage) of a site.
BATTERY_FIELDS: tuple[str, ...] = (
    "name",
    "energy_capacity_kwh",
    "max_charge_kw",
    "max_discharge_kw",
    "charge_efficiency",
    "discharge_efficiency",
    "soc_min_kwh",
    "soc_max_kwh",
    "backup_reserve_kwh",
    "degradation_cost_per_mwh",
)

#: A PV array of a site.
PV_ARRAY_FIELDS: tuple[str, ...] = (
    "name",
    "dc_capacity_kwp",
    "ac_limit_kw",
    "tilt_deg",
    "azimuth_deg",
    "losses_pct",
)
