"""The scheduling problem: zones, sites, workloads, batteries, commitments (frozen dataclasses + JSON).

JSON format (issue 5; extended, never renamed)::

    {"start": "2022-09-06T07:00:00Z", "resolution": "PT15M", "steps": 96, "currency": "USD",
     "carbon_price_per_tonne": 0,
     "zones": {"CAISO_NP15": {"price_per_mwh": [..steps], "export_price_per_mwh": [..] (default price_per_mwh),
                              "carbon_g_per_kwh": [..] (default 0)}},
     "sites": [{"id": "sj1", "zone": "CAISO_NP15", "grid_import_limit_kw": 20000 (null/absent = unlimited),
                "grid_export_limit_kw": 0 (absent = 0, null = unlimited), "pue": 1.3, "pv_kw": [..] (optional),
                "workloads": [{"id": "inference", "baseline_kw": [..]},
                              {"id": "training", "baseline_kw": [..], "max_delay_steps": 32, "max_kw": 8000,
                               "migratable_to": ["dal1"],
                               "backlog_kwh": 1200 (optional), "backlog_due_steps": 8 (optional)}],
                "battery": {...} (optional) or "batteries": [{...}, ...] (extension: several per site)}],
     "commitments": [{"id": "ev1", "sites": ["sj1"] or "all", "start_step": 68, "end_step": 84,
                      "reduction_kw": 3000, "shortfall_penalty_per_mwh": 2000}],
     "green_contracts": [{"id": "ppa1", "zone": "CAISO_NP15", "profile_kwh": [..steps], "price_per_mwh": 55,
                          "sites": "all" or ["sj1"], "take_or_pay": true}]}

Green extension (issue 12, all optional): a zone's ``low_carbon_share`` ([..steps], fraction 0…1), a site's
``min_green_share`` (fraction) and ``green_shortfall_price_per_mwh`` (absent = hard constraint), and
``green_contracts`` (:class:`flexibility.green.GreenContract`). Without them the problem and its LP are unchanged.

Units: power kW, energy kWh, prices currency/MWh, carbon intensity gCO2/kWh. Sign: positive = consumption.
Arrays are read-only ``numpy.float64`` of shape ``(steps,)``.

Extensions beyond issue 5 (all optional): ``"batteries": [...]`` for several batteries per site; a workload
with ``migratable_to`` but no ``max_delay_steps`` runs at its baseline every step but may be served at any
allowed site (``max_delay_steps = 0``); a deferrable workload's ``backlog_kwh`` is work already waiting at the
start, due within ``backlog_due_steps`` (:class:`Workload`). Validation raises :class:`FlexibilityInputError` naming the field,
including the one input that makes the LP unbounded (export price above import price with both grid limits
unlimited).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flexibility.errors import FlexibilityInputError
from flexibility.green import GreenContract

_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def resolution_hours(resolution: str) -> float:
    """Length of one step in hours from an ISO 8601 time duration (``PT15M`` -> 0.25, ``PT1H`` -> 1.0).

    Raises:
        FlexibilityInputError: for anything but a positive ``PT…H…M…S`` duration.
    """
    m = _DURATION.match(resolution or "")
    if not m or not any(m.groups()):
        raise FlexibilityInputError(
            "resolution", f"expected an ISO 8601 duration like PT15M, got {resolution!r}"
        )
    hours = float(m.group(1) or 0) + float(m.group(2) or 0) / 60 + float(m.group(3) or 0) / 3600
    if hours <= 0:
        raise FlexibilityInputError("resolution", "must be positive")
    return hours


def _array(value: Any, steps: int, name: str, *, nonnegative: bool = False) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise FlexibilityInputError(name, f"expected a list of {steps} numbers") from exc
    if arr.shape != (steps,):
        raise FlexibilityInputError(name, f"expected {steps} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise FlexibilityInputError(name, "contains a non-finite value")
    if nonnegative and np.any(arr < 0):
        raise FlexibilityInputError(name, "must be >= 0")
    arr.setflags(write=False)
    return arr


def _number(value: Any, name: str, *, minimum: float | None = None, allow_none: bool = False) -> float | None:
    if value is None:
        if allow_none:
            return None
        raise FlexibilityInputError(name, "is required")
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise FlexibilityInputError(name, "expected a number") from exc
    if math.isnan(x):
        raise FlexibilityInputError(name, "is NaN")
    if minimum is not None and x < minimum:
        raise FlexibilityInputError(name, f"must be >= {minimum}")
    return x


def _list(value: np.ndarray) -> list[float]:
    return [float(v) for v in value]


def _limit_out(value: float) -> float | None:
    return None if math.isinf(value) else value


@dataclass(frozen=True, eq=False)
class Zone:
    """Market zone prices (currency/MWh) and grid carbon intensity (gCO2/kWh), each shape ``(steps,)``."""

    price_per_mwh: np.ndarray
    export_price_per_mwh: np.ndarray
    carbon_g_per_kwh: np.ndarray
    low_carbon_share: np.ndarray | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "zone") -> Zone:
        """Read a zone; ``export_price_per_mwh`` defaults to ``price_per_mwh``, carbon to 0, the optional
        ``low_carbon_share`` (fraction 0…1 of the grid mix that is carbon-free; green accounting) to none."""
        if "price_per_mwh" not in data:
            raise FlexibilityInputError(f"{name}.price_per_mwh", "is required")
        price = _array(data["price_per_mwh"], steps, f"{name}.price_per_mwh")
        export = data.get("export_price_per_mwh")
        carbon = data.get("carbon_g_per_kwh")
        low = data.get("low_carbon_share")
        if low is not None:
            low = _array(low, steps, f"{name}.low_carbon_share", nonnegative=True)
            if np.any(low > 1):
                raise FlexibilityInputError(f"{name}.low_carbon_share", "is a fraction: must be <= 1")
        return cls(
            price_per_mwh=price,
            export_price_per_mwh=price
            if export is None
            else _array(export, steps, f"{name}.export_price_per_mwh"),
            carbon_g_per_kwh=np.zeros(steps)
            if carbon is None
            else _array(carbon, steps, f"{name}.carbon_g_per_kwh", nonnegative=True),
            low_carbon_share=low,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        out = {
            "price_per_mwh": _list(self.price_per_mwh),
            "export_price_per_mwh": _list(self.export_price_per_mwh),
            "carbon_g_per_kwh": _list(self.carbon_g_per_kwh),
        }
        if self.low_carbon_share is not None:
            out["low_carbon_share"] = _list(self.low_carbon_share)
        return out


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
    """

    id: str
    baseline_kw: np.ndarray
    max_delay_steps: int | None = None
    max_kw: float | None = None
    migratable_to: tuple[str, ...] = ()
    backlog_kwh: float = 0.0
    backlog_due_steps: int | None = None

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
        return out


