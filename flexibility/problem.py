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
                               "backlog_kwh": 1200 (optional), "backlog_due_steps": 8 (optional),
                               "min_power_fraction": 0.3 (optional, 0…1), "ramp_kw_per_min": 50 (optional),
                               "initial_kw": 4000 (optional), "migration_overhead": 0.05 (optional, kWh/kWh),
                               "migration_lead_steps": 1 (optional),
                               "queue": [{"energy_kwh": 900, "due_step": 4}, ...] (optional)}],
                "it_reserve_kw": [..steps] (optional),
                "battery": {...} (optional) or "batteries": [{...}, ...] (extension: several per site)}],
     "commitments": [{"id": "ev1", "sites": ["sj1"] or "all", "start_step": 68, "end_step": 84,
                      "reduction_kw": 3000, "shortfall_penalty_per_mwh": 2000}],
     "green_contracts": [{"id": "ppa1", "zone": "CAISO_NP15", "profile_kwh": [..steps], "price_per_mwh": 55,
                          "sites": "all" or ["sj1"], "take_or_pay": true}]}

Operating constraints (issue 17, all optional): a workload's ``min_power_fraction``, ``ramp_kw_per_min`` with
``initial_kw``, ``migration_overhead`` and ``migration_lead_steps``, its ``queue`` of waiting work with deadlines
(:class:`Workload`), a site's ``it_reserve_kw`` (:class:`Site`), and the problem's ``lateness_penalty_per_mwh``
(top level; absent/null = deadlines are hard; a number > 0 makes them soft: kWh behind a deadline cost that
much per MWh per hour late). Work still late at the end of the horizon is priced for the hours inside it
only, so a penalty below the energy price can leave work undone: choose it well above the prices. Without them
the problem and its LP are unchanged.

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

from flexibility.arrays import _array, _number
from flexibility.errors import FlexibilityInputError
from flexibility.green import GreenContract
from flexibility.market import Commitment, Zone
from flexibility.sites import Battery, Site, Workload, _check_backlog

__all__ = [
    "Battery",
    "Commitment",
    "Problem",
    "Site",
    "Workload",
    "Zone",
    "_array",
    "_number",
    "as_problem",
    "resolution_hours",
    "validate",
]

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
    lateness_penalty_per_mwh: float | None = None

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
            lateness_penalty_per_mwh=_lateness(data.get("lateness_penalty_per_mwh")),
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
        if self.lateness_penalty_per_mwh is not None:
            out["lateness_penalty_per_mwh"] = self.lateness_penalty_per_mwh
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


def _lateness(value: Any) -> float | None:
    """``lateness_penalty_per_mwh``: None (hard deadlines) or a finite number > 0 (currency per MWh per hour)."""
    x = _number(value, "lateness_penalty_per_mwh", allow_none=True)
    if x is not None and not (math.isfinite(x) and x > 0):
        raise FlexibilityInputError(
            "lateness_penalty_per_mwh", "must be a finite number > 0 (null keeps deadlines hard)"
        )
    return x


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
    _lateness(problem.lateness_penalty_per_mwh)
    if not problem.sites:
        raise FlexibilityInputError("sites", "at least one site is required")
    for name, z in problem.zones.items():
        _check_series(z.price_per_mwh, T, f"zones.{name}.price_per_mwh")
        _check_series(z.export_price_per_mwh, T, f"zones.{name}.export_price_per_mwh")
        _check_series(z.carbon_g_per_kwh, T, f"zones.{name}.carbon_g_per_kwh", nonnegative=True)
    for i, s in enumerate(problem.sites):
        if s.pv_kw is not None:
            _check_series(s.pv_kw, T, f"sites[{i}].pv_kw", nonnegative=True)
        if s.it_reserve_kw is not None:
            _check_series(s.it_reserve_kw, T, f"sites[{i}].it_reserve_kw", nonnegative=True)
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
