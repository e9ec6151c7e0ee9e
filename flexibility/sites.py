"""Site-side parts of a problem: a datacenter :class:`Site` with its :class:`Workload` classes and
:class:`Battery` units; frozen dataclasses with JSON readers and writers (format in :mod:`flexibility.problem`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flexibility.arrays import _array, _limit_out, _list, _number
from flexibility.errors import FlexibilityInputError
from flexibility.workload_fields import QueuedWork, check_fields, fields_from_json, fields_to_json


@dataclass(frozen=True, eq=False)
class Workload:
    """A workload class at a site.

    ``baseline_kw`` (shape ``(steps,)``) is IT power as it arrives. Without ``max_delay_steps`` it runs at its
    baseline (at its own site; if ``migratable_to`` is set, its total still follows the baseline every step but
    may be served at any allowed site, i.e. ``max_delay_steps = 0``). With ``max_delay_steps`` it is deferrable:
    cumulative served energy S(t) over every allowed site satisfies A(t - d) <= S(t) <= A(t), S(T-1) = A(T-1).
    ``max_kw`` caps its total served power wherever it runs.

    ``backlog_kwh`` (kWh, >= 0; deferrable workloads only) is work of this class that arrived before the horizon
    and still waits (deferred earlier). It is available from the start of step 0 and must have run by the end of
    step ``backlog_due_steps - 1`` (its deadline, counted in steps from the horizon start; default
    ``max_delay_steps``, at least 1, at most ``steps``). With B the backlog and D the due step the rule becomes
    A(t - d) + B·[t >= D - 1] <= S(t) <= A(t) + B, S(T-1) = A(T-1) + B: the backlog may run at any step from 0
    and never counts as arriving later. Without a backlog (0) the workload is exactly as above.

    Operating constraints (issue 17; all optional, the defaults leave the LP unchanged; checks and JSON in
    :mod:`flexibility.workload_fields`, LP rows in :mod:`flexibility.workload_rows`):

    * ``min_power_fraction`` (0…1): total served power over all placements ≥ fraction × ``baseline_kw[t]``.
    * ``ramp_kw_per_min`` (kW/min, > 0; flexible workloads only): |x_t − x_{t−1}| ≤ ramp × 60 × Δt_hours for
      the power served at its own site; with ``initial_kw`` (kW it ran at just before the horizon) also at t = 0.
    * ``migration_overhead`` (kWh of extra IT energy per migrated kWh): a destination runs (1 + overhead) × the
      migrated work's power; ``migration_lead_steps``: migrated work runs at a destination no sooner than that
      many steps after it arrived (remote power 0 before, remote cumulative work ≤ A(t − lead) + queued work).
    * ``queue``: :class:`~flexibility.workload_fields.QueuedWork` entries (generalising the backlog, which is one
      more entry): lower bound A(t − d) + Σ_{k: D_k − 1 ≤ t} E_k, upper A(t) + ΣE, final A(T−1) + ΣE.
    """

    id: str
    baseline_kw: np.ndarray
    max_delay_steps: int | None = None
    max_kw: float | None = None
    migratable_to: tuple[str, ...] = ()
    backlog_kwh: float = 0.0
    backlog_due_steps: int | None = None
    min_power_fraction: float = 0.0
    ramp_kw_per_min: float | None = None
    initial_kw: float | None = None
    migration_overhead: float = 0.0
    migration_lead_steps: int = 0
    queue: tuple[QueuedWork, ...] = ()

    def queued(self, steps: int) -> tuple[QueuedWork, ...]:
        """All work waiting at the start: the backlog (if any, due at :meth:`backlog_due`) then ``queue``."""
        head = (QueuedWork(self.backlog_kwh, self.backlog_due(steps)),) if self.backlog_kwh > 0 else ()
        return head + tuple(self.queue)

    def backlog_due(self, steps: int) -> int:
        """The step by whose end the backlog must have run, as a count of steps from the horizon start:
        ``backlog_due_steps`` (default ``max_delay_steps``) clipped to ``[1, steps]``."""
        due = self.backlog_due_steps if self.backlog_due_steps is not None else (self.max_delay_steps or 0)
        return int(min(max(due, 1), steps))

    @property
    def deferrable(self) -> bool:
        """True when ``max_delay_steps`` is set."""
        return self.max_delay_steps is not None

    @property
    def flexible(self) -> bool:
        """True when the LP decides its served power (deferrable or migratable)."""
        return self.max_delay_steps is not None or bool(self.migratable_to)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "workload") -> Workload:
        """Read and validate the JSON dict; raises FlexibilityInputError naming the field."""
        if not data.get("id"):
            raise FlexibilityInputError(f"{name}.id", "is required")
        if "baseline_kw" not in data:
            raise FlexibilityInputError(f"{name}.baseline_kw", "is required")
        delay = data.get("max_delay_steps")
        if delay is not None:
            if isinstance(delay, bool) or int(delay) != delay or delay < 0:
                raise FlexibilityInputError(f"{name}.max_delay_steps", "must be a non-negative integer")
            delay = int(delay)
        migr = data.get("migratable_to") or ()
        if isinstance(migr, str):
            raise FlexibilityInputError(f"{name}.migratable_to", "must be a list of site ids")
        backlog = _number(data.get("backlog_kwh", 0.0), f"{name}.backlog_kwh", minimum=0)
        due = data.get("backlog_due_steps")
        if due is not None and (isinstance(due, bool) or not isinstance(due, int) or due < 1):
            raise FlexibilityInputError(f"{name}.backlog_due_steps", "must be a positive integer")
        workload = cls(
            id=str(data["id"]),
            baseline_kw=_array(data["baseline_kw"], steps, f"{name}.baseline_kw", nonnegative=True),
            max_delay_steps=delay,
            max_kw=_number(data.get("max_kw"), f"{name}.max_kw", minimum=0, allow_none=True),
            migratable_to=tuple(str(s) for s in migr),
            backlog_kwh=float(backlog),  # type: ignore[arg-type]
            backlog_due_steps=due,
            **fields_from_json(data, name),
        )
        _check_backlog(workload, name)
        return workload

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        out: dict[str, Any] = {"id": self.id, "baseline_kw": _list(self.baseline_kw)}
        if self.max_delay_steps is not None:
            out["max_delay_steps"] = self.max_delay_steps
        if self.max_kw is not None:
            out["max_kw"] = self.max_kw
        if self.migratable_to:
            out["migratable_to"] = list(self.migratable_to)
        if self.backlog_kwh:
            out["backlog_kwh"] = self.backlog_kwh
        if self.backlog_due_steps is not None:
            out["backlog_due_steps"] = self.backlog_due_steps
        out.update(fields_to_json(self))
        return out


def _check_backlog(w: Workload, name: str) -> None:
    """A backlog must be a finite kWh >= 0 of a deferrable workload, with a positive integer due step; the
    issue-17 fields as :func:`flexibility.workload_fields.check_fields`."""
    if not (math.isfinite(w.backlog_kwh) and w.backlog_kwh >= 0):
        raise FlexibilityInputError(f"{name}.backlog_kwh", "must be a finite number >= 0 (kWh)")
    if w.backlog_due_steps is not None and (
        isinstance(w.backlog_due_steps, bool)
        or int(w.backlog_due_steps) != w.backlog_due_steps
        or w.backlog_due_steps < 1
    ):
        raise FlexibilityInputError(f"{name}.backlog_due_steps", "must be a positive integer")
    if w.backlog_kwh > 0 and not w.deferrable:
        raise FlexibilityInputError(
            f"{name}.backlog_kwh", "only a deferrable workload (with max_delay_steps) can have work waiting"
        )
    check_fields(w, name)


@dataclass(frozen=True, eq=False)
class Battery:
    """A battery (UPS or on-site storage).

    SoC(t) = soc_initial + sum_{tau<=t} (charge_efficiency * charge - discharge / discharge_efficiency) * dt,
    kept within [max(soc_min, backup_reserve), soc_max]; charge, discharge in [0, power_kw].
    """

    energy_kwh: float
    power_kw: float
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    soc_initial_kwh: float = 0.0
    soc_min_kwh: float = 0.0
    soc_max_kwh: float | None = None
    backup_reserve_kwh: float = 0.0
    soc_final_min_kwh: float | None = None
    cycle_cost_per_mwh: float = 0.0

    @property
    def soc_upper_kwh(self) -> float:
        """Upper SoC bound: ``soc_max_kwh``, or ``energy_kwh`` when unset."""
        return self.energy_kwh if self.soc_max_kwh is None else self.soc_max_kwh

    @property
    def soc_floor_kwh(self) -> float:
        """The SoC may never go below max(soc_min, backup_reserve)."""
        return max(self.soc_min_kwh, self.backup_reserve_kwh)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], name: str = "battery") -> Battery:
        """Read and validate the JSON dict; raises FlexibilityInputError naming the field."""
        kw: dict[str, Any] = {}
        for key in ("energy_kwh", "power_kw"):
            kw[key] = _number(data.get(key), f"{name}.{key}", minimum=0)
        for key in ("charge_efficiency", "discharge_efficiency"):
            v = _number(data.get(key, 1.0), f"{name}.{key}", minimum=0)
            if not 0 < v <= 1:  # type: ignore[operator]
                raise FlexibilityInputError(f"{name}.{key}", "must be in (0, 1]")
            kw[key] = v
        for key in ("soc_initial_kwh", "soc_min_kwh", "backup_reserve_kwh", "cycle_cost_per_mwh"):
            kw[key] = _number(data.get(key, 0.0), f"{name}.{key}", minimum=0)
        for key in ("soc_max_kwh", "soc_final_min_kwh"):
            kw[key] = _number(data.get(key), f"{name}.{key}", minimum=0, allow_none=True)
        return cls(**kw)

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        return {
            "energy_kwh": self.energy_kwh,
            "power_kw": self.power_kw,
            "charge_efficiency": self.charge_efficiency,
            "discharge_efficiency": self.discharge_efficiency,
            "soc_initial_kwh": self.soc_initial_kwh,
            "soc_min_kwh": self.soc_min_kwh,
            "soc_max_kwh": self.soc_max_kwh,
            "backup_reserve_kwh": self.backup_reserve_kwh,
            "soc_final_min_kwh": self.soc_final_min_kwh,
            "cycle_cost_per_mwh": self.cycle_cost_per_mwh,
        }


@dataclass(frozen=True, eq=False)
class Site:
    """A datacenter site: grid connection, PUE, optional PV (kW available, shape ``(steps,)``), workloads, batteries.

    ``grid_import_limit_kw`` may be ``inf`` (JSON null / absent); ``grid_export_limit_kw`` defaults to 0.
    ``it_capacity_kw`` (optional, ``inf`` = unlimited) caps the IT power the site can run in every step: its own
    fixed workloads plus every flexible workload served there (its own, caught up, or migrated in) — the room a
    receiving site really has (the capacity of its servers, Barroso et al., *The Datacenter as a Computer*,
    3rd ed., §5.1).
    ``min_green_share`` (fraction 0…1, optional) asks that in every step the site's clean energy (PV used,
    matched green contracts, the grid's low-carbon share of the rest; :mod:`flexibility.green`) be at least that
    share of its consumption; with ``green_shortfall_price_per_mwh`` the missing clean energy is priced
    instead of forbidden (a soft constraint).
    ``it_reserve_kw`` (optional, ``(steps,)`` kW ≥ 0) is IT headroom the site keeps free against forecast error
    (e.g. p90 − p50 of its IT forecast): work added at the site may use max(it_capacity − fixed − reserve,
    own flexible + own queue spread) (:func:`flexibility.workload_rows.it_capacity_rows`).
    """

    id: str
    zone: str
    grid_import_limit_kw: float = math.inf
    grid_export_limit_kw: float = 0.0
    pue: float = 1.0
    pv_kw: np.ndarray | None = None
    workloads: tuple[Workload, ...] = ()
    batteries: tuple[Battery, ...] = ()
    it_capacity_kw: float = math.inf
    min_green_share: float | None = None
    green_shortfall_price_per_mwh: float | None = None
    it_reserve_kw: np.ndarray | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "site") -> Site:
        """Read and validate the JSON dict; raises FlexibilityInputError naming the field."""
        if not data.get("id"):
            raise FlexibilityInputError(f"{name}.id", "is required")
        if not data.get("zone"):
            raise FlexibilityInputError(f"{name}.zone", "is required")
        imp = _number(
            data.get("grid_import_limit_kw"), f"{name}.grid_import_limit_kw", minimum=0, allow_none=True
        )
        exp = _number(
            data.get("grid_export_limit_kw", 0.0), f"{name}.grid_export_limit_kw", minimum=0, allow_none=True
        )
        pue = _number(data.get("pue", 1.0), f"{name}.pue")
        if pue is None or pue <= 0:
            raise FlexibilityInputError(f"{name}.pue", "must be > 0")
        it_cap = _number(data.get("it_capacity_kw"), f"{name}.it_capacity_kw", minimum=0, allow_none=True)
        pv = data.get("pv_kw")
        reserve = data.get("it_reserve_kw")
        batteries: list[Battery] = []
        if data.get("battery") is not None:
            batteries.append(Battery.from_json(data["battery"], f"{name}.battery"))
        for i, b in enumerate(data.get("batteries") or ()):
            batteries.append(Battery.from_json(b, f"{name}.batteries[{i}]"))
        workloads = tuple(
            Workload.from_json(w, steps, f"{name}.workloads[{i}]")
            for i, w in enumerate(data.get("workloads") or ())
        )
        ids = [w.id for w in workloads]
        if len(set(ids)) != len(ids):
            raise FlexibilityInputError(f"{name}.workloads", "workload ids must be unique within a site")
        share = _number(data.get("min_green_share"), f"{name}.min_green_share", minimum=0, allow_none=True)
        if share is not None and share > 1:
            raise FlexibilityInputError(f"{name}.min_green_share", "is a fraction: must be <= 1")
        short_price = _number(
            data.get("green_shortfall_price_per_mwh"),
            f"{name}.green_shortfall_price_per_mwh",
            minimum=0,
            allow_none=True,
        )
        return cls(
            id=str(data["id"]),
            zone=str(data["zone"]),
            grid_import_limit_kw=math.inf if imp is None else imp,
            grid_export_limit_kw=math.inf if exp is None else exp,
            pue=pue,
            pv_kw=None if pv is None else _array(pv, steps, f"{name}.pv_kw", nonnegative=True),
            workloads=workloads,
            batteries=tuple(batteries),
            it_capacity_kw=math.inf if it_cap is None else it_cap,
            min_green_share=share,
            green_shortfall_price_per_mwh=short_price,
            it_reserve_kw=None
            if reserve is None
            else _array(reserve, steps, f"{name}.it_reserve_kw", nonnegative=True),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        out: dict[str, Any] = {
            "id": self.id,
            "zone": self.zone,
            "grid_import_limit_kw": _limit_out(self.grid_import_limit_kw),
            "grid_export_limit_kw": _limit_out(self.grid_export_limit_kw),
            "pue": self.pue,
        }
        if self.pv_kw is not None:
            out["pv_kw"] = _list(self.pv_kw)
        out["workloads"] = [w.to_json() for w in self.workloads]
        if len(self.batteries) == 1:
            out["battery"] = self.batteries[0].to_json()
        elif self.batteries:
            out["batteries"] = [b.to_json() for b in self.batteries]
        if not math.isinf(self.it_capacity_kw):
            out["it_capacity_kw"] = self.it_capacity_kw
        if self.min_green_share is not None:
            out["min_green_share"] = self.min_green_share
        if self.green_shortfall_price_per_mwh is not None:
            out["green_shortfall_price_per_mwh"] = self.green_shortfall_price_per_mwh
        if self.it_reserve_kw is not None:
            out["it_reserve_kw"] = _list(self.it_reserve_kw)
        return out