def _check_backlog(w: Workload, name: str) -> None:
    """A backlog must be a finite kWh >= 0 of a deferrable workload, with a positive integer due step."""
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
        return out


@dataclass(frozen=True, eq=False)
class Commitment:
    """An obligation of the listed sites together to stay ``reduction_kw`` below their baseline grid power
    in steps ``[start_step, end_step)``; any shortfall (kW) costs ``shortfall_penalty_per_mwh``."""

    id: str
    sites: tuple[str, ...] | str
    start_step: int
    end_step: int
    reduction_kw: float
    shortfall_penalty_per_mwh: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any], steps: int, name: str = "commitment") -> Commitment:
        """Read and validate the JSON dict; raises FlexibilityInputError naming the field."""
        if not data.get("id"):
            raise FlexibilityInputError(f"{name}.id", "is required")
        sites = data.get("sites", "all")
        if sites != "all":
            if isinstance(sites, str) or not isinstance(sites, Sequence) or not sites:
                raise FlexibilityInputError(f"{name}.sites", 'must be "all" or a non-empty list of site ids')
            sites = tuple(str(s) for s in sites)
        start, end = data.get("start_step"), data.get("end_step")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= steps:
            raise FlexibilityInputError(
                f"{name}.start_step", f"need integers 0 <= start_step < end_step <= {steps}"
            )
        return cls(
            id=str(data["id"]),
            sites=sites,
            start_step=start,
            end_step=end,
            reduction_kw=float(_number(data.get("reduction_kw"), f"{name}.reduction_kw")),  # type: ignore[arg-type]
            shortfall_penalty_per_mwh=float(
                _number(data.get("shortfall_penalty_per_mwh"), f"{name}.shortfall_penalty_per_mwh", minimum=0)  # type: ignore[arg-type]
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (issue 5 field names); ``from_json`` reads it back."""
        return {
            "id": self.id,
            "sites": self.sites if isinstance(self.sites, str) else list(self.sites),
            "start_step": self.start_step,
            "end_step": self.end_step,
            "reduction_kw": self.reduction_kw,
            "shortfall_penalty_per_mwh": self.shortfall_penalty_per_mwh,
        }


@dataclass(frozen=True, eq=False)
class Problem:
    """A whole scheduling problem over ``steps`` intervals of ``resolution`` starting at ``start`` (UTC ISO 8601)."""

    start: str
    resolution: str
    steps: int
    zones: dict[str, Zone]
    sites: tuple[Site, ...]
    currency: str = "USD"
    carbon_price_per_tonne: float = 0.0
    commitments: tuple[Commitment, ...] = field(default=())
    green_contracts: tuple[GreenContract, ...] = field(default=())

    @property
    def dt_hours(self) -> float:
        """Step length in hours."""
        return resolution_hours(self.resolution)

    def site_index(self) -> dict[str, int]:
        """Map site id -> position in ``sites``."""
        return {s.id: i for i, s in enumerate(self.sites)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        """Read and validate a problem dict (the JSON format in the module docstring).

        Raises:
            FlexibilityInputError: naming the first offending field.
        """
        if not isinstance(data, Mapping):
            raise FlexibilityInputError("problem", "expected a JSON object")
        steps = data.get("steps")
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise FlexibilityInputError("steps", "must be a positive integer")
        resolution = str(data.get("resolution", "PT15M"))
        resolution_hours(resolution)
        zones_in = data.get("zones")
        if not isinstance(zones_in, Mapping) or not zones_in:
            raise FlexibilityInputError("zones", "at least one zone is required")
        zones = {str(k): Zone.from_json(v, steps, f"zones.{k}") for k, v in zones_in.items()}
        sites = tuple(Site.from_json(s, steps, f"sites[{i}]") for i, s in enumerate(data.get("sites") or ()))
        if not sites:
            raise FlexibilityInputError("sites", "at least one site is required")
        commitments = tuple(
            Commitment.from_json(c, steps, f"commitments[{i}]")
            for i, c in enumerate(data.get("commitments") or ())
        )
        contracts = tuple(
            GreenContract.from_json(c, steps, f"green_contracts[{i}]")
            for i, c in enumerate(data.get("green_contracts") or ())
        )
        _check_references(steps, zones, sites, commitments, contracts)
        return cls(
            start=str(data.get("start", "1970-01-01T00:00:00Z")),
            resolution=resolution,
            steps=steps,
            zones=zones,
            sites=sites,
            currency=str(data.get("currency", "USD")),
            carbon_price_per_tonne=float(
                _number(data.get("carbon_price_per_tonne", 0.0), "carbon_price_per_tonne")  # type: ignore[arg-type]
            ),
            commitments=commitments,
            green_contracts=contracts,
        )

    def to_json(self) -> dict[str, Any]:
        """The problem as a JSON-ready dict; ``Problem.from_json(p.to_json())`` reproduces it."""
        out: dict[str, Any] = {
            "start": self.start,
            "resolution": self.resolution,
            "steps": self.steps,
            "currency": self.currency,
            "carbon_price_per_tonne": self.carbon_price_per_tonne,
            "zones": {k: z.to_json() for k, z in self.zones.items()},
            "sites": [s.to_json() for s in self.sites],
            "commitments": [c.to_json() for c in self.commitments],
        }
        if self.green_contracts:
            out["green_contracts"] = [c.to_json() for c in self.green_contracts]
        return out

    def contract_sites(self) -> list[list[int]]:
        """Per green contract, the indices of the sites that may match its energy (its ``sites`` within its zone)."""
        out = []
        for c in self.green_contracts:
            out.append(
                [
                    i
                    for i, s in enumerate(self.sites)
                    if s.zone == c.zone and (c.sites == "all" or s.id in c.sites)
                ]
            )
        return out


def _check_references(
    steps: int,
    zones: Mapping[str, Zone],
    sites: Sequence[Site],
    commitments: Sequence[Commitment],
    contracts: Sequence[GreenContract] = (),
) -> None:
    """Cross-field checks shared by :meth:`Problem.from_json` and :meth:`Problem.validate`."""
    ids = [s.id for s in sites]
    if len(set(ids)) != len(ids):
        raise FlexibilityInputError("sites", "site ids must be unique")
    known = set(ids)
    for i, s in enumerate(sites):
        if s.zone not in zones:
            raise FlexibilityInputError(f"sites[{i}].zone", f"unknown zone {s.zone!r}")
        for j, w in enumerate(s.workloads):
            for dest in w.migratable_to:
                if dest not in known:
                    raise FlexibilityInputError(
                        f"sites[{i}].workloads[{j}].migratable_to", f"unknown site {dest!r}"
                    )
        z = zones[s.zone]
        unlimited = math.isinf(s.grid_import_limit_kw) and math.isinf(s.grid_export_limit_kw)
        if unlimited and np.any(z.export_price_per_mwh > z.price_per_mwh):
            raise FlexibilityInputError(
                f"zones.{s.zone}.export_price_per_mwh",
                f"above price_per_mwh while site {s.id} has unlimited import and export: buying and "
                "selling at once would earn without bound; set a grid limit",
            )
    for i, c in enumerate(commitments):
        if c.sites != "all" and not set(c.sites) <= known:
            raise FlexibilityInputError(f"commitments[{i}].sites", f"unknown site in {list(c.sites)}")
        if not 0 <= c.start_step < c.end_step <= steps:
            raise FlexibilityInputError(
                f"commitments[{i}].start_step", f"need 0 <= start_step < end_step <= {steps}"
            )
    contract_ids = [c.id for c in contracts]
    if len(set(contract_ids)) != len(contract_ids):
        raise FlexibilityInputError("green_contracts", "contract ids must be unique")
    zone_of = {s.id: s.zone for s in sites}
    for i, gc in enumerate(contracts):
        if gc.zone not in zones:
            raise FlexibilityInputError(f"green_contracts[{i}].zone", f"unknown zone {gc.zone!r}")
        if gc.sites == "all":
            if gc.zone not in zone_of.values():
                raise FlexibilityInputError(f"green_contracts[{i}].zone", f"no site in zone {gc.zone!r}")
        else:
            for sid in gc.sites:
                if sid not in known:
                    raise FlexibilityInputError(f"green_contracts[{i}].sites", f"unknown site {sid!r}")
                if zone_of[sid] != gc.zone:
                    raise FlexibilityInputError(
                        f"green_contracts[{i}].sites",
                        f"site {sid!r} is in zone {zone_of[sid]!r}, not the contract's zone {gc.zone!r}: "
                        "contracted energy is delivered in its own zone",
                    )


def _check_series(value: Any, steps: int, name: str, *, nonnegative: bool = False) -> None:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (steps,):
        raise FlexibilityInputError(name, f"expected {steps} values, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise FlexibilityInputError(name, "contains a non-finite value")
    if nonnegative and np.any(arr < 0):
        raise FlexibilityInputError(name, "must be >= 0")


def validate(problem: Problem) -> Problem:
    """Check a directly constructed :class:`Problem` as :meth:`Problem.from_json` would (series lengths,
    finiteness, signs, references, unboundedness), so that bad input is reported by field, not by a numpy
    traceback. Returns the problem unchanged.

    Raises:
        FlexibilityInputError: naming the first offending field.
    """
    T = problem.steps
    if not isinstance(T, int) or T < 1:
        raise FlexibilityInputError("steps", "must be a positive integer")
    resolution_hours(problem.resolution)
    if not problem.sites:
        raise FlexibilityInputError("sites", "at least one site is required")
    for name, z in problem.zones.items():
        _check_series(z.price_per_mwh, T, f"zones.{name}.price_per_mwh")
        _check_series(z.export_price_per_mwh, T, f"zones.{name}.export_price_per_mwh")
        _check_series(z.carbon_g_per_kwh, T, f"zones.{name}.carbon_g_per_kwh", nonnegative=True)
    for i, s in enumerate(problem.sites):
        if s.pv_kw is not None:
            _check_series(s.pv_kw, T, f"sites[{i}].pv_kw", nonnegative=True)
        for j, w in enumerate(s.workloads):
            _check_series(w.baseline_kw, T, f"sites[{i}].workloads[{j}].baseline_kw", nonnegative=True)
            _check_backlog(w, f"sites[{i}].workloads[{j}]")
        if s.min_green_share is not None and not 0 <= s.min_green_share <= 1:
            raise FlexibilityInputError(f"sites[{i}].min_green_share", "is a fraction: must be in [0, 1]")
        if not s.it_capacity_kw >= 0:  # also refuses NaN
            raise FlexibilityInputError(f"sites[{i}].it_capacity_kw", "must be >= 0 (inf = unlimited)")
        for j, b in enumerate(s.batteries):
            for key in ("charge_efficiency", "discharge_efficiency"):
                if not 0 < getattr(b, key) <= 1:
                    raise FlexibilityInputError(f"sites[{i}].batteries[{j}].{key}", "must be in (0, 1]")
    for name, z in problem.zones.items():
        if z.low_carbon_share is not None:
            _check_series(z.low_carbon_share, T, f"zones.{name}.low_carbon_share", nonnegative=True)
    for i, c in enumerate(problem.green_contracts):
        _check_series(c.profile_kwh, T, f"green_contracts[{i}].profile_kwh", nonnegative=True)
    _check_references(T, problem.zones, problem.sites, problem.commitments, problem.green_contracts)
    return problem


def as_problem(problem: Problem | Mapping[str, Any]) -> Problem:
    """Accept a :class:`Problem` (checked with :func:`validate`) or its JSON dict (read with ``from_json``)."""
    return validate(problem) if isinstance(problem, Problem) else Problem.from_json(problem)
