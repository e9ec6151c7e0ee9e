"""The optional operating constraints of a :class:`~flexibility.sites.Workload` (issue 17): queued work with
deadlines (:class:`QueuedWork`), the minimum power fraction, the ramp limit with the power running just before
the horizon, and the migration overhead and lead time; their JSON readers and the checks that name the field.

Every field is optional and its default leaves the LP exactly as without it (:mod:`flexibility.workload_rows`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flexibility.arrays import _number
from flexibility.errors import FlexibilityInputError

if TYPE_CHECKING:
    from flexibility.sites import Workload


@dataclass(frozen=True)
class QueuedWork:
    """Work of a deferrable workload that arrived before the horizon and still waits.

    ``energy_kwh`` (kWh, ≥ 0) must have run by the end of step ``due_step − 1`` (steps counted from the horizon
    start); a ``due_step`` ≤ 0 is already past its deadline and counts as due from step 0, one above the horizon
    counts as due at its last step (all work runs within the horizon).
    """

    energy_kwh: float
    due_step: int

    def due_index(self, steps: int) -> int:
        """The step by whose end the entry is due, clipped to ``[0, steps − 1]``."""
        return int(min(max(self.due_step - 1, 0), steps - 1))

    def spread_steps(self, steps: int) -> int:
        """Steps over which the entry runs when spread evenly until due: ``due_step`` clipped to ``[1, steps]``
        (an entry already past its deadline spreads over step 0 only)."""
        return int(min(max(self.due_step, 1), steps))

    def to_json(self) -> dict[str, Any]:
        """``{"energy_kwh", "due_step"}``."""
        return {"energy_kwh": self.energy_kwh, "due_step": self.due_step}


def _int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """An integer (not a bool), optionally ≥ ``minimum``; raises FlexibilityInputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise FlexibilityInputError(name, "must be an integer")
    if minimum is not None and value < minimum:
        raise FlexibilityInputError(name, f"must be an integer >= {minimum}")
    return int(value)


def queue_from_json(value: Any, name: str) -> tuple[QueuedWork, ...]:
    """Read ``[{"energy_kwh": E >= 0, "due_step": D}, ...]``; raises FlexibilityInputError naming the entry."""
    if value is None:
        return ()
    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        raise FlexibilityInputError(name, "must be a list of {energy_kwh, due_step}")
    out = []
    for k, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise FlexibilityInputError(f"{name}[{k}]", "must be an object {energy_kwh, due_step}")
        energy = _number(entry.get("energy_kwh"), f"{name}[{k}].energy_kwh", minimum=0)
        if "due_step" not in entry:
            raise FlexibilityInputError(f"{name}[{k}].due_step", "is required")
        out.append(QueuedWork(float(energy), _int(entry["due_step"], f"{name}[{k}].due_step")))  # type: ignore[arg-type]
    return tuple(out)


def fields_from_json(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The issue-17 keyword arguments of :class:`~flexibility.sites.Workload` read from its JSON dict."""
    lead = data.get("migration_lead_steps", 0)
    return {
        "min_power_fraction": float(
            _number(data.get("min_power_fraction", 0.0), f"{name}.min_power_fraction", minimum=0)  # type: ignore[arg-type]
        ),
        "ramp_kw_per_min": _number(data.get("ramp_kw_per_min"), f"{name}.ramp_kw_per_min", allow_none=True),
        "initial_kw": _number(data.get("initial_kw"), f"{name}.initial_kw", minimum=0, allow_none=True),
        "migration_overhead": float(
            _number(data.get("migration_overhead", 0.0), f"{name}.migration_overhead", minimum=0)  # type: ignore[arg-type]
        ),
        "migration_lead_steps": _int(lead, f"{name}.migration_lead_steps", minimum=0),
        "queue": queue_from_json(data.get("queue"), f"{name}.queue"),
    }


def fields_to_json(w: Workload) -> dict[str, Any]:
    """The issue-17 fields of ``w`` that differ from their defaults, JSON-ready."""
    out: dict[str, Any] = {}
    if w.min_power_fraction:
        out["min_power_fraction"] = w.min_power_fraction
    if w.ramp_kw_per_min is not None:
        out["ramp_kw_per_min"] = w.ramp_kw_per_min
    if w.initial_kw is not None:
        out["initial_kw"] = w.initial_kw
    if w.migration_overhead:
        out["migration_overhead"] = w.migration_overhead
    if w.migration_lead_steps:
        out["migration_lead_steps"] = w.migration_lead_steps
    if w.queue:
        out["queue"] = [q.to_json() for q in w.queue]
    return out


def _finite(value: float, name: str, minimum: float, reason: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= minimum):
        raise FlexibilityInputError(name, reason)


def check_fields(w: Workload, name: str) -> None:
    """Validate the issue-17 fields of a workload (also when constructed directly).

    Raises:
        FlexibilityInputError: naming the field: ``min_power_fraction`` outside [0, 1]; ``ramp_kw_per_min`` not
            > 0, or set on a workload the LP does not schedule (neither deferrable nor migratable: it runs its
            baseline, so a ramp could not be honoured); ``initial_kw`` < 0; ``migration_overhead`` < 0;
            ``migration_lead_steps`` not an integer >= 0; a ``queue`` entry with a negative or non-finite
            ``energy_kwh`` or a non-integer ``due_step``, or a queue on a workload that is not deferrable.
    """
    f = w.min_power_fraction
    if not (isinstance(f, int | float) and 0 <= f <= 1):
        raise FlexibilityInputError(f"{name}.min_power_fraction", "is a fraction: must be in [0, 1]")
    if w.ramp_kw_per_min is not None:
        r = w.ramp_kw_per_min
        if not (isinstance(r, int | float) and r > 0 and not math.isnan(r)):
            raise FlexibilityInputError(f"{name}.ramp_kw_per_min", "must be > 0 (kW per minute)")
        if not w.flexible:
            raise FlexibilityInputError(
                f"{name}.ramp_kw_per_min",
                "applies to a workload the LP schedules (deferrable or migratable); this one runs its "
                "baseline, so its ramp could not be honoured",
            )
    if w.initial_kw is not None:
        _finite(w.initial_kw, f"{name}.initial_kw", 0.0, "must be a finite number >= 0 (kW)")
    _finite(
        w.migration_overhead, f"{name}.migration_overhead", 0.0, "must be a finite number >= 0 (kWh per kWh)"
    )
    lead = w.migration_lead_steps
    if isinstance(lead, bool) or not isinstance(lead, int) or lead < 0:
        raise FlexibilityInputError(f"{name}.migration_lead_steps", "must be an integer >= 0")
    for k, q in enumerate(w.queue):
        _finite(q.energy_kwh, f"{name}.queue[{k}].energy_kwh", 0.0, "must be a finite number >= 0 (kWh)")
        if isinstance(q.due_step, bool) or not isinstance(q.due_step, int):
            raise FlexibilityInputError(f"{name}.queue[{k}].due_step", "must be an integer")
    if w.queue and not w.deferrable:
        raise FlexibilityInputError(
            f"{name}.queue", "only a deferrable workload (with max_delay_steps) can have work waiting"
        )
