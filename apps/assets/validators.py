"""Physical validation of assets: single-field validators and cross-field rules shared by API and admin.

Cross-field rules return ``{field: reason}`` so that serializers and ``Model.clean()`` report them the same way.
Bounds follow the physics (efficiency in (0, 1], PUE ≥ 1 by definition: total facility power / IT power,
The Green Grid White Paper #49) and the sign convention of DESIGN.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError


def validate_positive(value: float) -> None:
    """Strictly greater than zero."""
    if value is not None and value <= 0:
        raise ValidationError("Must be greater than 0.")


def validate_efficiency(value: float) -> None:
    """An efficiency is a fraction in (0, 1]."""
    if value is not None and not 0 < value <= 1:
        raise ValidationError("An efficiency must be in (0, 1].")


def validate_fraction(value: float) -> None:
    """A fraction in [0, 1]."""
    if value is not None and not 0 <= value <= 1:
        raise ValidationError("Must be between 0 and 1.")


def battery_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Cross-field rules of a battery: soc_min ≤ soc_max ≤ capacity, backup reserve ≤ soc_max ≤ capacity.

    ``values`` holds the battery's fields (missing ones are skipped). Returns ``{field: reason}``, empty if valid.
    """
    errors: dict[str, str] = {}
    capacity = values.get("energy_capacity_kwh")
    soc_min = values.get("soc_min_kwh")
    soc_max = values.get("soc_max_kwh")
    reserve = values.get("backup_reserve_kwh")
    if soc_min is not None and soc_max is not None and soc_min > soc_max:
        errors["soc_min_kwh"] = f"soc_min_kwh ({soc_min}) must not exceed soc_max_kwh ({soc_max})."
    if capacity is not None and soc_max is not None and soc_max > capacity:
        errors["soc_max_kwh"] = f"soc_max_kwh ({soc_max}) must not exceed energy_capacity_kwh ({capacity})."
    if capacity is not None and reserve is not None and reserve > capacity:
        errors["backup_reserve_kwh"] = (
            f"backup_reserve_kwh ({reserve}) must not exceed energy_capacity_kwh ({capacity})."
        )
    elif soc_max is not None and reserve is not None and reserve > soc_max:
        errors["backup_reserve_kwh"] = (
            f"backup_reserve_kwh ({reserve}) must not exceed soc_max_kwh ({soc_max})."
        )
    return errors


def pv_array_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Cross-field rules of a PV array: the AC limit cannot exceed 1.5 × DC capacity (an inverter loading
    ratio below 2/3 is not a real design; typical DC/AC ratios are 1.1–1.4, NREL ATB)."""
    errors: dict[str, str] = {}
    dc = values.get("dc_capacity_kwp")
    ac = values.get("ac_limit_kw")
    if dc is not None and ac is not None and ac > 1.5 * dc:
        errors["ac_limit_kw"] = f"ac_limit_kw ({ac}) must not exceed 1.5 × dc_capacity_kwp ({dc})."
    return errors


def workload_class_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Cross-field rules of a workload class, so that every field it declares is one the scheduler honours:

    - inference is latency-critical, so neither deferrable nor migratable (DESIGN.md: "keep latency-critical
      inference near its users");
    - a deferrable class must be interruptible: the scheduling LP models a class as a fluid of work whose power
      it may lower at any interval, which pauses running jobs; it cannot keep a started job running to its end;
    - ``ramp_kw_per_min`` limits how fast the *scheduler* changes a class's power, so it needs a class the
      scheduler moves (deferrable or migratable); a fixed class runs its load as it arrives;
    - a migration overhead or lead time needs sites to migrate to.
    """
    errors: dict[str, str] = {}
    deferrable = bool(values.get("max_delay_h"))
    migratable = bool(values.get("migratable_to"))
    if values.get("kind") == "inference":
        if deferrable:
            errors["max_delay_h"] = "Inference workloads are not deferrable; leave max_delay_h empty."
        if migratable:
            errors["migratable_to"] = "Inference workloads are not migratable."
    if deferrable and values.get("interruptible") is False:
        errors["interruptible"] = (
            "A deferrable class must be interruptible: the scheduler defers work by pausing it and cannot keep "
            "started jobs running to their end. Make it interruptible, or leave max_delay_h empty."
        )
    if values.get("ramp_kw_per_min") is not None and not (deferrable or migratable):
        errors["ramp_kw_per_min"] = (
            "A ramp limit applies to classes the scheduler moves (deferrable or migratable); this class runs "
            "its load as it arrives. Leave ramp_kw_per_min empty."
        )
    for field in ("migration_overhead_kwh_per_kwh", "migration_lead_time_h"):
        if (values.get(field) or 0) > 0 and not migratable:
            errors[field] = f"{field} needs sites to migrate to: set migratable_to, or leave it 0."
    return errors
